/**
 * A Lifeboat app on its own fresh database, for one test file: the real services, the real
 * embedded database, real HTTP through supertest. Call useLifeboat() at the top of a test file.
 */
import { randomBytes } from 'node:crypto';
import type { Express } from 'express';
import type { Connection } from 'mongoose';
import request from 'supertest';
import { addinConfigFromEnv, DEMO_DIRECTORY_FILE, dnsConfigFromEnv } from '../../server/config';
import { openConnection } from '../../server/db/connection';
import type { DirectoryDocument } from '../../server/directory/file-provider';
import { createLogger } from '../../server/log';
import { startLifeboat } from '../../server/lifecycle';
import { ENGINES_OFF } from '../../server/protection/engines';
import type { ServiceOptions, Services } from '../../server/services';
import type { Role } from '../../server/auth/model';
import { adminModel } from '../../server/auth/model';
import { hashPassword } from '../../server/auth/password';

export interface LifeboatTestContext {
  conn: Connection;
  services: Services;
  app: Express;
  /** Creates an admin in a tenant and returns a supertest agent signed in as them. */
  signIn(tenantId: string, role: Role, email?: string): Promise<request.Agent>;
  createAdmin(tenantId: string, role: Role, email: string, password: string): Promise<void>;
  /** Everything the app and its services logged (JSON lines, level debug). */
  logs(): string;
}

export function testDatabaseUri(): string {
  const uri = process.env.LIFEBOAT_TEST_MONGODB_URI;
  if (!uri) throw new Error('LIFEBOAT_TEST_MONGODB_URI is not set: run the tests through jest (globalSetup starts the database)');
  return uri;
}

export const TEST_PASSWORD = 'correct horse battery staple';
export const TEST_SECRET = 'test-secret-0123456789abcdef0123456789abcdef';

/**
 * The app's pane and DNS settings as the server would read them from this process's environment
 * (tests set LIFEBOAT_DNS_SERVERS etc. before the app is built).
 */
export function testAppSettings(publicUrl = 'http://localhost') {
  return { publicUrl, addin: addinConfigFromEnv(process.env, publicUrl), dns: dnsConfigFromEnv(process.env) };
}

/** Service options for tests: quiet logs, a fixed secret; anything can be overridden. */
export function testServiceOptions(overrides: Partial<ServiceOptions> = {}): ServiceOptions {
  // Test peers (SMTP, SMS gateways) listen on loopback: the SSRF guard allows it here, as an operator would.
  // The tests' monitor addresses live in domains the server owns for monitoring (LIFEBOAT_MONITOR_DOMAINS).
  // Protection: tenants start in Disabled (mail tests see the mail path as it was; protection tests set
  // their own engines and modes), with content scanning off rather than "down" (no hold for the scanner).
  return {
    sessionHours: 12,
    logger: createLogger('silent'),
    secret: TEST_SECRET,
    allowedPrivateTargets: ['loopback'],
    monitorDomains: ['monitor.lifeboat.test', 'lifeboat.example'],
    protection: { defaultMode: 'disabled', engines: () => ENGINES_OFF },
    ...overrides,
  };
}

export function tenantDirectory(id: string, overrides: Partial<DirectoryDocument> = {}): DirectoryDocument {
  return {
    tenant: { id, name: `Tenant ${id}`, domains: [`${id}.test`] },
    users: [
      { id: `${id}-u1`, displayName: `${id} One`, mail: `one@${id}.test` },
      { id: `${id}-u2`, displayName: `${id} Two`, mail: `two@${id}.test` },
    ],
    groups: [
      {
        id: `${id}-g1`,
        displayName: `${id} Group`,
        mail: `group@${id}.test`,
        groupTypes: ['Unified'],
        mailEnabled: true,
        securityEnabled: false,
        members: [`${id}-u1`, `${id}-u2`],
      },
    ],
    ...overrides,
  };
}

export interface LifeboatOptions {
  now?: () => Date;
  directories?: DirectoryDocument[];
  /** Entra sign-in and Graph endpoints (the local stand-ins), read when the app is built. */
  graph?: () => { loginUrl: string; graphUrl: string };
  services?: Partial<ServiceOptions>;
  /** Express `trust proxy` (LIFEBOAT_TRUST_PROXY). */
  trustProxy?: string;
}

export function useLifeboat(options: LifeboatOptions = {}): LifeboatTestContext {
  const context = {} as LifeboatTestContext;
  const dbName = `t_${randomBytes(6).toString('hex')}`;
  let stop: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    const logs: string[] = [];
    const logger = createLogger('debug', { write: (line: string) => void logs.push(line) });
    // The server's own start sequence (server/lifecycle.ts), on this file's fresh database, with no
    // listeners or loops: tests start those they need (startLiveServer, the services' start()).
    const { conn, services, app, lifecycle } = await startLifeboat({
      logger,
      openDatabase: async () => {
        const conn = await openConnection(testDatabaseUri(), dbName);
        return {
          conn,
          close: async () => {
            await conn.dropDatabase().catch(() => {});
            await conn.close();
          },
        };
      },
      services: testServiceOptions({ now: options.now, graph: options.graph?.(), logger, ...options.services }),
      seed: async (services) => {
        for (const doc of options.directories ?? [tenantDirectory('alpha'), tenantDirectory('beta')]) await services.directory.importDirectory(doc);
      },
      app: { directoryFile: DEMO_DIRECTORY_FILE, ...testAppSettings(), trustProxy: options.trustProxy },
    });
    stop = () => lifecycle.stop();
    let counter = 0;
    Object.assign(context, {
      logs: () => logs.join(''),
      conn,
      services,
      app,
      async createAdmin(tenantId: string, role: Role, email: string, password: string) {
        await adminModel(conn).create({ tenantId, email, role, displayName: email, passwordHash: await hashPassword(password) });
      },
      async signIn(tenantId: string, role: Role, email = `${role.toLowerCase()}${++counter}@${tenantId}.test`) {
        await context.createAdmin(tenantId, role, email, TEST_PASSWORD);
        const agent = request.agent(app);
        await agent.post('/api/auth/login').send({ email, password: TEST_PASSWORD }).expect(200);
        return agent;
      },
    });
  });

  // The same stop as the server's: every service, then the database (dropped, then closed).
  afterAll(async () => {
    await stop?.();
  });

  return context;
}
