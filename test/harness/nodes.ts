/**
 * Several real server processes (server/main.ts) on ONE database, as a deployment of several nodes runs
 * them: each with its own data directory and ports, all with the same secret and directory file. The
 * helpers speak to a chosen node over HTTP and SMTP, as a load balancer would send a request to one.
 * NODES_LOG_DIR=/some/dir keeps each node's log (debug level) there, to read after a failure.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DirectoryDocument } from '../../server/directory/file-provider';
import { testDatabaseUri } from './context';
import { startServer, type ServerProcess } from './server-process';
import { smtpSession } from './smtp-peers';

export const NODES_ADMIN = { LIFEBOAT_ADMIN_EMAIL: 'it@acme.test', LIFEBOAT_ADMIN_PASSWORD: 'first admin password' };
const SECRET = 'several-nodes-secret-0123456789abcdef0123';
/** A file directory of only the administrator's tenant, for tests that then connect it to an Entra stand-in. */
export const ADMIN_TENANT_ONLY: DirectoryDocument = {
  tenant: { id: 'acme', name: 'Acme', domains: ['acme.test'] },
  users: [{ id: 'u-it', displayName: 'IT', mail: NODES_ADMIN.LIFEBOAT_ADMIN_EMAIL }],
  groups: [],
};

export interface Node {
  name: string;
  server: ServerProcess;
  smtpPort: number;
}

export function createNodes(directory: DirectoryDocument[]) {
  const root = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-nodes-'));
  const directoryFile = path.join(root, 'directory.json');
  const database = `nodes_${randomBytes(5).toString('hex')}`;
  const started: Node[] = [];
  let cookie = '';
  writeFileSync(directoryFile, JSON.stringify(directory));

  function mongodbUri(): string {
    const url = new URL(testDatabaseUri());
    url.pathname = `/${database}`;
    return url.toString();
  }

  const nodes = {
    root,
    directoryFile,
    /** The one database every node uses (a test reads what the nodes stored). */
    databaseUri: mongodbUri,
    /** Replaces the directory file every node reads (a reload on one node makes it the tenant's directory). */
    writeDirectory(docs: DirectoryDocument[]): void {
      writeFileSync(directoryFile, JSON.stringify(docs));
    },

    async start(name: string, env: NodeJS.ProcessEnv = {}): Promise<Node> {
      const server = await startServer({
        ...NODES_ADMIN,
        LIFEBOAT_DATA_DIR: path.join(root, name),
        LIFEBOAT_DIRECTORY_FILE: directoryFile,
        LIFEBOAT_SECRET: SECRET,
        MONGODB_URI: mongodbUri(),
        ...(process.env.NODES_LOG_DIR ? { LOG_LEVEL: 'debug' } : {}),
        ...env,
      });
      const smtpPort = Number(/SMTP receiver on port (\d+)/.exec(server.stdout())![1]);
      const node = { name, server, smtpPort };
      started.push(node);
      return node;
    },

    /**
     * Starts the nodes at the same moment, as a deployment does (each seeds the same database); every start
     * is waited for before a failure is thrown, so no node is left running outside `stop()`.
     */
    async startTogether(names: string[], env: NodeJS.ProcessEnv = {}): Promise<Node[]> {
      const results = await Promise.allSettled(names.map((name) => nodes.start(name, env)));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      return results.map((r) => (r as PromiseFulfilledResult<Node>).value);
    },

    /** Signs the first administrator in (on `node`); the session is good on every node (one database). */
    async signIn(node: Node): Promise<void> {
      const login = await fetch(`${node.server.url}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: NODES_ADMIN.LIFEBOAT_ADMIN_EMAIL, password: NODES_ADMIN.LIFEBOAT_ADMIN_PASSWORD }),
      });
      if (login.status !== 200) throw new Error(`admin sign-in answered ${login.status}`);
      cookie = login.headers.getSetCookie()[0]!.split(';')[0]!;
    },

    /** The administrator's request to one node. */
    api(node: Node, method: string, url: string, body?: unknown): Promise<Response> {
      return fetch(`${node.server.url}${url}`, {
        method,
        headers: { cookie, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    },

    /** The administrator's JSON call to one node; a non-2xx answer throws with its body. */
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as res.json(): the tests read fields of whichever answer they asked for
    async call(node: Node, method: string, url: string, body?: unknown): Promise<any> {
      const res = await nodes.api(node, method, url, body);
      if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
      return res.status === 204 ? null : res.json();
    },

    /** Connects the administrator's tenant to an Entra (stand-in) tenant on `node` and waits for its first directory sync. */
    async connectEntra(node: Node, connection: { entraTenantId: string; clientId: string; clientSecret: string }, timeoutMs = 60_000): Promise<void> {
      await nodes.call(node, 'PUT', '/api/directory/connection', connection);
      await nodes.call(node, 'POST', '/api/directory/sync', {});
      const deadline = Date.now() + timeoutMs;
      while ((await nodes.call(node, 'GET', '/api/directory/sync')).state !== 'succeeded') {
        if (Date.now() > deadline) throw new Error('the directory sync did not succeed in time');
        await new Promise((r) => setTimeout(r, 100));
      }
    },

    /** Sets the user's cloud password on `node` and signs the user in there: their bearer token. */
    async userToken(node: Node, userId: string, email: string): Promise<string> {
      const set = await nodes.api(node, 'PUT', `/api/users/${userId}/cloud-password`, { password: 'a user password' });
      if (set.status !== 204) throw new Error(`setting the cloud password answered ${set.status}`);
      const login = await fetch(`${node.server.url}/api/user-auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password: 'a user password' }),
      });
      return (await login.json()).token;
    },

    /** The receiver's answer to RCPT TO for one address. */
    async rcpt(node: Node, address: string): Promise<string> {
      const s = await smtpSession(node.smtpPort);
      await s.command('EHLO sender.example');
      await s.command('MAIL FROM:<someone@sender.example>');
      const reply = await s.command(`RCPT TO:<${address}>`);
      await s.quit();
      return reply;
    },

    /** A continuity event for the group, starting in `startsInMs`; its id. */
    async createEvent(node: Node, startsInMs: number, extra: Record<string, unknown> = {}): Promise<string> {
      const created = await nodes.api(node, 'POST', '/api/events', {
        description: `Failover ${Math.random().toString(36).slice(2, 8)}`,
        affectedGroupId: 'g-all',
        timeZone: 'Europe/London',
        start: new Date(Date.now() + startsInMs).toISOString(),
        end: null,
        ...extra,
      });
      if (created.status !== 201) throw new Error(`creating the event answered ${created.status}: ${await created.text()}`);
      return (await created.json()).id;
    },

    async transitions(node: Node, eventId: string): Promise<string[][]> {
      const found: { kind: string; cause: string }[] = await (await nodes.api(node, 'GET', `/api/events/${eventId}/transitions`)).json();
      return found.map((t) => [t.kind, t.cause]);
    },

    /** Stops every node started (a killed one is already gone), keeps their logs when asked, removes the files. */
    async stop(): Promise<void> {
      for (const node of started) await node.server.stop();
      if (process.env.NODES_LOG_DIR) {
        for (const node of started) writeFileSync(path.join(process.env.NODES_LOG_DIR, `${node.name}.log`), node.server.stdout() + node.server.stderr());
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
  return nodes;
}
export type Nodes = ReturnType<typeof createNodes>;

/** Asks until the answer starts with `code`; returns how long that took (ms). */
export async function untilAnswer(ask: () => Promise<string>, code: string, timeoutMs = 15_000): Promise<number> {
  const started = Date.now();
  for (;;) {
    const reply = await ask();
    if (reply.startsWith(code)) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`still "${reply}" after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
