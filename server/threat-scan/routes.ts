/** Threat Scan HTTP API (full administrators start, end, resume and remediate; any admin reads). */
import { Router } from 'express';
import { z } from 'zod';
import { requestContext } from '../auth/identity';
import { currentAdmin, requireAdmin } from '../auth/middleware';
import type { AuthService } from '../auth/service';
import { HttpProblem } from '../http/problem';
import { parseBody } from '../http/validate';
import { VERDICTS } from './judge';
import type { ThreatScanService } from './index';

const ids = z.array(z.string().trim().min(1).max(200)).max(10_000);
export const startBody = z
  .object({
    days: z.number().int().min(1).max(30).default(30),
    targets: z
      .object({ groupIds: ids.default([]), userIds: ids.default([]) })
      .strict()
      .refine((t) => t.groupIds.length + t.userIds.length > 0, 'must name at least one group or user (leave targets out to scan every mailbox)')
      .optional(),
  })
  .strict();
export const remediateBody = z
  .object({
    ids: ids.min(1).optional(),
    verdicts: z.array(z.enum(VERDICTS)).min(1).optional(),
    action: z.enum(['softDelete', 'junk', 'hardDelete']),
    confirm: z.boolean().optional(),
  })
  .strict()
  .refine((b) => !(b.ids && b.verdicts), { message: 'give ids or verdicts, not both', path: ['ids'] });
export const undoBody = z.object({ ids: ids.min(1).optional() }).strict();
export const continuousBody = z.object({ enabled: z.boolean() }).strict();

export function threatScanRoutes(deps: { auth: AuthService; scans: ThreatScanService }): Router {
  const { scans } = deps;
  const router = Router();
  const full = requireAdmin(deps.auth, 'fullAdministrator');
  const read = requireAdmin(deps.auth);
  const continuous = () => {
    if (!scans.continuous) throw new HttpProblem(503, 'Service Unavailable', 'Continuous protection is not composed in this server.');
    return scans.continuous;
  };

  router.get('/api/continuous-protection', read, async (req, res) => {
    res.json(await continuous().settings(currentAdmin(req).tenantId));
  });
  router.put('/api/continuous-protection', full, async (req, res) => {
    const body = parseBody(continuousBody, req);
    res.json(await continuous().setEnabled(currentAdmin(req), body.enabled, requestContext(req)));
  });
  router.get('/api/continuous-protection/detections', read, async (req, res) => {
    res.json({ items: await continuous().detections(currentAdmin(req).tenantId) });
  });
  router.post('/api/threat-scans', full, async (req, res) => {
    const body = parseBody(startBody, req);
    res.status(202).json(await scans.startScan(currentAdmin(req), body, requestContext(req)));
  });
  router.get('/api/threat-scans', read, async (req, res) => {
    res.json({ items: await scans.list(currentAdmin(req).tenantId) });
  });
  router.get('/api/threat-scans/:id', read, async (req, res) => {
    res.json(await scans.view(currentAdmin(req).tenantId, String(req.params.id)));
  });
  router.post('/api/threat-scans/:id/end', full, async (req, res) => {
    res.json(await scans.end(currentAdmin(req), String(req.params.id), requestContext(req)));
  });
  router.post('/api/threat-scans/:id/resume', full, async (req, res) => {
    res.status(202).json(await scans.resume(currentAdmin(req), String(req.params.id), requestContext(req)));
  });
  router.get('/api/threat-scans/:id/report', read, async (req, res) => {
    res.json(await scans.report(currentAdmin(req).tenantId, String(req.params.id)));
  });
  router.get('/api/threat-scans/:id/report.csv', read, async (req, res) => {
    const csv = await scans.reportCsv(currentAdmin(req).tenantId, String(req.params.id));
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="threat-scan-${String(req.params.id)}.csv"`);
    res.send(csv);
  });
  router.post('/api/threat-scans/:id/remediate', full, async (req, res) => {
    const body = parseBody(remediateBody, req);
    res.status(202).json(await scans.remediation.remediate(currentAdmin(req), String(req.params.id), body, requestContext(req)));
  });
  router.post('/api/threat-scans/:id/undo', full, async (req, res) => {
    const body = parseBody(undoBody, req);
    res.status(202).json(await scans.remediation.undo(currentAdmin(req), String(req.params.id), body.ids, requestContext(req)));
  });
  router.get('/api/threat-scans/:id/remediations', read, async (req, res) => {
    res.json({ items: await scans.remediation.list(currentAdmin(req).tenantId, String(req.params.id)) });
  });
  router.get('/api/threat-scans/:id/remediations/:rid', read, async (req, res) => {
    res.json(await scans.remediation.get(currentAdmin(req).tenantId, String(req.params.id), String(req.params.rid)));
  });
  return router;
}
