/**
 * The Graph application permissions the Threat Scan and remediation need, checked against what the
 * tenant actually granted (the permission probe) before any work starts, so a missing one is a clear
 * 4xx naming it rather than a scan full of 403s.
 */
import { HttpProblem } from '../http/problem';
import type { GraphApi } from '../directory/graph/client';
import { probePermissions, REQUIRED_PERMISSIONS } from '../directory/graph/permissions';

// The probe's own entries, so the scan's refusal and the permission list never disagree.
const entry = (name: string) => REQUIRED_PERMISSIONS.find((p) => p.permission === name)!;
export const SCAN_PERMISSIONS = { scan: entry('Mail.Read'), remediate: entry('Mail.ReadWrite') };

export async function requirePermission(api: GraphApi, clientId: string, need: keyof typeof SCAN_PERMISSIONS): Promise<void> {
  const { granted } = await probePermissions(api, clientId);
  const p = SCAN_PERMISSIONS[need];
  if (p.satisfiedBy.some((name) => granted.includes(name))) return;
  throw new HttpProblem(
    403,
    'Forbidden',
    `Lifeboat's app registration lacks the Microsoft Graph application permission ${p.permission} (needed for ${p.neededFor.replace(/\.$/, '')}). Grant it with admin consent in Entra ID, then try again.`,
    { missingPermission: p.permission, granted },
  );
}
