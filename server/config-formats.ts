/**
 * The formats of server/config.ts's settings: raw environment text → a typed value, or a ConfigError
 * naming the variable. Pure (no environment access: config.ts is the only reader of process.env).
 */
import { existsSync } from 'node:fs';
import { isEmailAddress, isHostName } from './http/addresses';

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable}: ${problem}`);
  }
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
export const MIN_PASSWORD_LENGTH = 12;

// ---- formats: raw text → value, or a ConfigError naming the variable ---------------------------------

export type Format<T> = (raw: string, variable: string) => T;

export const text: Format<string> = (raw) => raw;
export const lowerCase: Format<string> = (raw) => raw.toLowerCase();

export const portNumber: Format<number> = (raw, variable) => {
  if (!/^\d+$/.test(raw) || Number(raw) > 65535) throw new ConfigError(variable, `must be a port number from 0 to 65535, got "${raw}"`);
  return Number(raw);
};

export const positiveNumber: Format<number> = (raw, variable) => {
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new ConfigError(variable, `must be a positive number, got "${raw}"`);
  return value;
};

export const wholeNumber: Format<number> = (raw, variable) => {
  if (!/^\d+$/.test(raw)) throw new ConfigError(variable, `must be a whole number (0 or more), got "${raw}"`);
  return Number(raw);
};

export const commaList: Format<string[]> = (raw) =>
  raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

export const existingFile: Format<string> = (raw, variable) => {
  if (!existsSync(raw)) throw new ConfigError(variable, `file not found: ${raw}`);
  return raw;
};

/** An https:// origin (no path): Entra authority and Graph hosts. */
export const httpsOrigin: Format<string> = (raw, variable) => {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(variable, `must be an https:// URL, got "${raw}"`);
  }
  if (url.protocol !== 'https:' || url.pathname.replace(/\/+$/, '') !== '' || url.search) {
    throw new ConfigError(variable, `must be an https:// origin without a path, got "${raw}"`);
  }
  return url.origin;
};

export const httpUrl: Format<string> = (raw, variable) => {
  let parsed: URL | null = null;
  try {
    parsed = new URL(raw);
  } catch {
    // reported below
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw new ConfigError(variable, `must be an absolute http(s) URL, got "${raw}"`);
  }
  return raw.replace(/\/+$/, '');
};

export const redisUrlFormat: Format<string> = (raw, variable) => {
  if (!/^rediss?:\/\/\S+$/.test(raw)) throw new ConfigError(variable, `must be a redis:// or rediss:// URL, got "${raw}"`);
  return raw;
};

export const mongoUri: Format<string> = (raw, variable) => {
  if (!/^mongodb(\+srv)?:\/\/\S+$/.test(raw)) throw new ConfigError(variable, 'must be a mongodb:// or mongodb+srv:// connection string');
  return raw;
};

export const longSecret: Format<string> = (raw, variable) => {
  if (raw.length < 32) throw new ConfigError(variable, 'must be at least 32 characters (for example: openssl rand -hex 32)');
  return raw;
};

export const emailAddress: Format<string> = (raw, variable) => {
  if (!isEmailAddress(raw)) throw new ConfigError(variable, `must be an email address, got "${raw}"`);
  return raw;
};

export const password: Format<string> = (raw, variable) => {
  if (raw.length < MIN_PASSWORD_LENGTH) throw new ConfigError(variable, `must be at least ${MIN_PASSWORD_LENGTH} characters`);
  return raw;
};

export const logLevel: Format<string> = (raw, variable) => {
  if (!LOG_LEVELS.includes(raw)) throw new ConfigError(variable, `must be one of ${LOG_LEVELS.join(', ')}, got "${raw}"`);
  return raw;
};

/** `eu=spf-eu.relay.example,us=spf-us.relay.example`: the outbound relay's SPF include per region. */
export const regionIncludes: Format<Record<string, string>> = (raw, variable) => {
  const regions: Record<string, string> = {};
  for (const entry of commaList(raw, variable)) {
    const m = /^([a-z0-9][a-z0-9-]{0,31})=(.+)$/i.exec(entry);
    if (!m) throw new ConfigError(variable, `each entry must be region=include (like eu=spf-eu.relay.example), got "${entry}"`);
    const [region, include] = [m[1].toLowerCase(), m[2].trim().toLowerCase()];
    if (!isHostName(include, { fullyQualified: true })) {
      throw new ConfigError(variable, `the include of region "${region}" must be a host name, got "${m[2].trim()}"`);
    }
    if (regions[region]) throw new ConfigError(variable, `region "${region}" is listed twice`);
    regions[region] = include;
  }
  return regions;
};
