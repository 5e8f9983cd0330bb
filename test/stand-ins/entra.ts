/**
 * Local stand-ins for Entra ID and Microsoft Graph that speak the real protocols over HTTPS:
 *
 *  - a token endpoint (`POST /{tenant}/oauth2/v2.0/token`, client credentials with a client secret
 *    or a certificate-signed client assertion, and the authorization_code grant of a browser sign-in),
 *    which the real @azure/msal-node talks to;
 *  - the browser sign-in (./entra-sign-in.ts): the authorize page, OpenID metadata, signing keys;
 *  - a Graph server (`/v1.0/...`): users and groups with paging (`$top`, `$skiptoken`), `$select`,
 *    `$search`/`$orderby`/`$count` (refused without `ConsistencyLevel: eventual`, on every page, as
 *    Graph does), `/users/delta` and `/groups/delta` (with `members@delta`) and delta links,
 *    `/domains`, service principals and their app role assignments; throttling (429 + Retry-After)
 *    and failures on demand;
 *  - mailboxes (./graph-mail.ts): message lists, MIME, move, delete, permanentDelete, folders, delta,
 *    ImmutableId and the per-mailbox concurrency limit.
 *
 * One StandInWorld holds the Entra tenants both servers serve. Tenants of any size come from
 * generateTenant(). Used by the integration tests and by `npm run bench:directory`.
 */
import { createPublicKey, randomBytes, randomUUID, verify, X509Certificate, constants } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import nodemailer from 'nodemailer';
import { ensureTestCertificate } from './tls';
import { runBatch, StandInMail, StandInMailbox } from './graph-mail';
import { StandInSignIn } from './entra-sign-in';

export type { StandInMessage, StandInMailbox } from './graph-mail';

export const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';

/** Graph's own application permissions (app roles), by the ids Graph uses. */
export const GRAPH_APP_ROLES: Record<string, string> = {
  'GroupMember.Read.All': '98830695-27a2-44f7-8c18-0c3ebc9698f6',
  'Group.Read.All': '5b567255-7703-4780-807c-7be8301ae99b',
  'User.Read.All': 'df021288-bdef-4463-88db-98f22de89214',
  'Directory.Read.All': '7ab1d382-f21e-4acd-a863-ba3e13f7da61',
  'Domain.Read.All': 'dbb9058a-0e50-45d7-ae91-66909b5d4664',
  'Mail.Send': 'b633e1c5-b582-4048-a93e-9f11b44c7e96',
  'Mail.ReadBasic.All': '693c5e45-0940-467d-9b8a-1022fb9d42ef',
  'Mail.Read': '810c84a8-4a9e-49e6-bf7d-12d183f40d01',
  'Application.Read.All': '9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30',
  'Mail.ReadWrite': 'e2a3a72e-5f79-4c64-b1b1-878b674786c9',
};

export interface StandInUser {
  id: string;
  displayName: string;
  mail: string | null;
  userPrincipalName: string;
  proxyAddresses: string[];
  mobilePhone: string | null;
  businessPhones: string[];
  otherMails: string[];
}

export interface StandInGroup {
  id: string;
  displayName: string;
  mail: string | null;
  groupTypes: string[];
  mailEnabled: boolean;
  securityEnabled: boolean;
  membershipRule: string | null;
  members: Set<string>;
}

export interface StandInApp {
  clientId: string;
  clientSecret?: string;
  certificatePem?: string;
  /** Graph application permissions granted to the app (admin-consented), by name. */
  grantedPermissions: string[];
  servicePrincipalId: string;
  /** Redirect URIs registered for the app's web platform (browser sign-in); none: it cannot sign users in. */
  redirectUris?: string[];
}

/** One Entra tenant: its directory, its app registrations and a change log for delta queries. */
export class EntraTenant {
  /** Mailboxes by user id: messages that arrived (e.g. through a primary SMTP server). */
  readonly mailboxes = new Map<string, StandInMailbox>();
  readonly users = new Map<string, StandInUser>();
  readonly groups = new Map<string, StandInGroup>();
  readonly apps = new Map<string, StandInApp>();
  domains: Array<{ id: string; isVerified: boolean; isDefault: boolean }> = [];
  private seq = 1;
  readonly userChanged = new Map<string, number>();
  readonly groupChanged = new Map<string, number>();
  readonly deletedUsers = new Map<string, number>();
  readonly deletedGroups = new Map<string, number>();
  /** Latest membership event per "groupId member": seq and whether it was a removal. */
  readonly memberEvents = new Map<string, { seq: number; groupId: string; memberId: string; removed: boolean }>();
  /**
   * Each membership event's key in seq order, each key's first place in memberEvents, and the seq of
   * the last user change: a delta reads only what changed after its token, as Graph's does, instead
   * of scanning the whole tenant (a tenant of 100,000 users took the bench's process ~0.1–0.3 s per
   * delta request), and answers in the same order as a scan would.
   */
  private readonly memberLog: Array<{ seq: number; key: string }> = [];
  private readonly memberPlace = new Map<string, number>();
  private lastUserSeq = 0;

  constructor(readonly id: string) {}

  get currentSeq(): number {
    return this.seq;
  }

  registerApp(app: Omit<StandInApp, 'servicePrincipalId'>): StandInApp {
    const registered = { ...app, servicePrincipalId: randomUUID() };
    this.apps.set(app.clientId, registered);
    return registered;
  }

  putUser(user: Partial<StandInUser> & { id: string; displayName: string }): StandInUser {
    const full: StandInUser = {
      mail: null,
      userPrincipalName: user.mail ?? `${user.id}@${this.id}`,
      proxyAddresses: [],
      mobilePhone: null,
      businessPhones: [],
      otherMails: [],
      ...user,
    };
    this.users.set(full.id, full);
    this.deletedUsers.delete(full.id);
    this.userChanged.set(full.id, (this.lastUserSeq = ++this.seq));
    return full;
  }

  /** The user an address or id names (id, UPN, mail or a proxy address). */
  findUser(idOrAddress: string): StandInUser | undefined {
    const lower = idOrAddress.toLowerCase();
    return (
      this.users.get(idOrAddress) ??
      [...this.users.values()].find(
        (u) =>
          u.userPrincipalName.toLowerCase() === lower || u.mail?.toLowerCase() === lower || u.proxyAddresses.some((p) => p.toLowerCase() === `smtp:${lower}`),
      )
    );
  }

  /** Puts a raw MIME message into a user's mailbox (what Exchange does after accepting it). Returns false for an unknown address. */
  deliverToMailbox(address: string, raw: string, receivedAt?: Date): boolean {
    const user = this.findUser(address);
    if (!user) return false;
    this.mailbox(user.id).deliver(raw, receivedAt);
    return true;
  }

  /** A user's mailbox (created empty on first use). */
  mailbox(userId: string): StandInMailbox {
    let mailbox = this.mailboxes.get(userId);
    if (!mailbox) this.mailboxes.set(userId, (mailbox = new StandInMailbox()));
    return mailbox;
  }

  removeUser(id: string): void {
    this.users.delete(id);
    this.userChanged.delete(id);
    this.deletedUsers.set(id, (this.lastUserSeq = ++this.seq));
    for (const group of this.groups.values()) if (group.members.has(id)) this.removeMember(group.id, id);
  }

  putGroup(group: Partial<Omit<StandInGroup, 'members'>> & { id: string; displayName: string; members?: Iterable<string> }): StandInGroup {
    const existing = this.groups.get(group.id);
    const full: StandInGroup = {
      mail: null,
      groupTypes: [],
      mailEnabled: false,
      securityEnabled: true,
      membershipRule: null,
      ...existing,
      ...group,
      members: existing?.members ?? new Set(),
    };
    this.groups.set(full.id, full);
    this.deletedGroups.delete(full.id);
    this.groupChanged.set(full.id, ++this.seq);
    for (const member of group.members ?? []) this.addMember(full.id, member);
    return full;
  }

  removeGroup(id: string): void {
    this.groups.delete(id);
    this.groupChanged.delete(id);
    this.deletedGroups.set(id, ++this.seq);
  }

  addMember(groupId: string, memberId: string): void {
    this.groups.get(groupId)!.members.add(memberId);
    this.memberEvent(groupId, memberId, false);
  }

  removeMember(groupId: string, memberId: string): void {
    this.groups.get(groupId)?.members.delete(memberId);
    this.memberEvent(groupId, memberId, true);
  }

  private memberEvent(groupId: string, memberId: string, removed: boolean): void {
    const key = `${groupId} ${memberId}`;
    const seq = ++this.seq;
    if (!this.memberPlace.has(key)) this.memberPlace.set(key, this.memberPlace.size);
    this.memberEvents.set(key, { seq, groupId, memberId, removed });
    this.memberLog.push({ seq, key });
  }

  /** Whether a user changed or was removed after `since`. */
  usersChangedSince(since: number): boolean {
    return this.lastUserSeq > since;
  }

  /** The membership events after `since` (each pair's latest), in memberEvents' order. */
  memberEventsSince(since: number): Array<{ seq: number; groupId: string; memberId: string; removed: boolean }> {
    let lo = 0;
    let hi = this.memberLog.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.memberLog[mid].seq <= since) lo = mid + 1;
      else hi = mid;
    }
    const keys = new Set(this.memberLog.slice(lo).map((e) => e.key));
    return [...keys].sort((a, b) => this.memberPlace.get(a)! - this.memberPlace.get(b)!).map((k) => this.memberEvents.get(k)!);
  }
}

interface Continuation {
  tenantId: string;
  entries: object[];
  offset: number;
  pageSize: number;
  eventual: boolean;
  deltaLink: string | null;
}

export interface RecordedRequest {
  method: string;
  path: string;
  consistencyLevel: string | null;
  at: number;
}

export interface WorldOptions {
  /** The most entries Graph returns per page (Graph: 999 for directory objects, 100 by default). */
  maxPageSize?: number;
  /** Members per `members@delta` entry in a groups delta (a large group appears in several entries). */
  membersPerDeltaEntry?: number;
}

type Fault = { prefix: string; remaining: number; status: number; retryAfter?: number; tenantId?: string };

/** Where the stand-in's Exchange Online sends mail that a mailbox sends (sendMail), and how well. */
export interface StandInMailFlow {
  /** The SMTP server outbound mail goes to (in tests: Lifeboat's receiver). Unset: sendMail mail goes nowhere. */
  smtp: { host: string; port: number } | null;
  /** Outbound delivery is delayed by this much. */
  delayMs: number;
  /** Outbound delivery silently stops (sendMail still answers 202, as Exchange does). */
  broken: boolean;
}

export class StandInWorld {
  readonly tenants = new Map<string, EntraTenant>();
  readonly requests: RecordedRequest[] = [];
  private readonly tokens = new Map<string, { tenantId: string; clientId: string; expiresAt: number }>();
  private readonly continuations = new Map<string, Continuation>();
  private faults: Fault[] = [];
  /** Mailboxes as Graph shows them (lists, MIME, moves, deletes, delta, the concurrency limit). */
  readonly mail = new StandInMail((tenantId, idOrAddress) => {
    const tenant = this.tenants.get(tenantId)!;
    const user = tenant.findUser(idOrAddress);
    return user ? tenant.mailbox(user.id) : undefined;
  });
  tokenRequests = 0;
  readonly mailFlow: StandInMailFlow = { smtp: null, delayMs: 0, broken: false };
  /** Outbound deliveries still under way (tests wait for them before closing). */
  readonly deliveries = new Set<Promise<void>>();
  /** The browser sign-in: authorize page, codes, id tokens, signing keys. */
  readonly signIn = new StandInSignIn(this.tenants);
  /** Entra is down: the sign-in server answers nothing (the connection is closed at once). */
  loginDown = false;

  constructor(readonly options: WorldOptions = {}) {}

  addTenant(id: string = randomUUID()): EntraTenant {
    const tenant = new EntraTenant(id);
    this.tenants.set(id, tenant);
    return tenant;
  }

  /** The next `count` Graph requests whose path starts with `prefix` get `status` (429: with Retry-After). */
  fail(prefix: string, count: number, status: number, retryAfterSeconds?: number): void {
    this.faults.push({ prefix, remaining: count, status, retryAfter: retryAfterSeconds });
  }

  clearFaults(): void {
    this.faults = [];
  }

  // ---- token endpoint -------------------------------------------------------------------------

  handleLogin(req: IncomingMessage, body: string, res: ServerResponse, origin: string): void {
    if (this.loginDown) {
      res.socket?.destroy();
      return;
    }
    if (this.signIn.handle(req, body, res, origin)) return;
    this.handleToken(req, body, res, origin);
  }

  handleToken(req: IncomingMessage, body: string, res: ServerResponse, origin: string): void {
    const match = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(new URL(req.url!, origin).pathname);
    const tenant = match ? this.tenants.get(match[1]) : undefined;
    if (req.method !== 'POST' || !match) return json(res, 404, { error: 'not_found' });
    this.tokenRequests++;
    if (!tenant) return json(res, 400, { error: 'invalid_request', error_description: `AADSTS90002: Tenant '${match[1]}' not found.` });
    const form = new URLSearchParams(body);
    const grant = form.get('grant_type');
    if (grant !== 'client_credentials' && grant !== 'authorization_code') return json(res, 400, { error: 'unsupported_grant_type' });
    const app = tenant.apps.get(form.get('client_id') ?? '');
    if (!app) return json(res, 400, { error: 'unauthorized_client', error_description: `AADSTS700016: Application not found in the directory.` });
    if (grant === 'client_credentials' && !/\/\.default$/.test(form.get('scope') ?? '')) return json(res, 400, { error: 'invalid_scope' });
    const assertion = form.get('client_assertion');
    let ok = false;
    if (form.get('client_secret') !== null) {
      ok = app.clientSecret !== undefined && form.get('client_secret') === app.clientSecret;
    } else if (assertion && form.get('client_assertion_type') === 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') {
      ok = app.certificatePem !== undefined && verifyAssertion(assertion, app, `${origin}${new URL(req.url!, origin).pathname}`);
    }
    if (!ok) return json(res, 401, { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret or certificate provided.' });
    if (grant === 'authorization_code') return this.signIn.redeem(form, tenant, app, origin, res);
    const token = randomBytes(24).toString('base64url');
    this.tokens.set(token, { tenantId: tenant.id, clientId: app.clientId, expiresAt: Date.now() + 3600_000 });
    json(res, 200, { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: token });
  }

  // ---- Graph ----------------------------------------------------------------------------------

  handleGraph(req: IncomingMessage, res: ServerResponse, origin: string, body = ''): void {
    const url = new URL(req.url!, origin);
    const path = decodeURIComponent(url.pathname);
    const consistencyLevel = (req.headers['consistencylevel'] as string | undefined) ?? null;
    this.requests.push({ method: req.method!, path: `${path}${url.search}`, consistencyLevel, at: Date.now() });
    const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    const grant = auth ? this.tokens.get(auth[1]) : undefined;
    if (!grant || grant.expiresAt < Date.now()) return graphError(res, 401, 'InvalidAuthenticationToken', 'Access token is empty or invalid.');
    const tenant = this.tenants.get(grant.tenantId)!;
    const fault = this.faults.find((f) => f.remaining > 0 && path.startsWith(f.prefix));
    if (fault) {
      fault.remaining--;
      if (fault.status === 429) res.setHeader('Retry-After', String(fault.retryAfter ?? 1));
      return graphError(res, fault.status, fault.status === 429 ? 'TooManyRequests' : 'ServiceUnavailable', 'Injected by the stand-in.');
    }
    if (req.method === 'POST' && path === '/v1.0/$batch')
      return runBatch(req, body, res, (sub, subBody, subRes) => this.handleGraph(sub, subRes, origin, subBody));
    const q = url.searchParams;
    const app = tenant.apps.get(grant.clientId);
    const granted = (...names: string[]) => names.some((n) => app?.grantedPermissions.includes(n));
    let mm: RegExpExecArray | null;
    if (req.method === 'POST' && (mm = /^\/v1\.0\/users\/([^/]+)\/sendMail$/.exec(path))) {
      if (!granted('Mail.Send')) return graphError(res, 403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.');
      const user = tenant.findUser(mm[1]);
      if (!user) return graphError(res, 404, 'ErrorInvalidUser', `The requested user '${mm[1]}' is invalid.`);
      return this.sendMail(res, user, body);
    }
    if (this.mail.handle(req, path, q, body, res, `${origin}/v1.0`, tenant.id, granted)) return;
    if (req.method !== 'GET') return graphError(res, 405, 'Request_BadRequest', 'Only GET is implemented by the stand-in.');
    const eventual = consistencyLevel?.toLowerCase() === 'eventual';
    const base = `${origin}/v1.0`;

    const skiptoken = q.get('$skiptoken');
    if (skiptoken) {
      const cont = this.continuations.get(skiptoken);
      if (!cont || cont.tenantId !== tenant.id) return graphError(res, 400, 'Request_BadRequest', 'Invalid $skiptoken.');
      if (cont.eventual && !eventual) return needsEventual(res);
      return this.page(res, base, path, cont);
    }
    const advanced = q.has('$search') || q.has('$count') || (q.get('$orderby') ?? '') !== '';
    if (advanced && !eventual) return needsEventual(res);
    const preferred = /odata\.maxpagesize=(\d+)/.exec(String(req.headers.prefer ?? ''))?.[1];
    const top = Math.min(Number(q.get('$top') ?? preferred ?? 100) || 100, 999, this.options.maxPageSize ?? 999);
    const select =
      q
        .get('$select')
        ?.split(',')
        .map((s) => s.trim())
        .filter(Boolean) ?? null;

    let m: RegExpExecArray | null;
    if (path === '/v1.0/users' || path === '/v1.0/groups') {
      const kind = path.endsWith('users') ? 'users' : 'groups';
      let items: Array<StandInUser | StandInGroup> = [...(kind === 'users' ? tenant.users : tenant.groups).values()];
      const search = q.get('$search');
      if (search) {
        const terms = parseSearch(search);
        if (!terms) return graphError(res, 400, 'Request_UnsupportedQuery', 'Unsupported $search syntax.');
        items = items.filter((item) => terms.some(([prop, text]) => matchesSearch((item as unknown as Record<string, unknown>)[prop], text)));
      }
      if (q.get('$orderby') === 'displayName') items.sort((a, b) => a.displayName.localeCompare(b.displayName));
      const entries = items.map((i) => project(kind === 'users' ? userJson(i as StandInUser) : groupJson(i as StandInGroup), select));
      return this.page(res, base, path, { tenantId: tenant.id, entries, offset: 0, pageSize: top, eventual: advanced, deltaLink: null });
    }
    if (path === '/v1.0/users/delta') return this.usersDelta(res, base, path, tenant, q, top, select);
    if (path === '/v1.0/groups/delta') return this.groupsDelta(res, base, path, tenant, q, top, select);
    if ((m = /^\/v1\.0\/users\/([^/]+)$/.exec(path))) {
      const user = tenant.users.get(m[1]) ?? [...tenant.users.values()].find((u) => u.userPrincipalName === m![1]);
      return user ? json(res, 200, project(userJson(user), select)) : graphError(res, 404, 'Request_ResourceNotFound', `Resource '${m[1]}' does not exist.`);
    }
    if ((m = /^\/v1\.0\/groups\/([^/]+)$/.exec(path))) {
      const group = tenant.groups.get(m[1]);
      return group ? json(res, 200, project(groupJson(group), select)) : graphError(res, 404, 'Request_ResourceNotFound', `Resource '${m[1]}' does not exist.`);
    }
    if (path === '/v1.0/domains') {
      return json(res, 200, { value: tenant.domains.map((d) => ({ ...d, authenticationType: 'Managed', supportedServices: ['Email'] })) });
    }
    // Graph lets an app read service principals (its own grants included) only with Application.Read.All.
    const readsApps = granted('Application.Read.All', 'Application.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All');
    if (/^\/v1\.0\/servicePrincipals[/(]/.test(path) && !readsApps) {
      return graphError(res, 403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
    }
    if ((m = /^\/v1\.0\/servicePrincipals\(appId='([^']+)'\)$/.exec(path))) {
      if (m[1] === GRAPH_APP_ID) {
        return json(
          res,
          200,
          project(
            {
              id: 'graph-sp',
              appId: GRAPH_APP_ID,
              displayName: 'Microsoft Graph',
              appRoles: Object.entries(GRAPH_APP_ROLES).map(([value, id]) => ({ id, value, allowedMemberTypes: ['Application'] })),
            },
            select,
          ),
        );
      }
      const app = tenant.apps.get(m[1]);
      return app
        ? json(res, 200, project({ id: app.servicePrincipalId, appId: app.clientId, displayName: 'Lifeboat' }, select))
        : graphError(res, 404, 'Request_ResourceNotFound', 'Service principal not found.');
    }
    if ((m = /^\/v1\.0\/servicePrincipals\/([^/]+)\/appRoleAssignments$/.exec(path))) {
      const app = [...tenant.apps.values()].find((a) => a.servicePrincipalId === m![1]);
      if (!app) return graphError(res, 404, 'Request_ResourceNotFound', 'Service principal not found.');
      const entries = app.grantedPermissions.map((name) => ({
        id: randomUUID(),
        appRoleId: GRAPH_APP_ROLES[name],
        principalId: app.servicePrincipalId,
        resourceId: 'graph-sp',
        resourceDisplayName: 'Microsoft Graph',
      }));
      return this.page(res, base, path, { tenantId: tenant.id, entries, offset: 0, pageSize: top, eventual: false, deltaLink: null });
    }
    graphError(res, 404, 'Request_ResourceNotFound', `The stand-in does not implement ${path}.`);
  }

  /** Graph's sendMail: 202 at once; the message then leaves "Exchange" by SMTP (unless the flow is broken). */
  private sendMail(res: ServerResponse, user: StandInUser, body: string): void {
    let parsed: {
      message?: {
        subject?: string;
        body?: { content?: string };
        toRecipients?: { emailAddress?: { address?: string } }[];
        internetMessageHeaders?: { name: string; value: string }[];
      };
    };
    try {
      parsed = JSON.parse(body);
    } catch {
      return graphError(res, 400, 'ErrorInvalidRequest', 'The request body is not JSON.');
    }
    const message = parsed.message;
    const to = message?.toRecipients?.map((r) => r.emailAddress?.address).filter((a): a is string => Boolean(a)) ?? [];
    if (!message || !to.length) return graphError(res, 400, 'ErrorInvalidRecipients', 'At least one recipient is not valid.');
    const headers = message.internetMessageHeaders ?? [];
    if (headers.some((h) => !/^x-/i.test(h.name)))
      return graphError(res, 400, 'InvalidInternetMessageHeader', "The internet message header name should start with 'x-' or 'X-'.");
    res.writeHead(202).end();
    const flow = this.mailFlow;
    if (!flow.smtp || flow.broken) return;
    const from = user.mail ?? user.userPrincipalName;
    const delivery = (async () => {
      if (flow.delayMs) await new Promise((r) => setTimeout(r, flow.delayMs));
      if (flow.broken || !flow.smtp) return;
      const transport = nodemailer.createTransport({ host: flow.smtp.host, port: flow.smtp.port, secure: false, ignoreTLS: true });
      try {
        await transport.sendMail({
          from,
          to,
          subject: message.subject ?? '',
          text: message.body?.content ?? '',
          headers: Object.fromEntries(headers.map((h) => [h.name, h.value])),
        });
      } catch {
        // Exchange would retry and finally bounce; the monitor sees a message that never arrives.
      } finally {
        transport.close();
      }
    })();
    this.deliveries.add(delivery);
    void delivery.finally(() => this.deliveries.delete(delivery));
  }

  private usersDelta(res: ServerResponse, base: string, path: string, tenant: EntraTenant, q: URLSearchParams, top: number, select: string[] | null): void {
    const since = deltaSince(q);
    const entries: object[] = [];
    if (since === null || tenant.usersChangedSince(since))
      for (const user of tenant.users.values())
        if (since === null || (tenant.userChanged.get(user.id) ?? 0) > since) entries.push(project(userJson(user), select));
    if (since !== null) for (const [id, seq] of tenant.deletedUsers) if (seq > since) entries.push({ id, '@removed': { reason: 'changed' } });
    const deltaLink = `${base}/users/delta?$deltatoken=${tenant.currentSeq}${select ? `&$select=${select.join(',')}` : ''}`;
    this.page(res, base, path, { tenantId: tenant.id, entries, offset: 0, pageSize: top, eventual: false, deltaLink });
  }

  private groupsDelta(res: ServerResponse, base: string, path: string, tenant: EntraTenant, q: URLSearchParams, top: number, select: string[] | null): void {
    const since = deltaSince(q);
    const withMembers = !select || select.includes('members');
    const per = this.options.membersPerDeltaEntry ?? 500;
    const entries: object[] = [];
    const memberRef = (id: string) => ({
      '@odata.type': tenant.groups.has(id) || tenant.deletedGroups.has(id) ? '#microsoft.graph.group' : '#microsoft.graph.user',
      id,
    });
    const changedMembers = new Map<string, object[]>();
    if (since !== null && withMembers) {
      for (const e of tenant.memberEventsSince(since)) {
        const list = changedMembers.get(e.groupId) ?? [];
        list.push(e.removed ? { ...memberRef(e.memberId), '@removed': { reason: 'deleted' } } : memberRef(e.memberId));
        changedMembers.set(e.groupId, list);
      }
    }
    for (const group of tenant.groups.values()) {
      const propsChanged = since === null || (tenant.groupChanged.get(group.id) ?? 0) > since;
      const members = since === null ? (withMembers ? [...group.members].map(memberRef) : []) : (changedMembers.get(group.id) ?? []);
      if (!propsChanged && members.length === 0) continue;
      const props = project(groupJson(group), select?.filter((s) => s !== 'members') ?? null);
      if (!withMembers) {
        entries.push(props);
        continue;
      }
      for (let i = 0; i === 0 || i < members.length; i += per) {
        entries.push({ ...(i === 0 ? props : { id: group.id }), 'members@delta': members.slice(i, i + per) });
      }
    }
    if (since !== null) for (const [id, seq] of tenant.deletedGroups) if (seq > since) entries.push({ id, '@removed': { reason: 'deleted' } });
    const deltaLink = `${base}/groups/delta?$deltatoken=${tenant.currentSeq}${select ? `&$select=${select.join(',')}` : ''}`;
    this.page(res, base, path, { tenantId: tenant.id, entries, offset: 0, pageSize: top, eventual: false, deltaLink });
  }

  private page(res: ServerResponse, base: string, path: string, cont: Continuation): void {
    const value = cont.entries.slice(cont.offset, cont.offset + cont.pageSize);
    const body: Record<string, unknown> = { '@odata.context': `${base}/$metadata`, value };
    if (cont.offset + cont.pageSize < cont.entries.length) {
      const token = randomBytes(12).toString('base64url');
      this.continuations.set(token, { ...cont, offset: cont.offset + cont.pageSize });
      body['@odata.nextLink'] = `${base}${path.replace(/^\/v1\.0/, '')}?$skiptoken=${token}`;
    } else if (cont.deltaLink) {
      body['@odata.deltaLink'] = cont.deltaLink;
    }
    json(res, 200, body);
  }
}

function deltaSince(q: URLSearchParams): number | null {
  const token = q.get('$deltatoken');
  return token === null ? null : Number(token);
}

function userJson(u: StandInUser) {
  return {
    id: u.id,
    displayName: u.displayName,
    mail: u.mail,
    userPrincipalName: u.userPrincipalName,
    proxyAddresses: u.proxyAddresses,
    mobilePhone: u.mobilePhone,
    businessPhones: u.businessPhones,
    otherMails: u.otherMails,
  };
}

function groupJson(g: StandInGroup) {
  return {
    id: g.id,
    displayName: g.displayName,
    mail: g.mail,
    groupTypes: g.groupTypes,
    mailEnabled: g.mailEnabled,
    securityEnabled: g.securityEnabled,
    membershipRule: g.membershipRule,
  };
}

function project(entry: Record<string, unknown>, select: string[] | null): Record<string, unknown> {
  if (!select) return entry;
  const out: Record<string, unknown> = { id: entry.id };
  for (const key of select) if (key in entry) out[key] = entry[key];
  return out;
}

/** `"displayName:foo" OR "mail:foo"` → [['displayName','foo'], ['mail','foo']]. */
function parseSearch(search: string): Array<[string, string]> | null {
  const terms: Array<[string, string]> = [];
  for (const part of search.split(/\s+OR\s+/)) {
    const m = /^"([A-Za-z]+):(.*)"$/.exec(part.trim());
    if (!m) return null;
    terms.push([m[1], m[2].toLowerCase()]);
  }
  return terms;
}

/** Graph's $search on directory objects matches the start of the value or of any word in it. */
function matchesSearch(value: unknown, text: string): boolean {
  if (typeof value !== 'string') return false;
  const lower = value.toLowerCase();
  return lower.startsWith(text) || lower.split(/[^a-z0-9]+/).some((word) => word.startsWith(text));
}

function verifyAssertion(assertion: string, app: StandInApp, audience: string): boolean {
  const [h, p, s] = assertion.split('.');
  if (!h || !p || !s) return false;
  try {
    const header = JSON.parse(Buffer.from(h, 'base64url').toString());
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
    const cert = new X509Certificate(app.certificatePem!);
    const key = createPublicKey(cert.publicKey.export({ type: 'spki', format: 'pem' }));
    const data = Buffer.from(`${h}.${p}`);
    const signature = Buffer.from(s, 'base64url');
    const valid =
      header.alg === 'PS256'
        ? verify('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, signature)
        : header.alg === 'RS256' && verify('sha256', data, key, signature);
    const thumbprint = cert.fingerprint256.replace(/:/g, '');
    const x5t = header['x5t#S256'] ? Buffer.from(header['x5t#S256'], 'base64url').toString('hex').toUpperCase() : null;
    return (
      Boolean(valid) &&
      payload.iss === app.clientId &&
      payload.sub === app.clientId &&
      payload.aud === audience &&
      payload.exp * 1000 > Date.now() &&
      (x5t === null || x5t === thumbprint)
    );
  } catch {
    return false;
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function graphError(res: ServerResponse, status: number, code: string, message: string): void {
  json(res, status, { error: { code, message, innerError: { date: new Date().toISOString(), 'request-id': randomUUID() } } });
}

function needsEventual(res: ServerResponse): void {
  graphError(
    res,
    400,
    'Request_UnsupportedQuery',
    "Request with $search, $count or $orderby query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'",
  );
}

export interface StandIns {
  world: StandInWorld;
  /** The authority host base, e.g. https://localhost:1234 (the Entra tenant id follows). */
  loginUrl: string;
  /** The Graph base, e.g. https://localhost:1235 */
  graphUrl: string;
  close(): Promise<void>;
}

async function listen(
  handler: (req: IncomingMessage, body: string, res: ServerResponse, origin: string) => void,
  tls: { cert: string; key: string },
  keepAliveTimeout: number,
): Promise<{ server: Server; origin: string }> {
  let origin = '';
  const server = createServer({ ...tls, keepAliveTimeout }, (req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      try {
        handler(req, body, res, origin);
      } catch (err) {
        graphError(res, 500, 'InternalServerError', (err as Error).message);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `https://localhost:${(server.address() as AddressInfo).port}`;
  return { server, origin };
}

/**
 * Starts the token endpoint and the Graph server for a world, on free loopback ports. `keepAliveMs`: how long
 * an idle connection stays open (1 s by default; the bench sets Graph's minute, so a connection is reused
 * as with the real service instead of a TLS handshake per request).
 */
export async function startStandIns(world: StandInWorld = new StandInWorld(), options: { keepAliveMs?: number } = {}): Promise<StandIns> {
  const tls = await ensureTestCertificate();
  const keepAlive = options.keepAliveMs ?? 1000;
  const login = await listen((req, body, res, origin) => world.handleLogin(req, body, res, origin), tls, keepAlive);
  const graph = await listen((req, body, res, origin) => world.handleGraph(req, res, origin, body), tls, keepAlive);
  return {
    world,
    loginUrl: login.origin,
    graphUrl: graph.origin,
    async close() {
      await Promise.all([...world.deliveries]);
      for (const s of [login.server, graph.server]) {
        s.closeAllConnections();
        await new Promise<void>((resolve) => s.close(() => resolve()));
      }
    },
  };
}

// ---- generated tenants ------------------------------------------------------------------------

/** A small deterministic PRNG, so a generated tenant is the same on every run. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hexId = (prefix: number, n: number) => `${prefix.toString(16).padStart(8, '0')}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

/**
 * Fills a tenant with `users` users and `groups` groups of every kind, nested up to `depth` levels
 * (level 0 groups contain level 1 groups, and so on); every user is a direct member of 1–3 groups.
 */
export function generateTenant(tenant: EntraTenant, size: { users: number; groups: number; depth?: number; domain?: string; seed?: number }): void {
  const random = prng(size.seed ?? 42);
  const domain = size.domain ?? 'contoso.example';
  const depth = size.depth ?? 5;
  tenant.domains = [
    { id: domain, isVerified: true, isDefault: true },
    { id: `mail.${domain}`, isVerified: true, isDefault: false },
    { id: `pending.${domain}`, isVerified: false, isDefault: false },
  ];
  for (let n = 0; n < size.users; n++) {
    tenant.putUser({
      id: hexId(1, n),
      displayName: `User ${n}`,
      mail: `user${n}@${domain}`,
      userPrincipalName: `user${n}@${domain}`,
      proxyAddresses: [`SMTP:user${n}@${domain}`, `smtp:u${n}@mail.${domain}`, `X500:/o=Contoso/cn=user${n}`],
      mobilePhone: `+1555${String(n).padStart(7, '0')}`,
    });
  }
  const kinds = [
    { groupTypes: ['Unified'], mailEnabled: true, securityEnabled: false },
    { groupTypes: [], mailEnabled: true, securityEnabled: true },
    { groupTypes: [], mailEnabled: true, securityEnabled: false },
    { groupTypes: [], mailEnabled: false, securityEnabled: true },
    { groupTypes: ['DynamicMembership'], mailEnabled: false, securityEnabled: true, membershipRule: 'user.department -eq "Sales"' },
  ];
  const perLevel = Math.max(1, Math.floor(size.groups / depth));
  const ids: string[] = [];
  for (let n = 0; n < size.groups; n++) {
    const kind = kinds[n % kinds.length];
    const id = hexId(2, n);
    ids.push(id);
    tenant.putGroup({ id, displayName: `Group ${n}`, mail: kind.mailEnabled ? `group${n}@${domain}` : null, ...kind });
  }
  // Nesting: each group below level 0 has a parent one level up.
  for (let n = perLevel; n < size.groups; n++) {
    const level = Math.min(depth - 1, Math.floor(n / perLevel));
    const parent = (level - 1) * perLevel + Math.floor(random() * perLevel);
    tenant.addMember(ids[parent], ids[n]);
  }
  for (let n = 0; n < size.users; n++) {
    const count = 1 + Math.floor(random() * 3);
    for (let k = 0; k < count; k++) tenant.addMember(ids[Math.floor(random() * size.groups)], hexId(1, n));
  }
}
