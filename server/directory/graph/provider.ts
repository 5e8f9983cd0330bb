/**
 * The Graph provider: the directory read API of a connected tenant. Look-ups go to Graph live (the
 * pickers); membership comes from the stored expansions of the last successful sync. Responses have
 * exactly the shapes of the file provider's.
 */
import { classifyGroup } from '../classify';
import type { GroupSummary, UserSummary } from '../service';
import type { GraphApi } from './client';
import { GraphRequestError } from './client';
import { overlayChainOf, type SyncStateModel } from './model';
import type { ExpansionHead, SyncStore } from './store';

export const SEARCH_LIMIT = 50;

interface GraphGroup {
  id: string;
  displayName: string;
  mail: string | null;
  groupTypes?: string[];
  mailEnabled?: boolean;
  securityEnabled?: boolean;
  membershipRule?: string | null;
}
interface GraphUser {
  id: string;
  displayName: string;
  mail: string | null;
  userPrincipalName?: string | null;
  mobilePhone?: string | null;
  businessPhones?: string[];
  otherMails?: string[];
}

const GROUP_FIELDS = 'id,displayName,mail,groupTypes,mailEnabled,securityEnabled,membershipRule';
const USER_FIELDS = 'id,displayName,mail,userPrincipalName,mobilePhone,businessPhones,otherMails';

const toGroupSummary = (g: GraphGroup): GroupSummary => ({ id: g.id, displayName: g.displayName, mail: g.mail?.toLowerCase() ?? null, kind: classifyGroup(g) });
const toUserSummary = (u: GraphUser): UserSummary => ({ id: u.id, displayName: u.displayName, mail: u.mail?.toLowerCase() ?? null });
const byName = (a: { displayName: string }, b: { displayName: string }) => a.displayName.localeCompare(b.displayName);

/** `$search` text: Graph's syntax has no escape for a double quote, so it is dropped. */
function searchClause(text: string, properties: string[]): string {
  const clean = text.trim().replace(/["\\]/g, ' ').trim();
  return properties.map((p) => `"${p}:${clean}"`).join(' OR ');
}

/** Pages an advanced query (ConsistencyLevel on every page) until `limit` entries. */
async function firstEntries<T>(api: GraphApi, path: string, limit: number): Promise<T[]> {
  const out: T[] = [];
  for await (const page of api.pages<T>(path, { eventual: true })) {
    out.push(...page.value);
    if (out.length >= limit) break;
  }
  return out.slice(0, limit);
}

/** One user or group by id; null when there is none (or the id cannot be one). */
async function getOrNull<T>(api: GraphApi, collection: 'users' | 'groups', id: string, select: string): Promise<T | null> {
  if (!/^[A-Za-z0-9@._-]{1,256}$/.test(id)) return null;
  try {
    return await api.get<T>(`/${collection}/${encodeURIComponent(id)}?$select=${select}`);
  } catch (err) {
    if (err instanceof GraphRequestError && err.status === 404) return null;
    throw err;
  }
}

export function createGraphDirectory(deps: { states: SyncStateModel; store: SyncStore }) {
  const { states, store } = deps;

  async function currentExpansions(tenantId: string) {
    const state = await states
      .findById(tenantId, { expansionGeneration: 1, overlayGeneration: 1, overlayChain: 1, lastSuccessfulSync: 1, error: 1, state: 1 })
      .lean();
    return { state, expansions: state?.expansionGeneration ? store.expansions(tenantId, state.expansionGeneration, overlayChainOf(state)) : null };
  }

  return {
    async searchGroups(api: GraphApi, text?: string): Promise<GroupSummary[]> {
      const search = text?.trim() ? `&$search=${encodeURIComponent(searchClause(text, ['displayName', 'mail']))}` : '&$orderby=displayName';
      const found = await firstEntries<GraphGroup>(api, `/groups?$select=${GROUP_FIELDS}&$count=true&$top=${SEARCH_LIMIT}${search}`, SEARCH_LIMIT);
      return found.map(toGroupSummary).sort(byName);
    },

    async searchUsers(api: GraphApi, text?: string): Promise<UserSummary[]> {
      const search = text?.trim() ? `&$search=${encodeURIComponent(searchClause(text, ['displayName', 'mail']))}` : '&$orderby=displayName';
      const found = await firstEntries<GraphUser>(api, `/users?$select=id,displayName,mail&$count=true&$top=${SEARCH_LIMIT}${search}`, SEARCH_LIMIT);
      return found.map(toUserSummary).sort(byName);
    },

    async getGroup(api: GraphApi, tenantId: string, id: string) {
      const group = await getOrNull<GraphGroup>(api, 'groups', id, GROUP_FIELDS);
      if (!group) return null;
      const { expansions } = await currentExpansions(tenantId);
      const expansion = expansions ? await expansions.get(group.id) : null;
      const memberIds = expansion?.userIds ?? [];
      return { ...toGroupSummary(group), transitiveMemberIds: memberIds, transitiveMemberCount: memberIds.length };
    },

    async getUser(api: GraphApi, tenantId: string, id: string) {
      const user = await getOrNull<GraphUser>(api, 'users', id, USER_FIELDS);
      if (!user) return null;
      const { expansions } = await currentExpansions(tenantId);
      return {
        id: user.id,
        displayName: user.displayName,
        mail: user.mail?.toLowerCase() ?? null,
        userPrincipalName: user.userPrincipalName ?? null,
        mobilePhone: user.mobilePhone ?? null,
        businessPhones: user.businessPhones ?? [],
        otherMails: user.otherMails ?? [],
        groupIds: expansions ? await expansions.groupsContaining({ userId: user.id }) : [],
      };
    },

    /** The stored expansions (membership as of the last successful sync). */
    async listExpansions(tenantId: string) {
      const { state, expansions } = await currentExpansions(tenantId);
      const heads = expansions ? await expansions.heads() : [];
      return { lastSuccessfulSync: state?.lastSuccessfulSync?.toISOString() ?? null, lastError: state?.error ?? null, groups: heads.map(headView) };
    },

    async getExpansion(tenantId: string, groupId: string) {
      const { state, expansions } = await currentExpansions(tenantId);
      const found = expansions ? await expansions.get(groupId) : null;
      if (!found) return null;
      return {
        ...headView(found.head),
        userIds: found.userIds,
        addresses: found.addresses,
        lastSuccessfulSync: state?.lastSuccessfulSync?.toISOString() ?? null,
        lastError: state?.error ?? null,
      };
    },

    /** Which expansions an address is in; an unknown address in the tenant's domains may be an Exchange dynamic distribution group. */
    async groupsOfAddress(tenantId: string, address: string) {
      const { expansions } = await currentExpansions(tenantId);
      return expansions ? expansions.groupsContaining({ address }) : [];
    },

    /** A user's or a group's address, as of the last successful sync. */
    async knownAddress(tenantId: string, address: string): Promise<'user' | 'group' | null> {
      const { expansions } = await currentExpansions(tenantId);
      if (!expansions) return null;
      if (await expansions.isUserAddress(address)) return 'user';
      return (await expansions.heads()).some((h) => h.mail === address.toLowerCase()) ? 'group' : null;
    },
  };
}
export type GraphDirectory = ReturnType<typeof createGraphDirectory>;

const headView = (h: ExpansionHead) => ({
  groupId: h.groupId,
  displayName: h.displayName,
  mail: h.mail,
  kind: h.kind,
  extended: h.extended,
  membership: 'known' as const,
  memberCount: h.memberCount,
  addressCount: h.addressCount,
  /** When this group's expansion was last written (an incremental sync rewrites only the affected ones). */
  updatedAt: h.updatedAt?.toISOString() ?? null,
});
