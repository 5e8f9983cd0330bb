/** The Express app factory: main.ts serves it, supertest drives it. */
import { randomUUID } from 'node:crypto';
import express, { type Express } from 'express';
import type { Connection } from 'mongoose';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import { addinRoutes } from './addin/routes';
import type { AddinClientConfig, DnsConfig } from './config';
import { adminRoutes } from './admin/routes';
import { inboxRoutes, pageNotFound } from './inbox/routes';
import { peopleRoutes } from './inbox/people-routes';
import { endUserAccessRoutes } from './inbox/access-routes';
import { auditRoutes } from './audit/routes';
import { authRoutes } from './auth/routes';
import { pingDatabase } from './db/connection';
import { entraRoutes } from './directory/graph/routes';
import { directoryRoutes } from './directory/routes';
import { clientRoutes } from './clients/routes';
import { eventRoutes } from './events/routes';
import { mailQueueRoutes } from './mail/admin-queue-routes';
import { mailRoutes } from './mail/routes';
import { monitorRoutes } from './monitor/routes';
import { portalRoutes } from './portal/routes';
import { notifyRoutes } from './notify/routes';
import { readinessRoutes } from './readiness/routes';
import { reportRoutes } from './reports/routes';
import { statusRoutes } from './push/routes';
import { passwordImportRoutes } from './user-auth/import-routes';
import { userAuthRoutes } from './user-auth/routes';
import { policyRoutes } from './protection/policy-routes';
import { quarantineRoutes } from './protection/quarantine-routes';
import { problemHandler, unknownRoute } from './http/problem';
import type { Services } from './services';

export interface AppOptions {
  conn: Connection;
  services: Services;
  logger: Logger;
  directoryFile: string;
  publicUrl: string;
  /** The pane's runtime settings and the DNS readiness checks' (Config.addin, Config.dns). */
  addin: AddinClientConfig;
  dns: DnsConfig;
  bodyLimit?: string;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

export function createApp(options: AppOptions): Express {
  const { services } = options;
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');

  app.use(
    pinoHttp({
      logger: options.logger,
      genReqId: (req, res) => {
        const incoming = req.headers['x-request-id'];
        const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      // One short line per request: full headers (cookies, user agents, forwarded chains) drowned the
      // lines an admin needs at info, such as the one-time bootstrap password.
      serializers: {
        req: (req: { id: unknown; method: string; url: string; remoteAddress?: string }) => ({
          id: req.id,
          method: req.method,
          url: req.url,
          remoteAddress: req.remoteAddress,
        }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    }),
  );
  app.use((_req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    next();
  });
  // Sending mail carries attachments (base64): a larger limit on that one route only.
  app.use('/api/me/messages', express.json({ limit: '50mb' }));
  app.use(express.json({ limit: options.bodyLimit ?? '1mb' }));

  app.get('/healthz', async (_req, res) => {
    const up = await pingDatabase(options.conn);
    res.status(up ? 200 : 503).json({ status: up ? 'ok' : 'degraded', db: up ? 'ok' : 'down' });
  });

  app.use(authRoutes({ auth: services.auth, admins: services.admins, secureCookies: options.publicUrl.startsWith('https:') }));
  app.use(
    directoryRoutes({
      auth: services.auth,
      directory: services.directory,
      entra: services.entra,
      audit: services.audit,
      directoryFile: options.directoryFile,
      cloudPasswordsSetAt: services.userAuth.cloudPasswordsSetAt,
    }),
  );
  app.use(entraRoutes({ auth: services.auth, audit: services.audit, entra: services.entra, tenants: services.tenants }));
  app.use(auditRoutes({ auth: services.auth, audit: services.audit }));
  app.use(
    eventRoutes({
      auth: services.auth,
      events: services.events,
      directory: services.directory,
      smsPhoneAttribute: services.notify.phoneAttribute,
      smsRuns: services.notify.smsRuns.runsOf,
    }),
  );
  app.use(reportRoutes({ auth: services.auth, reports: services.reports }));
  app.use(userAuthRoutes({ auth: services.auth, userAuth: services.userAuth }));
  app.use(passwordImportRoutes({ auth: services.auth, passwordImport: services.passwordImport }));
  app.use(statusRoutes({ userAuth: services.userAuth, status: services.status, receipts: services.receipts }));
  app.use(clientRoutes({ auth: services.auth, userAuth: services.userAuth, clients: services.clients }));

  // Which users may use the end-user mail tools (a tenant setting): checked before the mail routes.
  app.use(endUserAccessRoutes({ auth: services.auth, userAuth: services.userAuth, access: services.endUserAccess }));
  app.use(mailRoutes({ auth: services.auth, userAuth: services.userAuth, mail: services.mail }));
  app.use(mailQueueRoutes({ auth: services.auth, queue: services.mailQueue }));
  app.use(peopleRoutes({ userAuth: services.userAuth, directory: services.directory }));
  app.use(monitorRoutes({ auth: services.auth, monitor: services.monitor }));
  app.use(portalRoutes({ portal: services.portal }));
  app.use(notifyRoutes({ auth: services.auth, userAuth: services.userAuth, notify: services.notify }));

  app.use(addinRoutes({ config: options.addin }));
  app.use(readinessRoutes({ auth: services.auth, tenants: services.tenants, readiness: services.readiness, dns: options.dns }));
  app.use(policyRoutes({ auth: services.auth, policies: services.protection.policies, vips: services.protection.vips, engines: services.protection.engines }));
  app.use(quarantineRoutes({ auth: services.auth, userAuth: services.userAuth, quarantine: services.protection.quarantine }));
  app.use(adminRoutes());
  app.use(inboxRoutes());

  app.use(pageNotFound);
  app.use(unknownRoute);
  app.use(problemHandler);
  return app;
}
