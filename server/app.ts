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
import { entraSignInRoutes } from './inbox/entra-routes';
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
import { detectionRoutes } from './protection/detection-routes';
import { openApiRoutes } from './http/openapi/routes';
import { threatScanRoutes } from './threat-scan/routes';
import { sentItemsRoutes } from './sent-items/routes';
import { exchangeSetupRoutes } from './exchange-setup/routes';
import { problemHandler, unknownRoute } from './http/problem';
import { trustProxySetting } from './http/trust-proxy';
import { securityHeaders } from './http/security-headers';
import { apiRateLimit, type RateLimitOptions } from './http/rate-limit';
import { originCheck } from './http/origin-check';
import { redactedRequest } from './http/log-redaction';
import { SESSION_COOKIE } from './auth/middleware';
import { requireUser } from './user-auth/middleware';
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
  /** API rate limits (server/http/rate-limit.ts); defaults suit production. */
  rateLimit?: RateLimitOptions;
  /** LIFEBOAT_TRUST_PROXY: which proxies' X-Forwarded-For gives the client address (Express `trust proxy`). */
  trustProxy?: string;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

export function createApp(options: AppOptions): Express {
  const { services } = options;
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.set('trust proxy', trustProxySetting(options.trustProxy));

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
        // Portal links are 24-hour credentials: their tokens never reach the log (http/log-redaction.ts).
        req: (req: { id: unknown; method: string; url: string; remoteAddress?: string }) =>
          redactedRequest({ id: req.id, method: req.method, url: req.url, remoteAddress: req.remoteAddress }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    }),
  );
  app.use(securityHeaders({ publicUrl: options.publicUrl }));
  app.use(['/api', '/portal'], apiRateLimit(options.rateLimit));
  app.use(originCheck({ publicUrl: options.publicUrl, cookieName: SESSION_COOKIE }));
  // Sending mail carries attachments (base64): a large limit on that one route, and only once the
  // sender is authenticated; everything else gets a small one (no big body is parsed before auth).
  app.post('/api/me/messages', requireUser(services.userAuth), express.json({ limit: '50mb' }));
  app.use(express.json({ limit: options.bodyLimit ?? '100kb' }));

  app.get('/healthz', async (_req, res) => {
    const up = await pingDatabase(options.conn);
    res.status(up ? 200 : 503).json({ status: up ? 'ok' : 'degraded', db: up ? 'ok' : 'down' });
  });
  app.use(openApiRoutes());

  app.use(authRoutes({ auth: services.auth, admins: services.admins, twoFactor: services.twoFactor, secureCookies: options.publicUrl.startsWith('https:') }));
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

  app.use(threatScanRoutes({ auth: services.auth, scans: services.threatScan }));
  app.use(sentItemsRoutes({ auth: services.auth, userAuth: services.userAuth, sentItems: services.sentItems }));
  app.use(exchangeSetupRoutes({ auth: services.auth }));

  app.use(addinRoutes({ config: options.addin }));
  app.use(
    readinessRoutes({
      auth: services.auth,
      tenants: services.tenants,
      readiness: services.readiness,
      dns: options.dns,
      signingRecords: (tenantId) => services.mail.signingRecords(tenantId),
      probeMessage: services.probeMessages,
      smtpHostname: services.smtpHostname,
    }),
  );
  app.use(policyRoutes({ auth: services.auth, policies: services.protection.policies, vips: services.protection.vips, engines: services.protection.engines }));
  app.use(quarantineRoutes({ auth: services.auth, userAuth: services.userAuth, quarantine: services.protection.quarantine }));
  app.use(
    detectionRoutes({
      auth: services.auth,
      userAuth: services.userAuth,
      detections: services.protection.detections,
      readMessage: (user, id) => services.mail.read(user, id),
    }),
  );
  app.use(entraSignInRoutes({ signIn: services.inboxSignIn }));
  app.use(adminRoutes());
  app.use(inboxRoutes());

  app.use(pageNotFound);
  app.use(unknownRoute);
  app.use(problemHandler);
  return app;
}
