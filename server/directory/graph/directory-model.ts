/**
 * The directory in memory while a sync computes expansions (users, groups and their direct members,
 * nothing raw), and the normalised shapes of the Graph pages it is built from. No database here:
 * store.ts keeps the pages and the expansions, sync.ts drives both.
 */
export interface SourceUser {
  id: string;
  displayName?: string;
  mail?: string | null;
  addresses?: string[];
  userPrincipalName?: string | null;
  mobilePhone?: string | null;
  businessPhones?: string[];
  otherMails?: string[];
  removed?: boolean;
}

/** A user as the model keeps it. */
export interface ModelUser {
  displayName: string;
  mail: string | null;
  addresses: string[];
  userPrincipalName: string | null;
  mobilePhone: string | null;
  businessPhones: string[];
  otherMails: string[];
}

export interface SourceGroup {
  id: string;
  props?: { displayName: string; mail: string | null; groupTypes: string[]; mailEnabled: boolean; securityEnabled: boolean; membershipRule: string | null };
  addUsers?: string[];
  addGroups?: string[];
  removeMembers?: string[];
  removed?: boolean;
}

export interface SourcePage {
  _id: string;
  kind: 'users' | 'groups';
  delta: boolean;
  users?: SourceUser[];
  groups?: SourceGroup[];
}

/** The users and groups Graph reported changed (or removed) in an incremental sync. */
export interface SyncChanges {
  userIds: Set<string>;
  groupIds: Set<string>;
}

/** The directory in memory while expansions are computed: compact, no raw pages. */
export class DirectoryModel {
  readonly users = new Map<string, ModelUser>();
  readonly groups = new Map<string, { props: NonNullable<SourceGroup['props']> | null; users: Set<string>; groups: Set<string> }>();

  apply(page: Pick<SourcePage, 'users' | 'groups'>): void {
    for (const u of page.users ?? []) {
      if (u.removed) this.users.delete(u.id);
      else
        this.users.set(u.id, {
          displayName: u.displayName ?? '',
          mail: u.mail ?? null,
          addresses: u.addresses ?? [],
          userPrincipalName: u.userPrincipalName ?? null,
          mobilePhone: u.mobilePhone ?? null,
          businessPhones: u.businessPhones ?? [],
          otherMails: u.otherMails ?? [],
        });
    }
    for (const g of page.groups ?? []) {
      if (g.removed) {
        this.groups.delete(g.id);
        continue;
      }
      let entry = this.groups.get(g.id);
      if (!entry) this.groups.set(g.id, (entry = { props: null, users: new Set(), groups: new Set() }));
      if (g.props) entry.props = g.props;
      for (const id of g.addUsers ?? []) entry.users.add(id);
      for (const id of g.addGroups ?? []) entry.groups.add(id);
      for (const id of g.removeMembers ?? []) {
        entry.users.delete(id);
        entry.groups.delete(id);
      }
    }
  }

  /** Every user inside a group, through nested groups; cycles are walked once. */
  transitiveUsers(groupId: string): Set<string> {
    const users = new Set<string>();
    const seen = new Set<string>([groupId]);
    const stack = [groupId];
    while (stack.length) {
      const g = this.groups.get(stack.pop()!);
      if (!g) continue;
      for (const u of g.users) if (this.users.has(u)) users.add(u);
      for (const child of g.groups) {
        if (!seen.has(child)) {
          seen.add(child);
          stack.push(child);
        }
      }
    }
    return users;
  }

  /**
   * The groups whose expansion depends on the given users or groups: the groups that hold any of
   * them, and every group that holds those, up to the top (one walk of the reverse membership).
   * Changed groups themselves are included. Only the groups' own nesting is indexed: the groups
   * holding a changed user are found by asking each group about the few changed users (an index of
   * every user's groups cost ~0.2 s per sync at 100,000 users).
   */
  affectedGroups(changed: { groupIds: Iterable<string>; userIds: Iterable<string> }): Set<string> {
    const users = new Set(changed.userIds);
    const parents = new Map<string, string[]>();
    const holding: string[] = [];
    for (const [id, g] of this.groups) {
      for (const child of g.groups) {
        const list = parents.get(child);
        if (list) list.push(id);
        else parents.set(child, [id]);
      }
      if (!users.size) continue;
      const [few, many] = users.size < g.users.size ? [users, g.users] : [g.users, users];
      for (const u of few) {
        if (many.has(u)) {
          holding.push(id);
          break;
        }
      }
    }
    const affected = new Set<string>();
    const stack: string[] = [];
    const reach = (id: string) => {
      if (!affected.has(id)) {
        affected.add(id);
        stack.push(id);
      }
    };
    for (const id of changed.groupIds) reach(id);
    for (const id of holding) reach(id);
    while (stack.length) for (const parent of parents.get(stack.pop()!) ?? []) reach(parent);
    return affected;
  }
}
