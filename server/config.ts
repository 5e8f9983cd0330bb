/**
 * The one configuration of Lifeboat: every environment variable the server reads is declared in
 * SETTINGS below (its doc, variable, default and format, as practica's config), read once at start
 * and passed down as a typed Config. This is the only file that reads `process.env`; a bad value
 * names its variable. Every value is trimmed, except secrets and passwords (kept as given).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  ConfigError,
  LOG_LEVELS,
  text,
  lowerCase,
  portNumber,
  positiveNumber,
  commaList,
  existingFile,
  httpsOrigin,
  httpUrl,
  redisUrlFormat,
  wholeNumber,
  mongoUri,
  longSecret,
  emailAddress,
  password,
  logLevel,
  regionIncludes,
  type Format,
} from './config-formats';

export { ConfigError, MIN_PASSWORD_LENGTH } from './config-formats';

type Env = NodeJS.ProcessEnv;

/** What the pane reads from /addin/config.json (served by server/addin/routes.ts). */
export interface AddinClientConfig {
  /** Nested App Authentication (Entra); null: the pane offers the cloud password only. */
  naa: { clientId: string; authority: string; scopes: string[] } | null;
  /** Where users whose Outlook cannot enter continuity mode read and send mail during an outage. */
  continuityInboxUrl: string | null;
}

/** Mail DNS readiness checks (server/readiness/dns.ts). */
export interface DnsConfig {
  /** DNS servers (`ip` or `ip:port`); empty: the system's. */
  servers: string[];
  /** The include the SPF record must carry (e.g. `spf.relay.example`); null: not configured. */
  spfInclude: string | null;
  /** Region → include (LIFEBOAT_SPF_REGIONS); a tenant's readiness setting picks one. */
  spfRegions?: Record<string, string>;
  timeoutMs: number;
}

export interface Config {
  port: number;
  smtpPort: number;
  /**
   * Inbound SMTP: host name in the greeting, size limit, optional STARTTLS certificate (PEM files), the
   * hop limit (Received headers a message may carry) and the connection caps (server/mail/receiver.ts).
   */
  smtp: {
    hostname: string;
    maxMessageBytes: number;
    tlsCertFile: string | undefined;
    tlsKeyFile: string | undefined;
    maxReceivedHeaders: number;
    limits: { connections: number; connectionsPerAddress: number; messagesPerConnection: number };
  };
  /** MAIL_DELIVERY_LEASE_SECONDS, in ms: a delivery claimed by a node that died waits this long for another node. */
  deliveryLeaseMs: number;
  mongodbUri: string | undefined;
  /** REDIS_URL: set → several nodes share Socket.IO rooms and cache invalidations through this Redis; unset → one node. */
  redisUrl: string | undefined;
  /** LIFEBOAT_CHANGE_CHECK_MS: without Redis, how often a node reads the other nodes' changes from the database (0: never). */
  changeCheckMs: number;
  dataDir: string;
  publicUrl: string;
  secret: string | undefined;
  adminEmail: string | undefined;
  adminPassword: string | undefined;
  directoryFile: string;
  logLevel: string;
  sessionHours: number;
  /** How long a Threat Scan mailbox lease (and a continuous-protection round) outlives a dead process. */
  threatScanLeaseSeconds: number;
  userTokenMinutes: number;
  entra: { audiences: string[]; authority: string; scope: string };
  /** Entra ID sign-in and Microsoft Graph (the public cloud unless set). */
  graph: { loginUrl: string; graphUrl: string };
  /** HTTPS certificate and key files (server/http/tls.ts decides how to serve from them). */
  tls: { certFile: string | undefined; keyFile: string | undefined };
  /** The pane's runtime settings: derived from the same Entra values the token checker uses. */
  addin: AddinClientConfig;
  dns: DnsConfig;
  /** Protection engines: resolver list, rspamd (unset: embedded; `off`: none), clamd (host:port or a socket path). */
  protection: { dnsServers: string[]; rspamdUrl: string | undefined; clamd: string | undefined };
  /** LIFEBOAT_QUARANTINE_RETENTION_DAYS: how long quarantined mail is kept. */
  quarantineRetentionDays: number;
  /** LIFEBOAT_TRUST_PROXY: Express `trust proxy` for the client address (server/http/trust-proxy.ts). */
  trustProxy: string | undefined;
  /** LIFEBOAT_API_RATE_LIMIT: requests per minute per identity; per client address 2.5 times that (server/http/rate-limit.ts). */
  rateLimit: { perIdentityPerMinute: number; perAddressPerMinute: number };
  /** LIFEBOAT_ALLOWED_PRIVATE_TARGETS: private hosts/addresses/CIDRs tenants may configure (server/http/private-target.ts). */
  allowedPrivateTargets: string[];
  /** LIFEBOAT_MONITOR_DOMAINS: the server's own domains for monitor addresses (the SMTP host name always is one). */
  monitorDomains: string[];
  /** LIFEBOAT_MONITOR_MINUTE_MS: the continuity monitor's minute in ms (60000; shorter only for drills and tests). */
  monitorMinuteMs: number;
  /** LIFEBOAT_ADMIN_EMAIL_DOMAINS: domains any tenant's admins may have addresses in besides the tenant's own (`*`: any). */
  adminEmailDomains: string[];
}

export const DEMO_DIRECTORY_FILE = path.resolve(__dirname, 'directory', 'demo-directory.json');

// ---- the settings ------------------------------------------------------------------------------------

interface Setting<T> {
  variable: string;
  doc: string;
  /** Used when the variable is unset or empty (after trimming). */
  default: T;
  format: Format<T>;
  /** Secrets and passwords are taken exactly as given. */
  untrimmed?: boolean;
}

const setting = <T>(s: Setting<T>): Setting<T> => s;

export const SETTINGS = {
  port: setting({ variable: 'PORT', doc: 'HTTP(S) port of the API, the admin page and the add-in.', default: 3000, format: portNumber }),
  smtpPort: setting({ variable: 'SMTP_PORT', doc: 'Port of the inbound SMTP receiver.', default: 2525, format: portNumber }),
  smtpHostname: setting({ variable: 'SMTP_HOSTNAME', doc: 'Host name in the SMTP greeting.', default: 'lifeboat.local', format: text }),
  maxMessageMb: setting({ variable: 'MAIL_MAX_MESSAGE_MB', doc: 'Largest message the receiver accepts, in MB.', default: 35, format: positiveNumber }),
  maxReceivedHeaders: setting({
    variable: 'SMTP_MAX_RECEIVED_HEADERS',
    doc: 'A message already carrying more Received headers than this is refused with 554 5.4.6 (a mail loop).',
    default: 30,
    format: positiveNumber,
  }),
  smtpMaxConnections: setting({
    variable: 'SMTP_MAX_CONNECTIONS',
    doc: 'Open SMTP connections in total; more are answered 421 4.7.0.',
    default: 500,
    format: positiveNumber,
  }),
  smtpMaxConnectionsPerClient: setting({
    variable: 'SMTP_MAX_CONNECTIONS_PER_CLIENT',
    doc: 'Open SMTP connections from one client address; more are answered 421 4.7.0.',
    default: 50,
    format: positiveNumber,
  }),
  smtpMaxMessagesPerConnection: setting({
    variable: 'SMTP_MAX_MESSAGES_PER_CONNECTION',
    doc: 'Messages in one SMTP connection; the next MAIL FROM is answered 421 4.7.0 and the client reconnects.',
    default: 1000,
    format: positiveNumber,
  }),
  deliveryLeaseSeconds: setting({
    variable: 'MAIL_DELIVERY_LEASE_SECONDS',
    doc: "How long a node's claim on an onward delivery lasts: mail a node was delivering when it died is delivered by another node after this.",
    default: 300,
    format: positiveNumber,
  }),
  smtpTlsCertFile: setting<string | undefined>({
    variable: 'SMTP_TLS_CERT_FILE',
    doc: 'STARTTLS certificate (PEM).',
    default: undefined,
    format: existingFile,
  }),
  smtpTlsKeyFile: setting<string | undefined>({ variable: 'SMTP_TLS_KEY_FILE', doc: 'STARTTLS private key (PEM).', default: undefined, format: existingFile }),
  mongodbUri: setting<string | undefined>({
    variable: 'MONGODB_URI',
    doc: 'The database; unset: the embedded FerretDB under the data directory.',
    default: undefined,
    format: mongoUri,
    untrimmed: true,
  }),
  redisUrl: setting<string | undefined>({
    variable: 'REDIS_URL',
    doc: 'Redis for several nodes (Socket.IO rooms and cache invalidation); unset: one node.',
    default: undefined,
    format: redisUrlFormat,
  }),
  changeCheckMs: setting({
    variable: 'LIFEBOAT_CHANGE_CHECK_MS',
    doc: "Several nodes on MONGODB_URI without REDIS_URL: how often (ms) each node reads the others' changes from the database and drops its caches; 0: never (one node).",
    default: 1000,
    format: wholeNumber,
  }),
  dataDir: setting({ variable: 'LIFEBOAT_DATA_DIR', doc: 'Data directory (embedded database, spool, secret, TLS).', default: './data', format: text }),
  publicUrl: setting<string | undefined>({
    variable: 'LIFEBOAT_PUBLIC_URL',
    doc: 'The URL users reach Lifeboat at; default http://localhost:<PORT>.',
    default: undefined,
    format: httpUrl,
  }),
  secret: setting<string | undefined>({
    variable: 'LIFEBOAT_SECRET',
    doc: 'Key for sealed secrets; unset: generated on first start and kept in the data directory.',
    default: undefined,
    format: longSecret,
    untrimmed: true,
  }),
  adminEmail: setting<string | undefined>({ variable: 'LIFEBOAT_ADMIN_EMAIL', doc: 'The first full administrator.', default: undefined, format: emailAddress }),
  adminPassword: setting<string | undefined>({
    variable: 'LIFEBOAT_ADMIN_PASSWORD',
    doc: "The first full administrator's password.",
    default: undefined,
    format: password,
    untrimmed: true,
  }),
  directoryFile: setting({ variable: 'LIFEBOAT_DIRECTORY_FILE', doc: 'Directory file loaded at start.', default: DEMO_DIRECTORY_FILE, format: text }),
  logLevel: setting({ variable: 'LOG_LEVEL', doc: `Log level: ${LOG_LEVELS.join(', ')}.`, default: 'info', format: logLevel }),
  sessionHours: setting({ variable: 'LIFEBOAT_SESSION_HOURS', doc: 'Admin session lifetime, hours.', default: 12, format: positiveNumber }),
  threatScanLeaseSeconds: setting({
    variable: 'LIFEBOAT_THREAT_SCAN_LEASE_SECONDS',
    doc: 'Seconds after which another node takes over a Threat Scan mailbox whose process stopped renewing it (it renews after every page).',
    default: 60,
    format: positiveNumber,
  }),
  userTokenMinutes: setting({
    variable: 'LIFEBOAT_USER_TOKEN_MINUTES',
    doc: 'Cloud-password user token lifetime, minutes.',
    default: 60,
    format: positiveNumber,
  }),
  entraClientId: setting<string | undefined>({
    variable: 'LIFEBOAT_ENTRA_CLIENT_ID',
    doc: "The add-in's Entra app (Nested App Authentication); unset: Entra tokens are refused and the pane offers the cloud password only.",
    default: undefined,
    format: text,
  }),
  entraApiScope: setting<string | undefined>({
    variable: 'LIFEBOAT_ENTRA_API_SCOPE',
    doc: "The app's exposed scope; default api://<public host>/<client id>/access_as_user.",
    default: undefined,
    format: text,
  }),
  entraAudience: setting<string[]>({
    variable: 'LIFEBOAT_ENTRA_AUDIENCE',
    doc: 'Accepted token audiences (comma-separated); default the client id and the scope’s application id URI.',
    default: [],
    format: commaList,
  }),
  entraAuthority: setting({
    variable: 'LIFEBOAT_ENTRA_AUTHORITY',
    doc: 'Entra authority host (sign-in, signing keys, the pane’s NAA).',
    default: 'https://login.microsoftonline.com',
    format: httpsOrigin,
  }),
  graphUrl: setting({ variable: 'LIFEBOAT_GRAPH_URL', doc: 'Microsoft Graph host.', default: 'https://graph.microsoft.com', format: httpsOrigin }),
  continuityInboxUrl: setting<string | undefined>({
    variable: 'LIFEBOAT_CONTINUITY_INBOX_URL',
    doc: 'The web continuity inbox the pane points to; default the public URL.',
    default: undefined,
    format: text,
  }),
  tlsCert: setting<string | undefined>({ variable: 'LIFEBOAT_TLS_CERT', doc: 'HTTPS certificate (PEM file).', default: undefined, format: text }),
  tlsKey: setting<string | undefined>({ variable: 'LIFEBOAT_TLS_KEY', doc: 'HTTPS private key (PEM file).', default: undefined, format: text }),
  dnsServers: setting<string[]>({
    variable: 'LIFEBOAT_DNS_SERVERS',
    doc: 'DNS servers for the readiness checks and sender authentication (comma-separated ip or ip:port); default the system’s.',
    default: [],
    format: commaList,
  }),
  rspamdUrl: setting<string | undefined>({
    variable: 'LIFEBOAT_RSPAMD_URL',
    doc: 'rspamd controller/normal worker URL; unset: the server starts its own when `rspamd` is installed; `off`: no rspamd.',
    default: undefined,
    format: text,
  }),
  trustProxy: setting<string | undefined>({
    variable: 'LIFEBOAT_TRUST_PROXY',
    doc: 'Express `trust proxy` (e.g. `loopback`, a CIDR list, a hop count) so the client address comes from X-Forwarded-For; unset: the socket address.',
    default: undefined,
    format: text,
  }),
  apiRateLimit: setting({
    variable: 'LIFEBOAT_API_RATE_LIMIT',
    doc: 'API requests per minute per identity (session or token); per client address 2.5 times that.',
    default: 1200,
    format: positiveNumber,
  }),
  allowedPrivateTargets: setting<string[]>({
    variable: 'LIFEBOAT_ALLOWED_PRIVATE_TARGETS',
    doc: 'Private hosts, addresses or CIDRs (comma-separated; `loopback` too) that tenants may configure as relays, webhooks and gateways; unset: none.',
    default: [],
    format: commaList,
  }),
  monitorDomains: setting<string[]>({
    variable: 'LIFEBOAT_MONITOR_DOMAINS',
    doc: 'Domains (comma-separated) this server owns for monitor addresses, besides SMTP_HOSTNAME; point their MX at Lifeboat. A tenant may also use its own domains.',
    default: [],
    format: (raw, variable) => commaList(raw.toLowerCase(), variable),
  }),
  monitorMinuteMs: setting({
    variable: 'LIFEBOAT_MONITOR_MINUTE_MS',
    doc: "Milliseconds in the continuity monitor's minute (its windows, alert repeats and auto-activation delays): keep 60000 in production; a drill or a test shortens every window with it.",
    default: 60_000,
    format: positiveNumber,
  }),
  adminEmailDomains: setting<string[]>({
    variable: 'LIFEBOAT_ADMIN_EMAIL_DOMAINS',
    doc: "Domains (comma-separated) any tenant's admins may have addresses in besides the tenant's own; `*`: any domain. Unset: only the tenant's own domains.",
    default: [],
    format: (raw, variable) => commaList(raw.toLowerCase(), variable),
  }),
  clamd: setting<string | undefined>({
    variable: 'LIFEBOAT_CLAMD',
    doc: 'clamd for malware scanning: host:port or a unix socket path; unset: none.',
    default: undefined,
    format: text,
  }),
  quarantineRetentionDays: setting({
    variable: 'LIFEBOAT_QUARANTINE_RETENTION_DAYS',
    doc: 'How long quarantined mail is kept (the raw message too, even past a tenant’s shorter mail retention), in days.',
    default: 30,
    format: positiveNumber,
  }),
  spfInclude: setting<string | undefined>({
    variable: 'LIFEBOAT_SPF_INCLUDE',
    doc: 'The SPF include of the outbound relay (the default region).',
    default: undefined,
    format: lowerCase,
  }),
  spfRegions: setting<Record<string, string>>({
    variable: 'LIFEBOAT_SPF_REGIONS',
    doc: 'SPF include per region, `eu=spf-eu.relay.example,us=…`; a tenant picks its region on the readiness page.',
    default: {},
    format: regionIncludes,
  }),
};

type Settings = typeof SETTINGS;
type ValueOf<K extends keyof Settings> = Settings[K] extends Setting<infer T> ? T : never;

/** One setting's value: its format applied to the variable, or its default when unset or empty. */
function read<K extends keyof Settings>(env: Env, key: K): ValueOf<K> {
  const spec = SETTINGS[key] as unknown as Setting<ValueOf<K>>;
  const given = env[spec.variable];
  const raw = spec.untrimmed ? given : given?.trim();
  if (raw === undefined || raw === '') return spec.default;
  return spec.format(raw, spec.variable);
}

// ---- sections read together (also used alone by tests) ---------------------------------------------

/**
 * Entra sign-in for the add-in (Nested App Authentication). One app registration: its client id
 * and exposed scope. Tokens must be for that API: `aud` is the client id or the scope's application
 * id URI (or LIFEBOAT_ENTRA_AUDIENCE), and `scp` holds the scope's name.
 */
function entraSettings(env: Env, publicUrl: string) {
  const clientId = read(env, 'entraClientId');
  const apiScope = read(env, 'entraApiScope') ?? (clientId ? `api://${new URL(publicUrl).host}/${clientId}/access_as_user` : undefined);
  const applicationIdUri = apiScope?.replace(/\/[^/]+$/, '');
  const configured = read(env, 'entraAudience');
  return {
    clientId,
    apiScope,
    entra: {
      audiences: configured.length ? configured : [clientId, applicationIdUri].filter((a): a is string => Boolean(a)),
      authority: read(env, 'entraAuthority'),
      scope: apiScope?.split('/').pop() ?? 'access_as_user',
    },
  };
}

/** The pane's settings, from the same Entra values the backend checks tokens against. */
export function addinConfigFromEnv(env: Env, publicUrl: string): AddinClientConfig {
  const base = publicUrl.replace(/\/+$/, '');
  const { clientId, apiScope, entra } = entraSettings(env, base);
  return {
    // The pane uses the authority's multi-tenant `organizations` path.
    naa: clientId && apiScope ? { clientId, authority: `${entra.authority}/organizations`, scopes: [apiScope] } : null,
    continuityInboxUrl: read(env, 'continuityInboxUrl') ?? `${base}/`,
  };
}

/** LIFEBOAT_SPF_REGIONS alone (validated at start, read by the readiness checks). */
export function spfRegions(env: Env): Record<string, string> {
  return read(env, 'spfRegions');
}

/** LIFEBOAT_DNS_SERVERS, LIFEBOAT_SPF_INCLUDE (the default) and LIFEBOAT_SPF_REGIONS. */
export function dnsConfigFromEnv(env: Env): DnsConfig {
  return { servers: read(env, 'dnsServers'), spfInclude: read(env, 'spfInclude') ?? null, spfRegions: read(env, 'spfRegions'), timeoutMs: 3000 };
}

/** LIFEBOAT_TLS_CERT and LIFEBOAT_TLS_KEY (checked as a pair, and read, by server/http/tls.ts). */
export function tlsFilesFromEnv(env: Env): Config['tls'] {
  return { certFile: read(env, 'tlsCert'), keyFile: read(env, 'tlsKey') };
}

function bothOrNeither(a: [string, unknown], b: [string, unknown]): void {
  if ((a[1] === undefined) !== (b[1] === undefined)) {
    throw new ConfigError(a[1] === undefined ? a[0] : b[0], `${a[0]} and ${b[0]} must be set together`);
  }
}

// ---- build tools (npm install, build:db, build:manifest, the test harness): no server configuration needed ----

const PROJECT_ROOT = path.resolve(__dirname, '..');

/**
 * LIFEBOAT_CACHE_DIR: where the embedded database binary is built and cached (server/db/embedded/build.ts),
 * by `npm install`, `npm run build:db`, the test harness and the server's first start alike.
 */
export function embeddedCacheDir(env: Env = process.env): string {
  return env.LIFEBOAT_CACHE_DIR ?? path.join(PROJECT_ROOT, '.cache', 'embedded-db');
}

/** The environment a toolchain child (`go build`) runs in: the caller's (PATH, HOME, GOPATH, proxies) plus `overrides`. */
export function toolchainEnv(overrides: Record<string, string>, env: Env = process.env): NodeJS.ProcessEnv {
  return { ...env, ...overrides };
}

/**
 * LIFEBOAT_PUBLIC_URL as given, for `npm run build:manifest`: the manifest builder validates it itself (https only,
 * no query) and names the variable in its own error, so it is neither trimmed nor checked here.
 */
export function manifestPublicUrl(env: Env = process.env): string | undefined {
  return env[SETTINGS.publicUrl.variable];
}

/** LIFEBOAT_MANIFEST_SCHEMAS: the Office manifest XSD folder for offline validation (npm run validate, the manifest test). */
export function manifestSchemasDir(env: Env = process.env): string | undefined {
  return env.LIFEBOAT_MANIFEST_SCHEMAS?.trim() || undefined;
}

export function loadConfig(env: Env = process.env): Config {
  const dns = dnsConfigFromEnv(env);
  const port = read(env, 'port');
  const smtpPort = read(env, 'smtpPort');
  const smtpCert = env[SETTINGS.smtpTlsCertFile.variable]?.trim() || undefined;
  const smtpKey = env[SETTINGS.smtpTlsKeyFile.variable]?.trim() || undefined;
  bothOrNeither([SETTINGS.smtpTlsCertFile.variable, smtpCert], [SETTINGS.smtpTlsKeyFile.variable, smtpKey]);
  const smtp = {
    hostname: read(env, 'smtpHostname'),
    maxMessageBytes: Math.floor(read(env, 'maxMessageMb') * 1024 * 1024),
    tlsCertFile: read(env, 'smtpTlsCertFile'),
    tlsKeyFile: read(env, 'smtpTlsKeyFile'),
    maxReceivedHeaders: Math.floor(read(env, 'maxReceivedHeaders')),
    limits: {
      connections: Math.ceil(read(env, 'smtpMaxConnections')),
      connectionsPerAddress: Math.ceil(read(env, 'smtpMaxConnectionsPerClient')),
      messagesPerConnection: Math.ceil(read(env, 'smtpMaxMessagesPerConnection')),
    },
  };
  const mongodbUri = read(env, 'mongodbUri');
  const dataDir = path.resolve(read(env, 'dataDir'));
  const publicUrl = read(env, 'publicUrl') ?? `http://localhost:${port}`;
  const secret = read(env, 'secret');

  const adminEmail = read(env, 'adminEmail');
  const rawPassword = env[SETTINGS.adminPassword.variable] || undefined;
  bothOrNeither([SETTINGS.adminEmail.variable, adminEmail], [SETTINGS.adminPassword.variable, rawPassword]);
  const adminPassword = read(env, 'adminPassword');

  const directoryFile = path.resolve(read(env, 'directoryFile'));
  if (!existsSync(directoryFile)) throw new ConfigError(SETTINGS.directoryFile.variable, `file not found: ${directoryFile}`);

  const { entra } = entraSettings(env, publicUrl);
  return {
    port,
    smtpPort,
    smtp,
    deliveryLeaseMs: read(env, 'deliveryLeaseSeconds') * 1000,
    mongodbUri,
    redisUrl: read(env, 'redisUrl'),
    changeCheckMs: read(env, 'changeCheckMs'),
    dataDir,
    publicUrl,
    secret,
    adminEmail,
    adminPassword,
    directoryFile,
    logLevel: read(env, 'logLevel'),
    sessionHours: read(env, 'sessionHours'),
    threatScanLeaseSeconds: read(env, 'threatScanLeaseSeconds'),
    userTokenMinutes: read(env, 'userTokenMinutes'),
    entra,
    // One Entra authority host for app sign-in (Graph), user tokens' keys and the pane's NAA.
    graph: { loginUrl: entra.authority, graphUrl: read(env, 'graphUrl') },
    tls: tlsFilesFromEnv(env),
    addin: addinConfigFromEnv(env, publicUrl),
    dns,
    protection: { dnsServers: dns.servers, rspamdUrl: read(env, 'rspamdUrl'), clamd: read(env, 'clamd') },
    quarantineRetentionDays: read(env, 'quarantineRetentionDays'),
    trustProxy: read(env, 'trustProxy'),
    rateLimit: { perIdentityPerMinute: read(env, 'apiRateLimit'), perAddressPerMinute: Math.ceil(read(env, 'apiRateLimit') * 2.5) },
    allowedPrivateTargets: read(env, 'allowedPrivateTargets'),
    monitorDomains: read(env, 'monitorDomains'),
    monitorMinuteMs: read(env, 'monitorMinuteMs'),
    adminEmailDomains: read(env, 'adminEmailDomains'),
  };
}
