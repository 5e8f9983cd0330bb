/** Contract of the Threat Scan, Remove Threats (server/threat-scan/) and the Exchange Online set-up (server/exchange-setup/). */
import { z } from 'zod';
import { powershellQuery } from '../../exchange-setup/routes';
import { continuousBody, remediateBody, startBody, undoBody } from '../../threat-scan/routes';
import type { Contract } from './contract';

const Scan = z.object({ id: z.string(), state: z.string() }).loose().meta({ id: 'ThreatScan' });
const Remediation = z.object({ id: z.string() }).loose().meta({ id: 'ThreatRemediation' });
const Report = z.object({}).loose().meta({ id: 'ThreatScanReport' });
const Line = z.object({ command: z.string(), explanation: z.string() }).loose();

const Continuous = z
  .object({
    enabled: z.boolean(),
    choice: z.enum(['automatic', 'on', 'off']),
    mode: z.string().nullable(),
    reason: z.string(),
    missingPermission: z.string().nullable(),
    lastPassAt: z.string().nullable(),
    mailboxes: z.number(),
  })
  .loose()
  .meta({ id: 'ContinuousProtection' });
const Detection = z.object({ id: z.string(), verdict: z.string(), outcome: z.string() }).loose();

export function registerThreatScan(c: Contract): void {
  c.operation({
    method: 'get',
    path: '/api/continuous-protection',
    summary:
      'Continuous protection through Graph delta: on or off and why (on by default in Monitor/Protect), missing permission, last pass, mailboxes followed',
    access: 'reader',
    ok: { status: 200, schema: Continuous },
  });
  c.operation({
    method: 'put',
    path: '/api/continuous-protection',
    summary: 'Opt out of continuous protection, or switch it on in another mode (needs Mail.Read; Protect moves need Mail.ReadWrite)',
    access: 'full',
    body: continuousBody,
    ok: { status: 200, schema: Continuous },
    errors: [403, 409],
  });
  c.operation({
    method: 'get',
    path: '/api/continuous-protection/detections',
    summary: 'The detections log of continuous protection (newest first)',
    access: 'reader',
    ok: { status: 200, schema: z.object({ items: z.array(Detection) }) },
  });
  c.operation({
    method: 'post',
    path: '/api/threat-scans',
    summary: 'Start a Threat Scan',
    access: 'full',
    body: startBody,
    ok: { status: 202, schema: Scan },
    errors: [409],
  });
  c.operation({
    method: 'get',
    path: '/api/threat-scans',
    summary: 'The scans and their progress',
    access: 'reader',
    ok: { status: 200, schema: z.object({ items: z.array(Scan) }) },
  });
  c.operation({ method: 'get', path: '/api/threat-scans/:id', summary: 'One scan and its progress', access: 'reader', ok: { status: 200, schema: Scan } });
  c.operation({
    method: 'post',
    path: '/api/threat-scans/:id/end',
    summary: 'End Scan: stop; the report covers what was scanned',
    access: 'full',
    ok: { status: 200, schema: Scan },
    errors: [409],
  });
  c.operation({
    method: 'post',
    path: '/api/threat-scans/:id/resume',
    summary: 'Resume an ended scan where it stopped',
    access: 'full',
    ok: { status: 202, schema: Scan },
    errors: [409],
  });
  c.operation({ method: 'get', path: '/api/threat-scans/:id/report', summary: 'The scan report', access: 'reader', ok: { status: 200, schema: Report } });
  c.operation({
    method: 'get',
    path: '/api/threat-scans/:id/report.csv',
    summary: 'The scan report as formula-safe CSV',
    access: 'reader',
    ok: { status: 200, contentType: 'text/csv', schema: z.string() },
  });
  c.operation({
    method: 'post',
    path: '/api/threat-scans/:id/remediate',
    summary: 'Remove Threats (soft delete to quarantine, junk, or hard delete with confirm)',
    access: 'full',
    body: remediateBody,
    ok: { status: 202, schema: Remediation },
    errors: [409],
  });
  c.operation({
    method: 'post',
    path: '/api/threat-scans/:id/undo',
    summary: 'Move removed messages back',
    access: 'full',
    body: undoBody,
    ok: { status: 202, schema: Remediation },
    errors: [409],
  });
  c.operation({
    method: 'get',
    path: '/api/threat-scans/:id/remediations',
    summary: 'The scan’s remediations',
    access: 'reader',
    ok: { status: 200, schema: z.object({ items: z.array(Remediation) }) },
  });
  c.operation({
    method: 'get',
    path: '/api/threat-scans/:id/remediations/:rid',
    summary: 'One remediation’s progress',
    access: 'reader',
    ok: { status: 200, schema: Remediation },
  });
  c.operation({
    method: 'get',
    path: '/api/exchange-setup/powershell',
    summary: 'The Exchange Online PowerShell for this tenant, explained, with its undo',
    access: 'reader',
    query: powershellQuery,
    ok: { status: 200, schema: z.object({ apply: z.array(Line), undo: z.array(Line) }) },
  });
}
