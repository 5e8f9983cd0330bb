/**
 * The mailbox half of the Graph stand-in (Exchange Online as Graph shows it): message lists with
 * `receivedDateTime` filters, `$top`/`$select` and `@odata.nextLink` paging, `Prefer: IdType="ImmutableId"`
 * (an immutable id survives a move; the default id changes with the folder, as in Exchange), `/$value`
 * (MIME), move (well-known names and created folders), delete (to Deleted Items), `permanentDelete`,
 * mail folders, inbox delta, and Graph's mailbox concurrency limit (a fifth request in flight to one
 * mailbox gets 429 with Retry-After). Creating a message (`POST …/messages`, `…/mailFolders/{id}/messages`)
 * as Exchange does: JSON or base64 MIME (`text/plain`); the item is a draft (`isDraft`) unless the JSON set
 * PR_MESSAGE_FLAGS (`Integer 0x0E07`) without the unsent bit (8), which only creation can do; MIME creation
 * is always a draft. Permissions are enforced per app role as Graph does:
 * Mail.ReadBasic.All / Mail.Read / Mail.ReadWrite to list, Mail.Read(Write) for MIME, Mail.ReadWrite to change or create.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A message in a stand-in mailbox. */
export interface StandInMessage {
  /** The id as Graph returns it by default: changes when the message moves to another folder. */
  id: string;
  /** The id under `Prefer: IdType="ImmutableId"`: stable across moves. */
  immutableId: string;
  subject: string;
  internetMessageId: string;
  receivedDateTime: string;
  from: string;
  /** The folder id the message is in (`inbox`, `deleteditems`, `junkemail`, or a created folder's id). */
  parentFolderId: string;
  raw: string;
  /** Delta: the mailbox sequence number at which the message last changed (arrived or moved). */
  seq: number;
  /** An unsent item (what Outlook shows as a draft). */
  isDraft: boolean;
  /** A created message as it was posted (JSON), for tests to inspect. */
  created?: Record<string, unknown>;
}

export interface StandInFolder {
  id: string;
  displayName: string;
}

/** One mailbox: its messages (permanently deleted ones are gone), its folders and a change sequence. */
export class StandInMailbox {
  readonly messages: StandInMessage[] = [];
  readonly folders: StandInFolder[] = [
    { id: 'inbox', displayName: 'Inbox' },
    { id: 'deleteditems', displayName: 'Deleted Items' },
    { id: 'junkemail', displayName: 'Junk Email' },
    { id: 'sentitems', displayName: 'Sent Items' },
    { id: 'drafts', displayName: 'Drafts' },
  ];
  /** Removed from the inbox (moved out or deleted), with the seq of the removal: delta reports them. */
  readonly removed = new Map<string, number>();
  seq = 1;
  inFlight = 0;
  maxInFlight = 0;
  /** Requests refused by the concurrency limit. */
  refused = 0;

  deliver(raw: string, receivedAt = new Date()): StandInMessage {
    const head = (raw.split(/\r?\n\r?\n/)[0] ?? '').replace(/\r?\n[ \t]+/g, ' ');
    const header = (name: string) => new RegExp(`^${name}:[ \\t]*(.*)$`, 'im').exec(head)?.[1]?.trim() ?? '';
    const message: StandInMessage = {
      id: randomUUID(),
      immutableId: `imm-${randomBytes(9).toString('base64url')}`,
      subject: header('Subject'),
      internetMessageId: header('Message-ID'),
      receivedDateTime: receivedAt.toISOString(),
      from: header('From'),
      parentFolderId: 'inbox',
      raw,
      seq: ++this.seq,
      isDraft: false,
    };
    this.messages.push(message);
    return message;
  }

  /** A message created through Graph in a folder (POST …/messages). */
  create(
    folderId: string,
    fields: { subject: string; internetMessageId: string; from: string; sentAt: string; isDraft: boolean; raw: string; created?: Record<string, unknown> },
  ): StandInMessage {
    const message: StandInMessage = {
      id: randomUUID(),
      immutableId: `imm-${randomBytes(9).toString('base64url')}`,
      subject: fields.subject,
      internetMessageId: fields.internetMessageId || `<${randomUUID()}@standin.exchange>`,
      receivedDateTime: fields.sentAt,
      from: fields.from,
      parentFolderId: folderId,
      raw: fields.raw,
      seq: ++this.seq,
      isDraft: fields.isDraft,
      created: fields.created,
    };
    this.messages.push(message);
    return message;
  }

  find(id: string): StandInMessage | undefined {
    return this.messages.find((m) => m.id === id || m.immutableId === id);
  }

  folderId(nameOrId: string): string | null {
    const lower = nameOrId.toLowerCase();
    return this.folders.find((f) => f.id.toLowerCase() === lower)?.id ?? null;
  }

  move(message: StandInMessage, folderId: string): void {
    if (message.parentFolderId === 'inbox' && folderId !== 'inbox') this.removed.set(message.immutableId, ++this.seq);
    message.parentFolderId = folderId;
    message.id = randomUUID(); // Exchange's default id changes with the folder; the immutable id does not.
    message.seq = ++this.seq;
  }

  remove(message: StandInMessage): void {
    this.messages.splice(this.messages.indexOf(message), 1);
    if (message.parentFolderId === 'inbox') this.removed.set(message.immutableId, ++this.seq);
  }
}

/** The header section of a MIME message as Graph's internetMessageHeaders (unfolded, in order). */
function headerList(raw: string): { name: string; value: string }[] {
  const out: { name: string; value: string }[] = [];
  for (const line of (raw.split(/\r?\n\r?\n/)[0] ?? '').split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && out.length) out[out.length - 1]!.value += ` ${line.trim()}`;
    else if (line.indexOf(':') > 0) out.push({ name: line.slice(0, line.indexOf(':')).trim(), value: line.slice(line.indexOf(':') + 1).trim() });
  }
  return out;
}

export interface MailOptions {
  /** How long each mailbox request takes (so concurrency is real). */
  latencyMs: number;
  /** When set, mailbox requests are held (in flight) until it settles: concurrency without timing. */
  hold?: Promise<void>;
  /** Requests in flight per mailbox before Graph answers 429 (Exchange: 4). */
  concurrencyLimit: number;
  retryAfterSeconds: number;
}

type Reply = (status: number, body?: unknown, headers?: Record<string, string>) => void;
interface Page {
  entries: object[];
  offset: number;
  pageSize: number;
  deltaLink: string | null;
  immutable: boolean;
}

/** The mailbox routes, for one world. `handle` returns false for a path that is not a mailbox route. */
export class StandInMail {
  readonly options: MailOptions = { latencyMs: 0, concurrencyLimit: 4, retryAfterSeconds: 1 };
  private readonly pages = new Map<string, Page>();

  constructor(private readonly mailboxOf: (tenantId: string, userIdOrAddress: string) => StandInMailbox | undefined) {}

  handle(
    req: IncomingMessage,
    path: string,
    q: URLSearchParams,
    body: string,
    res: ServerResponse,
    base: string,
    tenantId: string,
    granted: (...names: string[]) => boolean,
  ): boolean {
    const m = /^\/v1\.0\/users\/([^/]+)\/(messages|mailFolders)(\/.*)?$/.exec(path);
    if (!m) return false;
    const reply: Reply = (status, payload, headers = {}) => {
      const text = payload === undefined ? '' : typeof payload === 'string' ? payload : JSON.stringify(payload);
      const type = typeof payload === 'string' ? 'text/plain' : 'application/json';
      res.writeHead(status, { ...(text ? { 'content-type': type, 'content-length': String(Buffer.byteLength(text)) } : {}), ...headers });
      res.end(text);
    };
    const error = (status: number, code: string, message: string, headers?: Record<string, string>) =>
      reply(status, { error: { code, message, innerError: { date: new Date().toISOString(), 'request-id': randomUUID() } } }, headers);
    const mailbox = this.mailboxOf(tenantId, m[1]!);
    if (!mailbox) {
      error(404, 'ErrorInvalidUser', `The requested user '${m[1]}' is invalid.`);
      return true;
    }
    if (mailbox.inFlight >= this.options.concurrencyLimit) {
      mailbox.refused++;
      error(429, 'ApplicationThrottled', 'Application is over its MailboxConcurrency limit.', { 'Retry-After': String(this.options.retryAfterSeconds) });
      return true;
    }
    mailbox.inFlight++;
    mailbox.maxInFlight = Math.max(mailbox.maxInFlight, mailbox.inFlight);
    const done = () => {
      try {
        this.route(req, `/${m[2]}${m[3] ?? ''}`, q, body, base, `/users/${m[1]}`, mailbox, granted, reply, error);
      } catch (err) {
        error(500, 'InternalServerError', (err as Error).message);
      } finally {
        mailbox.inFlight--;
      }
    };
    if (this.options.hold) void this.options.hold.then(done);
    else if (this.options.latencyMs > 0) setTimeout(done, this.options.latencyMs);
    else done();
    return true;
  }

  private route(
    req: IncomingMessage,
    rest: string,
    q: URLSearchParams,
    body: string,
    base: string,
    userPath: string,
    mailbox: StandInMailbox,
    granted: (...names: string[]) => boolean,
    reply: Reply,
    error: (status: number, code: string, message: string, headers?: Record<string, string>) => void,
  ): void {
    const denied = () => error(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.');
    const canList = granted('Mail.ReadBasic.All', 'Mail.Read', 'Mail.ReadWrite');
    const canRead = granted('Mail.Read', 'Mail.ReadWrite');
    const canWrite = granted('Mail.ReadWrite');
    const immutable = /IdType="ImmutableId"/i.test(String(req.headers.prefer ?? ''));
    const json = (msg: StandInMessage, select: string[] | null, asImmutable: boolean) => {
      const full: Record<string, unknown> = {
        id: asImmutable ? msg.immutableId : msg.id,
        subject: msg.subject,
        internetMessageId: msg.internetMessageId,
        receivedDateTime: msg.receivedDateTime,
        from: { emailAddress: { address: msg.from.replace(/^.*<([^>]+)>.*$/, '$1') } },
        parentFolderId: msg.parentFolderId,
        isDraft: msg.isDraft,
      };
      if (!select) return full;
      // Graph returns the transport headers only when asked for (readiness reads Lifeboat's ARC seal from them).
      if (select.includes('internetMessageHeaders')) full.internetMessageHeaders = headerList(msg.raw);
      const out: Record<string, unknown> = { id: full.id };
      for (const key of select) if (key in full) out[key] = full[key];
      return out;
    };
    const method = req.method ?? 'GET';
    let mm: RegExpExecArray | null;

    // Continuation of a list or delta.
    const skip = q.get('$skiptoken');
    if (method === 'GET' && skip) {
      const page = this.pages.get(skip);
      if (!page) return error(400, 'ErrorInvalidUrlQuery', 'Invalid $skiptoken.');
      return this.page(reply, base, userPath + rest, page);
    }
    if (method === 'GET' && (rest === '/messages' || rest === '/mailFolders/inbox/messages' || rest === '/mailFolders/inbox/messages/delta')) {
      if (!canList) return denied();
      const delta = rest.endsWith('/delta');
      let messages = mailbox.messages.filter((x) => rest === '/messages' || x.parentFolderId === 'inbox');
      const filter = q.get('$filter');
      if (filter) {
        const f = /^receivedDateTime (ge|gt) (\S+)$/.exec(filter.trim()) ?? /^(internetMessageId|subject) eq '((?:[^']|'')*)'$/.exec(filter.trim());
        if (!f) return error(400, 'ErrorInvalidUrlQueryFilter', 'The stand-in supports receivedDateTime ge|gt, internetMessageId eq and subject eq.');
        if (f[1] === 'ge' || f[1] === 'gt') {
          const at = Date.parse(f[2]!);
          if (Number.isNaN(at)) return error(400, 'ErrorInvalidUrlQueryFilter', `Invalid date ${f[2]}.`);
          messages = messages.filter((x) => (f[1] === 'ge' ? Date.parse(x.receivedDateTime) >= at : Date.parse(x.receivedDateTime) > at));
        } else {
          const value = f[2]!.replace(/''/g, "'");
          messages = messages.filter((x) => (f[1] === 'subject' ? x.subject : x.internetMessageId) === value);
        }
      }
      const select =
        q
          .get('$select')
          ?.split(',')
          .map((s) => s.trim())
          .filter(Boolean) ?? null;
      const preferred = /odata\.maxpagesize=(\d+)/.exec(String(req.headers.prefer ?? ''))?.[1];
      const pageSize = Math.min(Number(q.get('$top') ?? preferred ?? 10) || 10, 1000);
      if (delta) {
        const since = Number(q.get('$deltatoken') ?? 0);
        const entries: object[] = messages.filter((x) => x.seq > since).map((x) => json(x, select, immutable));
        if (since) for (const [id, seq] of mailbox.removed) if (seq > since) entries.push({ id, '@removed': { reason: 'deleted' } });
        const link = `${base}${userPath}/mailFolders/inbox/messages/delta?$deltatoken=${mailbox.seq}`;
        return this.page(reply, base, userPath + rest, { entries, offset: 0, pageSize, deltaLink: link, immutable });
      }
      const entries = [...messages]
        .sort((a, b) => b.receivedDateTime.localeCompare(a.receivedDateTime) || b.seq - a.seq)
        .map((x) => json(x, select, immutable));
      return this.page(reply, base, userPath + rest, { entries, offset: 0, pageSize, deltaLink: null, immutable });
    }
    if (method === 'GET' && (mm = /^\/messages\/([^/]+)\/\$value$/.exec(rest))) {
      if (!canRead) return denied();
      const msg = mailbox.find(mm[1]!);
      if (!msg) return error(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
      return reply(200, msg.raw, {});
    }
    if (method === 'GET' && (mm = /^\/messages\/([^/]+)$/.exec(rest))) {
      if (!canList) return denied();
      const msg = mailbox.find(mm[1]!);
      if (!msg) return error(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
      return reply(200, json(msg, null, immutable));
    }
    if (method === 'POST' && (mm = /^\/messages\/([^/]+)\/move$/.exec(rest))) {
      if (!canWrite) return denied();
      const msg = mailbox.find(mm[1]!);
      if (!msg) return error(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
      let destination: string | null;
      try {
        destination = mailbox.folderId(String(JSON.parse(body || '{}').destinationId ?? ''));
      } catch {
        return error(400, 'ErrorInvalidRequest', 'The request body is not JSON.');
      }
      if (!destination) return error(400, 'ErrorInvalidIdMalformed', 'Id is malformed.');
      mailbox.move(msg, destination);
      return reply(201, json(msg, null, immutable));
    }
    if (method === 'POST' && (mm = /^\/messages\/([^/]+)\/permanentDelete$/.exec(rest))) {
      if (!canWrite) return denied();
      const msg = mailbox.find(mm[1]!);
      if (!msg) return error(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
      mailbox.remove(msg);
      return reply(204);
    }
    if (method === 'DELETE' && (mm = /^\/messages\/([^/]+)$/.exec(rest))) {
      if (!canWrite) return denied();
      const msg = mailbox.find(mm[1]!);
      if (!msg) return error(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
      // Graph's DELETE moves the message to Deleted Items (users can recover it): not a real remediation.
      mailbox.move(msg, 'deleteditems');
      return reply(204);
    }
    if (method === 'POST' && (mm = /^(?:\/mailFolders\/([^/]+))?\/messages$/.exec(rest))) {
      if (!canWrite) return denied();
      const folder = mm[1] ? mailbox.folderId(mm[1]) : 'drafts';
      if (!folder) return error(404, 'ErrorItemNotFound', 'The specified folder was not found in the store.');
      return this.create(req, body, mailbox, folder, reply, error, (msg) => json(msg, null, immutable));
    }
    if (rest === '/mailFolders' && method === 'POST') {
      if (!canWrite) return denied();
      const name = String((JSON.parse(body || '{}') as { displayName?: string }).displayName ?? '').trim();
      if (!name) return error(400, 'ErrorInvalidRequest', 'displayName is required.');
      if (mailbox.folders.some((f) => f.displayName.toLowerCase() === name.toLowerCase()))
        return error(409, 'ErrorFolderExists', 'A folder with the specified name already exists.');
      const folder = { id: `folder-${randomBytes(6).toString('hex')}`, displayName: name };
      mailbox.folders.push(folder);
      return reply(201, { ...folder, parentFolderId: 'msgfolderroot', totalItemCount: 0 });
    }
    if (rest === '/mailFolders' && method === 'GET') {
      if (!canList) return denied();
      const f = /^displayName eq '((?:[^']|'')*)'$/.exec(q.get('$filter') ?? '');
      const folders = mailbox.folders.filter((x) => !f || x.displayName === f[1]!.replace(/''/g, "'"));
      return reply(200, { value: folders });
    }
    error(404, 'Request_ResourceNotFound', `The stand-in does not implement ${method} ${userPath}${rest}.`);
  }

  /** Graph's message creation: base64 MIME (always a draft) or JSON (a draft unless PR_MESSAGE_FLAGS says sent). */
  private create(
    req: IncomingMessage,
    body: string,
    mailbox: StandInMailbox,
    folder: string,
    reply: Reply,
    error: (status: number, code: string, message: string) => void,
    view: (msg: StandInMessage) => object,
  ): void {
    const type = String(req.headers['content-type'] ?? '');
    if (type.startsWith('text/plain')) {
      const raw = Buffer.from(body.trim(), 'base64').toString('utf8');
      if (!/\r?\n\r?\n/.test(raw) || !/^[\x20-\x7e\r\n\t]*$/.test(raw.split(/\r?\n\r?\n/)[0]!))
        return error(400, 'ErrorMimeContentInvalidBase64String', 'Invalid base64 string for MIME content.');
      const header = (name: string) => new RegExp(`^${name}:[ \\t]*(.*)$`, 'im').exec(raw.split(/\r?\n\r?\n/)[0]!)?.[1]?.trim() ?? '';
      const msg = mailbox.create(folder, {
        subject: header('Subject'),
        internetMessageId: header('Message-ID'),
        from: header('From'),
        sentAt: new Date().toISOString(),
        isDraft: true,
        raw,
      });
      return reply(201, view(msg));
    }
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(body || '{}') as Record<string, unknown>;
    } catch {
      return error(400, 'ErrorInvalidRequest', 'The request body is not JSON.');
    }
    const props = (m.singleValueExtendedProperties ?? []) as Array<{ id?: string; value?: string }>;
    if (!Array.isArray(props) || props.some((p) => typeof p?.id !== 'string' || typeof p.value !== 'string'))
      return error(400, 'ErrorInvalidProperty', 'singleValueExtendedProperties: each needs an id and a string value.');
    const flags = props.find((p) => /^Integer 0x0e07$/i.test(p.id!));
    if (flags && !/^\d+$/.test(flags.value!)) return error(400, 'ErrorInvalidExtendedPropertyValue', 'PR_MESSAGE_FLAGS must be an integer.');
    const headers = (m.internetMessageHeaders ?? []) as Array<{ name?: string }>;
    if (headers.some((h) => !/^x-/i.test(String(h?.name ?? ''))))
      return error(400, 'InvalidInternetMessageHeader', "The internet message header name should start with 'x-' or 'X-'.");
    const address = (r: unknown) => String((r as { emailAddress?: { address?: string } })?.emailAddress?.address ?? '');
    const at = props.find((p) => /^SystemTime 0x0039$/i.test(p.id!))?.value;
    const msg = mailbox.create(folder, {
      subject: String(m.subject ?? ''),
      internetMessageId: String(m.internetMessageId ?? ''),
      from: address(m.from),
      sentAt: at && !Number.isNaN(Date.parse(at)) ? new Date(at).toISOString() : new Date().toISOString(),
      isDraft: !flags || (Number(flags.value) & 8) !== 0,
      raw: '',
      created: m,
    });
    return reply(201, view(msg));
  }

  private page(reply: Reply, base: string, path: string, page: Page): void {
    const value = page.entries.slice(page.offset, page.offset + page.pageSize);
    const body: Record<string, unknown> = { '@odata.context': `${base}/$metadata`, value };
    if (page.offset + page.pageSize < page.entries.length) {
      const token = randomBytes(12).toString('base64url');
      this.pages.set(token, { ...page, offset: page.offset + page.pageSize });
      body['@odata.nextLink'] = `${base}${path.replace(/\?.*$/, '')}?$skiptoken=${token}`;
    } else if (page.deltaLink) body['@odata.deltaLink'] = page.deltaLink;
    reply(200, body);
  }
}

/** One request of a JSON batch, as Graph takes it (`url` relative to the version, e.g. `/users/…/messages`). */
interface BatchRequest {
  id?: unknown;
  method?: unknown;
  url?: unknown;
  headers?: unknown;
  body?: unknown;
}

/**
 * Graph's JSON batching (`POST /v1.0/$batch`, at most 20 requests): every request runs as if sent on its
 * own, all at once — so each counts toward its mailbox's concurrency, and a fifth one in flight to a
 * mailbox is refused inside the batch with its own 429 and Retry-After — and the batch answers 200 with one
 * response per request. A JSON body comes back as JSON, any other (a message's MIME) base64-encoded, as Graph does.
 */
export function runBatch(
  req: IncomingMessage,
  body: string,
  res: ServerResponse,
  dispatch: (req: IncomingMessage, body: string, res: ServerResponse) => void,
): void {
  const fail = (status: number, code: string, message: string) => {
    const text = JSON.stringify({ error: { code, message } });
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
    res.end(text);
  };
  let requests: BatchRequest[];
  try {
    requests = (JSON.parse(body || '{}') as { requests?: BatchRequest[] }).requests ?? [];
  } catch {
    return fail(400, 'BadRequest', 'Invalid batch payload format.');
  }
  if (!Array.isArray(requests) || !requests.length) return fail(400, 'BadRequest', 'Invalid batch payload format.');
  if (requests.length > 20) return fail(400, 'BadRequest', 'The batch exceeds the limit of 20 requests.');
  const ids = new Set<string>();
  for (const r of requests) {
    if (typeof r.id !== 'string' || !r.id || typeof r.method !== 'string' || typeof r.url !== 'string' || !r.url.startsWith('/'))
      return fail(400, 'BadRequest', 'Each batch request needs an id, a method and a relative url.');
    if (ids.has(r.id)) return fail(400, 'BadRequest', `The batch request id ${r.id} is repeated.`);
    ids.add(r.id);
  }
  const answers = requests.map(
    (r) =>
      new Promise<object>((resolve) => {
        const headers: Record<string, string> = { authorization: String(req.headers.authorization ?? '') };
        for (const [name, value] of Object.entries((r.headers ?? {}) as Record<string, unknown>)) headers[name.toLowerCase()] = String(value);
        const sub = { method: r.method, url: `/v1.0${r.url as string}`, headers } as unknown as IncomingMessage;
        let status = 200;
        const out: Record<string, string> = {};
        const collector = {
          setHeader: (name: string, value: string) => void (out[name] = String(value)),
          writeHead: (code: number, more: Record<string, string | number> = {}) => {
            status = code;
            for (const [name, value] of Object.entries(more)) out[name] = String(value);
          },
          end: (text = '') => {
            const type = Object.entries(out).find(([n]) => n.toLowerCase() === 'content-type')?.[1] ?? '';
            const answer = !text ? undefined : type.startsWith('application/json') ? JSON.parse(text) : Buffer.from(text).toString('base64');
            const retry = Object.entries(out).find(([n]) => n.toLowerCase() === 'retry-after')?.[1];
            resolve({ id: r.id, status, headers: { ...(type ? { 'Content-Type': type } : {}), ...(retry ? { 'Retry-After': retry } : {}) }, body: answer });
          },
        } as unknown as ServerResponse;
        dispatch(sub, r.body === undefined ? '' : JSON.stringify(r.body), collector);
      }),
  );
  void Promise.all(answers).then((responses) => {
    const text = JSON.stringify({ responses });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
    res.end(text);
  });
}
