/** The Express app factory: main.ts serves it, supertest drives it. */
import { randomUUID } from 'node:crypto';
import express, { type Express } from 'express';
import type { Connection } from 'mongoose';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import { addinConfigFromEnv, addinRoutes } from './addin/routes';
import { adminRoutes } from './admin/routes';
import { inboxRoutes, pageNotFound } from './inbox/routes';
import { peopleRoutes } from './inbox/people-routes';
import { createEndUserAccess } from './inbox/access';
import { endUserAccessRoutes } from './inbox/access-routes';
import { auditRoutes } from './audit/routes';
import { authRoutes } from './auth/routes';
import { pingDatabase } from './db/connection';
import { entraRoutes } from './directory/graph/routes';
import { directoryRoutes } from './directory/routes';
import { clientRoutes } from './clients/routes';
import { eventRoutes } from './events/routes';
import { mailRoutes } from './mail/routes';
import { monitorRoutes } from './monitor/routes';
import { portalRoutes } from './portal/routes';
import { notifyRoutes } from './notify/routes';
import { readinessRoutes } from './readiness/routes';
import { reportRoutes } from './reports/routes';
import { statusRoutes } from './push/routes';
import { userAuthRoutes } from './user-auth/routes';
import { problemHandler, unknownRoute } from './http/problem';
import type { Services } from './services';

export interface AppOptions {
  conn: Connection;
  services: Services;
  logger: Logger;
  directoryFile: string;
  publicUrl: string;
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
    directoryRoutes({ auth: services.auth, directory: services.directory, entra: services.entra, audit: services.audit, directoryFile: options.directoryFile }),
  );
  app.use(entraRoutes({ auth: services.auth, audit: services.audit, entra: services.entra, tenants: services.tenants }));
  app.use(auditRoutes({ auth: services.auth, audit: services.audit }));
  app.use(eventRoutes({ auth: services.auth, events: services.events, directory: services.directory, smsPhoneAttribute: services.notify.phoneAttribute }));
  app.use(reportRoutes({ auth: services.auth, reports: services.reports }));
  app.use(userAuthRoutes({ auth: services.auth, userAuth: services.userAuth }));
  app.use(statusRoutes({ userAuth: services.userAuth, status: services.status, receipts: services.receipts }));
  app.use(clientRoutes({ auth: services.auth, userAuth: services.userAuth, clients: services.clients }));

  // Which users may use the end-user mail tools (a tenant setting): checked before the mail routes.
  const access = createEndUserAccess(options.conn, { directory: services.directory, audit: services.audit });
  app.use(endUserAccessRoutes({ auth: services.auth, userAuth: services.userAuth, access }));
  app.use(mailRoutes({ auth: services.auth, userAuth: services.userAuth, mail: services.mail }));
  app.use(peopleRoutes({ userAuth: services.userAuth, directory: services.directory }));
  app.use(monitorRoutes({ auth: services.auth, monitor: services.monitor }));
  app.use(portalRoutes({ portal: services.portal }));
  app.use(notifyRoutes({ auth: services.auth, userAuth: services.userAuth, notify: services.notify }));

  app.use(addinRoutes({ config: addinConfigFromEnv(process.env, options.publicUrl) }));
  app.use(readinessRoutes({ auth: services.auth, tenants: services.tenants, readiness: services.readiness }));
  app.use(adminRoutes());
  app.use(inboxRoutes());

  app.use(pageNotFound);
  app.use(unknownRoute);
  app.use(problemHandler);
  return app;
}
