/**
 * The permission probe: the application permissions actually granted to Lifeboat's app (its service
 * principal's app role assignments on Microsoft Graph) against what Lifeboat needs.
 */
import { GraphRequestError, type GraphApi } from './client';

export const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';

export interface RequiredPermission {
  permission: string;
  /** Granted permissions that include this one (the permission itself first). */
  satisfiedBy: string[];
  neededFor: string;
  /** Only an optional feature needs it (the Threat Scan and remediation): continuity works without it. */
  optional?: boolean;
}

export const REQUIRED_PERMISSIONS: RequiredPermission[] = [
  {
    permission: 'GroupMember.Read.All',
    satisfiedBy: ['GroupMember.Read.All', 'Group.Read.All', 'Group.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
    neededFor: 'Reading groups and their members: the affected-group picker and distribution-list expansion.',
  },
  {
    permission: 'User.Read.All',
    satisfiedBy: ['User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
    neededFor: 'Reading users and every address they receive mail at (mail and proxy addresses), and the user picker.',
  },
  {
    permission: 'Domain.Read.All',
    satisfiedBy: ['Domain.Read.All', 'Domain.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
    neededFor: "Reading the tenant's verified (accepted) domains, which decide the mail Lifeboat accepts.",
  },
  {
    permission: 'Mail.Send',
    satisfiedBy: ['Mail.Send'],
    neededFor: 'The continuity monitor: sending its test messages from a licensed mailbox.',
  },
  {
    permission: 'Mail.ReadBasic.All',
    satisfiedBy: ['Mail.ReadBasic.All', 'Mail.Read', 'Mail.ReadWrite'],
    neededFor: 'The continuity monitor: seeing that its test messages arrived, and when.',
  },
  {
    permission: 'Mail.Read',
    satisfiedBy: ['Mail.Read', 'Mail.ReadWrite'],
    neededFor: "The Threat Scan and continuous protection: reading each message's MIME to judge it.",
    optional: true,
  },
  {
    permission: 'Mail.ReadWrite',
    satisfiedBy: ['Mail.ReadWrite'],
    neededFor: 'Remove Threats and Protect mode: moving threats to quarantine or Junk, deleting them, and undo.',
    optional: true,
  },
  {
    permission: 'Application.Read.All',
    satisfiedBy: ['Application.Read.All', 'Application.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
    neededFor: "This permission check itself: reading the app's service principal and the permissions granted to it.",
  },
];

const PROBE_PERMISSION = 'Application.Read.All';

export interface PermissionCheck {
  permission: string;
  /** unknown: Graph refused the probe (no Application.Read.All), so nothing else could be read. */
  status: 'granted' | 'missing' | 'unknown';
  grantedAs: string | null;
  neededFor: string;
  optional: boolean;
}

export interface PermissionProbe {
  checkedAt: string;
  granted: string[];
  permissions: PermissionCheck[];
  /** Why the granted permissions could not be read, when Graph refused. */
  refused: string | null;
}

export async function probePermissions(api: GraphApi, clientId: string): Promise<PermissionProbe> {
  try {
    return await readGranted(api, clientId);
  } catch (err) {
    // Graph answers 403 to reading service principals without Application.Read.All (or Directory.Read.All).
    if (!(err instanceof GraphRequestError) || err.status !== 403) throw err;
    return {
      checkedAt: new Date().toISOString(),
      granted: [],
      permissions: REQUIRED_PERMISSIONS.map((p) => ({
        permission: p.permission,
        status: p.permission === PROBE_PERMISSION ? 'missing' : 'unknown',
        grantedAs: null,
        neededFor: p.neededFor,
        optional: p.optional ?? false,
      })),
      refused: `Microsoft Graph refused to list the app's permissions: grant ${PROBE_PERMISSION} (application) and consent, then check again.`,
    };
  }
}

async function readGranted(api: GraphApi, clientId: string): Promise<PermissionProbe> {
  const sp = await api.get<{ id: string }>(`/servicePrincipals(appId='${encodeURIComponent(clientId)}')?$select=id,appId`);
  const graphSp = await api.get<{ id: string; appRoles: Array<{ id: string; value: string }> }>(
    `/servicePrincipals(appId='${GRAPH_APP_ID}')?$select=id,appRoles`,
  );
  const roleNames = new Map(graphSp.appRoles.map((r) => [r.id, r.value]));
  const granted = new Set<string>();
  for await (const page of api.pages<{ appRoleId: string; resourceId: string }>(`/servicePrincipals/${encodeURIComponent(sp.id)}/appRoleAssignments`)) {
    for (const a of page.value) {
      const name = a.resourceId === graphSp.id ? roleNames.get(a.appRoleId) : undefined;
      if (name) granted.add(name);
    }
  }
  return {
    checkedAt: new Date().toISOString(),
    granted: [...granted].sort(),
    permissions: REQUIRED_PERMISSIONS.map((p) => {
      const grantedAs = p.satisfiedBy.find((name) => granted.has(name)) ?? null;
      return { permission: p.permission, status: grantedAs ? 'granted' : 'missing', grantedAs, neededFor: p.neededFor, optional: p.optional ?? false };
    }),
    refused: null,
  };
}
