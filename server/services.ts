/** Composes the models and services of one database connection. main.ts and the tests both use it. */
import type { Connection } from 'mongoose';
import pino, { type Logger } from 'pino';
import { auditModel } from './audit/model';
import { createAuditService } from './audit/service';
import { createAdminService } from './auth/admins';
import { adminModel, loginFailureModel, sessionModel } from './auth/model';
import { createAuthService } from './auth/service';
import { directoryGroupModel, directoryUserModel } from './directory/model';
import { PUBLIC_CLOUD, type GraphEndpoints } from './directory/graph/client';
import { createEntra } from './directory/graph/index';
import { createDirectoryService } from './directory/service';
import { createSecretBox } from './secrets/seal';
import { tenantModel } from './tenants/model';
import { createTenantService } from './tenants/service';

export interface ServiceOptions {
  sessionHours: number;
  /** LIFEBOAT_SECRET: stored credentials are encrypted with a key derived from it. */
  secret: string;
  graph?: GraphEndpoints;
  logger?: Logger;
  now?: () => Date;
}

export function createServices(conn: Connection, options: ServiceOptions) {
  const tenants = createTenantService(tenantModel(conn));
  const audit = createAuditService(auditModel(conn));
  const directory = createDirectoryService({ users: directoryUserModel(conn), groups: directoryGroupModel(conn), tenants });
  const admins = createAdminService({ admins: adminModel(conn), audit });
  const auth = createAuthService({
    admins: adminModel(conn),
    sessions: sessionModel(conn),
    loginFailures: loginFailureModel(conn),
    audit,
    tenants,
    sessionHours: options.sessionHours,
    now: options.now,
  });
  const entra = createEntra(conn, {
    box: createSecretBox(options.secret),
    endpoints: options.graph ?? PUBLIC_CLOUD,
    tenants,
    logger: options.logger ?? pino({ level: 'silent' }),
    now: options.now,
  });
  return { tenants, audit, directory, admins, auth, entra };
}
export type Services = ReturnType<typeof createServices>;

/** Builds every index before traffic arrives (unique indexes are what make claims safe). */
export async function syncIndexes(conn: Connection): Promise<void> {
  for (const model of Object.values(conn.models)) await model.createIndexes();
}
