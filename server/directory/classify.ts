/**
 * Group kinds from Graph's own properties. The file provider and the Graph provider share these
 * rules, so a group is the same kind whichever way the directory is read.
 */
export type GroupKind = 'm365' | 'mailEnabledSecurity' | 'security' | 'distributionList' | 'dynamic';

export interface GroupTraits {
  groupTypes?: string[] | null;
  mailEnabled?: boolean | null;
  securityEnabled?: boolean | null;
  membershipRule?: string | null;
}

export function classifyGroup(group: GroupTraits): GroupKind {
  const types = group.groupTypes ?? [];
  // Membership decided by a rule (Entra dynamic groups, also dynamic Microsoft 365 groups).
  if (types.includes('DynamicMembership') || (group.membershipRule ?? '').trim() !== '') return 'dynamic';
  if (types.includes('Unified')) return 'm365';
  if (group.mailEnabled && group.securityEnabled) return 'mailEnabledSecurity';
  if (group.mailEnabled) return 'distributionList';
  return 'security';
}
