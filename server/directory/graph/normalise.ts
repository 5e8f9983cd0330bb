/**
 * A Graph `/users/delta` or `/groups/delta` entry turned into the sync's source shape: lower-cased
 * mail, every SMTP address, member additions and removals by kind. Pure; sync.ts stores the result.
 */
import type { SourceGroup, SourceUser } from './directory-model';
import { mailAddresses } from './store';

export interface GraphEntry {
  id: string;
  '@removed'?: unknown;
  displayName?: string;
  mail?: string | null;
  proxyAddresses?: string[];
  userPrincipalName?: string | null;
  mobilePhone?: string | null;
  businessPhones?: string[] | null;
  otherMails?: string[] | null;
  groupTypes?: string[];
  mailEnabled?: boolean;
  securityEnabled?: boolean;
  membershipRule?: string | null;
  'members@delta'?: Array<{ '@odata.type'?: string; id: string; '@removed'?: unknown }>;
}

export function normaliseUser(e: GraphEntry): SourceUser {
  if (e['@removed']) return { id: e.id, removed: true };
  return {
    id: e.id,
    displayName: e.displayName ?? '',
    mail: e.mail?.toLowerCase() ?? null,
    addresses: mailAddresses(e.mail, e.proxyAddresses),
    userPrincipalName: e.userPrincipalName ?? null,
    mobilePhone: e.mobilePhone ?? null,
    businessPhones: e.businessPhones ?? [],
    otherMails: e.otherMails ?? [],
  };
}

export function normaliseGroup(e: GraphEntry): SourceGroup {
  const members = e['members@delta'];
  if (e['@removed'] && !members) return { id: e.id, removed: true };
  const g: SourceGroup = { id: e.id };
  if (e.displayName !== undefined) {
    g.props = {
      displayName: e.displayName,
      mail: e.mail?.toLowerCase() ?? null,
      groupTypes: e.groupTypes ?? [],
      mailEnabled: e.mailEnabled ?? false,
      securityEnabled: e.securityEnabled ?? false,
      membershipRule: e.membershipRule ?? null,
    };
  }
  for (const m of members ?? []) {
    if (m['@removed']) (g.removeMembers ??= []).push(m.id);
    else if (m['@odata.type'] === '#microsoft.graph.group') (g.addGroups ??= []).push(m.id);
    else if (m['@odata.type'] === '#microsoft.graph.user') (g.addUsers ??= []).push(m.id);
    // devices, contacts and service principals receive no mail as users do: not expanded.
  }
  return g;
}
