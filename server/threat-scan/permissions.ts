/**
 * The Graph application permissions the Threat Scan and remediation need, checked against what the
 * tenant actually granted (the permission probe) before any work starts, so a missing one is a clear
 * 4xx naming it rather than a scan full of 403s.
 */
import { HttpProblem } from '../http/problem';
import type { GraphApi } from '../directory/graph/client';
import { probePermissions } from '../directory/graph/permissions';

export const SCAN_PERMISSIONS = {
  scan: { permission: 'Mail.Read', satisfiedBy: ['Mail.Read', 'Mail.ReadWrite'], neededFor: "the Threat Scan: reading each message's MIME" },
  remediate: { permission: 'Mail.ReadWrite', satisfiedBy: ['Mail.ReadWrite'], neededFor: 'Remove Threats: moving and deleting messages' },
} as const;

export async function requirePermission(api: GraphApi, clientId: string, need: keyof typeof SCAN_PERMISSIONS): Promise<void> {
  const { granted } = await probePermissions(api, clientId);
  const p = SCAN_PERMISSIONS[need];
  if (p.satisfiedBy.some((name) => granted.includes(name))) return;
  throw new HttpProblem(
    403,
    'Forbidden',
    `Lifeboat's app registration lacks the Microsoft Graph application permission ${p.permission} (needed for ${p.neededFor}). Grant it with admin consent in Entra ID, then try again.`,
    { missingPermission: p.permission, granted },
  );
}
