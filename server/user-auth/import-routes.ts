/**
 * HTTP for the cloud-password spreadsheet import: the file is the request body (CSV or XLSX, at most
 * IMPORT_LIMITS.bytes); `?apply=true` applies, anything else is the dry run. The generated passwords
 * file is fetched once.
 */
import express, { Router } from 'express';
import { z } from 'zod';
import { requestContext } from '../auth/identity';
import { currentAdmin, requireAdmin } from '../auth/middleware';
import type { AuthService } from '../auth/service';
import { unprocessable } from '../http/problem';
import { parseQuery } from '../http/validate';
import { IMPORT_LIMITS, type PasswordImport } from './import';

export const importQuery = z.object({ apply: z.enum(['true', 'false']).optional() });

export function passwordImportRoutes(deps: { auth: AuthService; passwordImport: PasswordImport }): Router {
  const { auth, passwordImport } = deps;
  const router = Router();
  const writer = requireAdmin(auth, 'basicAdministrator');
  const raw = express.raw({ type: () => true, limit: IMPORT_LIMITS.bytes });

  router.post('/api/users/cloud-passwords/import', writer, raw, async (req, res) => {
    const { apply } = parseQuery(importQuery, req);
    if (!Buffer.isBuffer(req.body)) throw unprocessable([{ path: 'file', message: 'must be the CSV or XLSX file as the request body' }]);
    res.setHeader('Cache-Control', 'no-store');
    if (apply === 'true') res.json(await passwordImport.apply(currentAdmin(req), req.body, requestContext(req)));
    else res.json(await passwordImport.dryRun(currentAdmin(req).tenantId, req.body));
  });

  router.get('/api/users/cloud-passwords/generated/:token', writer, (req, res) => {
    const csv = passwordImport.takeDownload(currentAdmin(req).tenantId, String(req.params.token));
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    res.setHeader('Content-Disposition', 'attachment; filename="lifeboat-generated-cloud-passwords.csv"');
    res.send(csv);
  });

  return router;
}
