/** Environment variables → a validated, typed configuration. A bad value names its variable. */
import { existsSync } from 'node:fs';
import path from 'node:path';

export interface Config {
  port: number;
  smtpPort: number;
  /** Inbound SMTP: host name in the greeting, size limit, optional STARTTLS certificate (PEM files). */
  smtp: { hostname: string; maxMessageBytes: number; tlsCertFile: string | undefined; tlsKeyFile: string | undefined };
  mongodbUri: string | undefined;
  dataDir: string;
  publicUrl: string;
  secret: string | undefined;
  adminEmail: string | undefined;
  adminPassword: string | undefined;
  directoryFile: string;
  logLevel: string;
  sessionHours: number;
  userTokenMinutes: number;
  entra: { audiences: string[]; authority: string; scope: string };
  /** Entra ID sign-in and Microsoft Graph (the public cloud unless set). */
  graph: { loginUrl: string; graphUrl: string };
  /** LIFEBOAT_TRUST_PROXY: Express `trust proxy` for the client address (server/http/trust-proxy.ts). */
  trustProxy: string | undefined;
  /** LIFEBOAT_ALLOWED_PRIVATE_TARGETS: private hosts/addresses/CIDRs tenants may configure (server/http/private-target.ts). */
  allowedPrivateTargets: string[];
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable}: ${problem}`);
  }
}

export const DEMO_DIRECTORY_FILE = path.resolve(__dirname, 'directory', 'demo-directory.json');
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
export const MIN_PASSWORD_LENGTH = 12;

function port(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) > 65535) throw new ConfigError(name, `must be a port number from 0 to 65535, got "${raw}"`);
  return Number(raw);
}

function positiveNumber(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new ConfigError(name, `must be a positive number, got "${raw}"`);
  return value;
}

function httpsUrl(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `must be an https:// URL, got "${raw}"`);
  }
  if (url.protocol !== 'https:' || url.pathname.replace(/\/+$/, '') !== '' || url.search) {
    throw new ConfigError(name, `must be an https:// origin without a path, got "${raw}"`);
  }
  return url.origin;
}

function optional(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw === '' ? undefined : raw;
}

/**
 * Entra sign-in for the add-in (Nested App Authentication). One app registration: its client id
 * (LIFEBOAT_ENTRA_CLIENT_ID) and exposed scope (LIFEBOAT_ENTRA_API_SCOPE, default
 * api://<public host>/<client id>/access_as_user). Tokens must be for that API: `aud` is the client
 * id or the scope's application id URI (or LIFEBOAT_ENTRA_AUDIENCE, a comma-separated list), and
 * `scp` holds the scope's name. Unset client id and audience: Entra tokens are refused.
 */
function entraSettings(env: NodeJS.ProcessEnv, publicUrl: string): Config['entra'] {
  const clientId = optional(env, 'LIFEBOAT_ENTRA_CLIENT_ID');
  const apiScope = optional(env, 'LIFEBOAT_ENTRA_API_SCOPE') ?? (clientId ? `api://${new URL(publicUrl).host}/${clientId}/access_as_user` : undefined);
  const applicationIdUri = apiScope?.replace(/\/[^/]+$/, '');
  const configured = (optional(env, 'LIFEBOAT_ENTRA_AUDIENCE') ?? '')
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  return {
    audiences: configured.length ? configured : [clientId, applicationIdUri].filter((a): a is string => Boolean(a)),
    authority: httpsUrl(env, 'LIFEBOAT_ENTRA_AUTHORITY', 'https://login.microsoftonline.com'),
    scope: apiScope?.split('/').pop() ?? 'access_as_user',
  };
}

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/**
 * LIFEBOAT_SPF_REGIONS: the outbound relay's SPF include per region, `eu=spf-eu.relay.example,us=spf-us.relay.example`.
 * A tenant picks its region on the readiness page; LIFEBOAT_SPF_INCLUDE stays the default include.
 */
export function spfRegions(env: NodeJS.ProcessEnv): Record<string, string> {
  const name = 'LIFEBOAT_SPF_REGIONS';
  const raw = optional(env, name);
  const regions: Record<string, string> = {};
  if (!raw) return regions;
  for (const entry of raw
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const m = /^([a-z0-9][a-z0-9-]{0,31})=(.+)$/i.exec(entry);
    if (!m) throw new ConfigError(name, `each entry must be region=include (like eu=spf-eu.relay.example), got "${entry}"`);
    const [region, include] = [m[1].toLowerCase(), m[2].trim().toLowerCase()];
    if (!HOSTNAME.test(include)) throw new ConfigError(name, `the include of region "${region}" must be a host name, got "${m[2].trim()}"`);
    if (regions[region]) throw new ConfigError(name, `region "${region}" is listed twice`);
    regions[region] = include;
  }
  return regions;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  spfRegions(env); // validated at start; read by the readiness routes
  const portNumber = port(env, 'PORT', 3000);
  const smtpPort = port(env, 'SMTP_PORT', 2525);
  const smtp = {
    hostname: optional(env, 'SMTP_HOSTNAME') ?? 'lifeboat.local',
    maxMessageBytes: Math.floor(positiveNumber(env, 'MAIL_MAX_MESSAGE_MB', 35) * 1024 * 1024),
    tlsCertFile: optional(env, 'SMTP_TLS_CERT_FILE'),
    tlsKeyFile: optional(env, 'SMTP_TLS_KEY_FILE'),
  };
  if ((smtp.tlsCertFile === undefined) !== (smtp.tlsKeyFile === undefined)) {
    throw new ConfigError(smtp.tlsCertFile ? 'SMTP_TLS_KEY_FILE' : 'SMTP_TLS_CERT_FILE', 'SMTP_TLS_CERT_FILE and SMTP_TLS_KEY_FILE must be set together');
  }
  for (const [name, file] of [
    ['SMTP_TLS_CERT_FILE', smtp.tlsCertFile],
    ['SMTP_TLS_KEY_FILE', smtp.tlsKeyFile],
  ] as const) {
    if (file && !existsSync(file)) throw new ConfigError(name, `file not found: ${file}`);
  }

  const mongodbUri = optional(env, 'MONGODB_URI');
  if (mongodbUri && !/^mongodb(\+srv)?:\/\/\S+$/.test(mongodbUri)) {
    throw new ConfigError('MONGODB_URI', 'must be a mongodb:// or mongodb+srv:// connection string');
  }

  const dataDir = path.resolve(optional(env, 'LIFEBOAT_DATA_DIR') ?? './data');

  const publicUrl = optional(env, 'LIFEBOAT_PUBLIC_URL') ?? `http://localhost:${portNumber}`;
  let parsed: URL;
  try {
    parsed = new URL(publicUrl);
  } catch {
    throw new ConfigError('LIFEBOAT_PUBLIC_URL', `must be an absolute http(s) URL, got "${publicUrl}"`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ConfigError('LIFEBOAT_PUBLIC_URL', `must be an absolute http(s) URL, got "${publicUrl}"`);
  }

  const secret = optional(env, 'LIFEBOAT_SECRET');
  if (secret !== undefined && secret.length < 32) {
    throw new ConfigError('LIFEBOAT_SECRET', 'must be at least 32 characters (for example: openssl rand -hex 32)');
  }

  const adminEmail = optional(env, 'LIFEBOAT_ADMIN_EMAIL');
  const adminPassword = optional(env, 'LIFEBOAT_ADMIN_PASSWORD');
  if (adminEmail !== undefined && !EMAIL.test(adminEmail)) {
    throw new ConfigError('LIFEBOAT_ADMIN_EMAIL', `must be an email address, got "${adminEmail}"`);
  }
  if ((adminEmail === undefined) !== (adminPassword === undefined)) {
    const missing = adminEmail === undefined ? 'LIFEBOAT_ADMIN_EMAIL' : 'LIFEBOAT_ADMIN_PASSWORD';
    throw new ConfigError(missing, 'LIFEBOAT_ADMIN_EMAIL and LIFEBOAT_ADMIN_PASSWORD must be set together');
  }
  if (adminPassword !== undefined && adminPassword.length < MIN_PASSWORD_LENGTH) {
    throw new ConfigError('LIFEBOAT_ADMIN_PASSWORD', `must be at least ${MIN_PASSWORD_LENGTH} characters`);
  }

  const directoryFile = path.resolve(optional(env, 'LIFEBOAT_DIRECTORY_FILE') ?? DEMO_DIRECTORY_FILE);
  if (!existsSync(directoryFile)) {
    throw new ConfigError('LIFEBOAT_DIRECTORY_FILE', `file not found: ${directoryFile}`);
  }

  const entra = entraSettings(env, publicUrl);

  const logLevel = optional(env, 'LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }

  return {
    port: portNumber,
    smtpPort,
    smtp,
    mongodbUri,
    dataDir,
    publicUrl: publicUrl.replace(/\/+$/, ''),
    secret,
    adminEmail,
    adminPassword,
    directoryFile,
    logLevel,
    sessionHours: positiveNumber(env, 'LIFEBOAT_SESSION_HOURS', 12),
    userTokenMinutes: positiveNumber(env, 'LIFEBOAT_USER_TOKEN_MINUTES', 60),
    entra,
    // One Entra authority host for app sign-in (Graph), user tokens' keys and the pane's NAA.
    graph: { loginUrl: entra.authority, graphUrl: httpsUrl(env, 'LIFEBOAT_GRAPH_URL', 'https://graph.microsoft.com') },
    trustProxy: optional(env, 'LIFEBOAT_TRUST_PROXY'),
    allowedPrivateTargets: (optional(env, 'LIFEBOAT_ALLOWED_PRIVATE_TARGETS') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  };
}
