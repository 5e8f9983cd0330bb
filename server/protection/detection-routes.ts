/**
 * The detections log for admins (GET /api/protection/detections, its CSV export and the verdicts-per-hour
 * series) and the users' Report phishing (POST /api/me/mailbox/:id/report-phishing).
 */
import { Router } from 'express';
import { z } from 'zod';
import { requestContext } from '../auth/identity';
import { currentAdmin, requireAdmin } from '../auth/middleware';
import type { AuthService } from '../auth/service';
import { parseBody, parseQuery } from '../http/validate';
import { currentUser } from '../user-auth/identity';
import { requireUser } from '../user-auth/middleware';
import type { UserAuthService } from '../user-auth/service';
import type { Detections, ReportedMessage } from './detections';
import { VERDICTS } from './verdict';

const isoDate = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' }).transform((s) => new Date(s));

export const detectionsQuery = z.object({
  verdict: z.enum([...VERDICTS, 'threats']).optional(),
  kind: z.enum(['verdict', 'report']).optional(),
  from: isoDate.optional(),
  to: isoDate.optional(),
  cursor: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(200).optional(),
});
export const exportQuery = detectionsQuery.omit({ cursor: true, limit: true });
export const seriesQuery = z.object({ range: z.enum(['24h', '7d']).default('24h') });
export const reportPhishingBody = z.object({ comment: z.string().trim().max(500).default('') });

export function detectionRoutes(deps: {
  auth: AuthService;
  userAuth: UserAuthService;
  detections: Detections;
  /** The mailbox's read of one of the user's messages (404 when it is not theirs). */
  readMessage: (user: ReturnType<typeof currentUser>, id: string) => Promise<ReportedMessage>;
}): Router {
  const { auth, detections } = deps;
  const router = Router();
  const reader = requireAdmin(auth);

  router.get('/api/protection/detections', reader, async (req, res) => {
    res.json(await detections.list(currentAdmin(req).tenantId, parseQuery(detectionsQuery, req)));
  });
  router.get('/api/protection/detections/export.csv', reader, async (req, res) => {
    const rows = detections.csv(currentAdmin(req).tenantId, parseQuery(exportQuery, req));
    // The first row is read before any header goes out, so a failure is still a clean problem answer.
    const first = await rows.next();
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    res.setHeader('Content-Disposition', 'attachment; filename="lifeboat-detections.csv"');
    if (!first.done) res.write(first.value);
    for await (const row of rows) res.write(row);
    res.end();
  });
  router.get('/api/protection/detections/series', reader, async (req, res) => {
    res.json(await detections.series(currentAdmin(req).tenantId, parseQuery(seriesQuery, req).range));
  });

  router.post('/api/me/mailbox/:id/report-phishing', requireUser(deps.userAuth), async (req, res) => {
    const body = parseBody(reportPhishingBody, req);
    const user = currentUser(req);
    const message = await deps.readMessage(user, String(req.params.id));
    const report = await detections.reportPhishing(user, message, body.comment, requestContext(req));
    res.status(report.alreadyReported ? 200 : 201).json(report);
  });
  return router;
}
