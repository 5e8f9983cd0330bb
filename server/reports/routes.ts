/** GET /api/events/:id/report (JSON) and /report.csv: an event's post-incident report, for any admin of its tenant. */
import { Router } from 'express';
import { currentAdmin, requireAdmin } from '../auth/middleware';
import type { AuthService } from '../auth/service';
import type { ReportService } from './service';

export function reportRoutes(deps: { auth: AuthService; reports: ReportService }): Router {
  const { auth, reports } = deps;
  const router = Router();
  const reader = requireAdmin(auth);

  router.get('/api/events/:id/report', reader, async (req, res) => {
    res.json(await reports.report(currentAdmin(req).tenantId, String(req.params.id)));
  });

  router.get('/api/events/:id/report.csv', reader, async (req, res) => {
    const id = String(req.params.id);
    const rows = reports.csv(currentAdmin(req).tenantId, id);
    // The first row is read before any header goes out, so an unknown event is still a clean 404.
    const first = await rows.next();
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="lifeboat-event-report-${id.replace(/[^A-Za-z0-9]/g, '')}.csv"`);
    if (!first.done) res.write(first.value);
    for await (const row of rows) res.write(row);
    res.end();
  });

  return router;
}
