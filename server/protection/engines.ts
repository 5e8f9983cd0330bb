/**
 * Which scanning engines this server uses, decided at start: rspamd at LIFEBOAT_RSPAMD_URL, else the
 * embedded one when the binary is installed, else none (`unavailable`: messages are `unscanned` and the
 * policies' scanner-down rule applies); clamd when LIFEBOAT_CLAMD is set. main.ts stops them with itself.
 */
import path from 'node:path';
import { createClamdClient, type ClamdClient } from './clamd';
import { createRspamdClient, type RspamdClient } from './rspamd';
import { startEmbeddedRspamd, type EmbeddedRspamd } from './rspamd-embedded';

export interface ProtectionEngines {
  rspamd: RspamdClient | null;
  clamd: ClamdClient | null;
  /**
   * How rspamd came to be: `external` (URL), `embedded` (our child), `unavailable` (none to ask: messages
   * are `unscanned`), `off` (LIFEBOAT_RSPAMD_URL=off: content scanning is turned off on purpose, so rspamd
   * is `skipped` like an unset clamd, and verdicts come from the other engines).
   */
  rspamdSource: 'external' | 'embedded' | 'unavailable' | 'off';
  stop(): Promise<void>;
}

export type EngineHealth = 'ok' | 'down' | 'unavailable' | 'notConfigured';

/** For readiness and the admin page: rspamd `unavailable` (none to ask) is a failed check; clamd unset is `notConfigured`. */
export async function engineHealth(
  engines: ProtectionEngines,
): Promise<{ rspamd: EngineHealth; rspamdSource: ProtectionEngines['rspamdSource']; clamd: EngineHealth }> {
  const [rspamd, clamd] = await Promise.all([engines.rspamd?.ping() ?? Promise.resolve(null), engines.clamd?.ping() ?? Promise.resolve(null)]);
  return {
    rspamd: rspamd === null ? (engines.rspamdSource === 'off' ? 'notConfigured' : 'unavailable') : rspamd ? 'ok' : 'down',
    rspamdSource: engines.rspamdSource,
    clamd: clamd === null ? 'notConfigured' : clamd ? 'ok' : 'down',
  };
}

export const NO_ENGINES: ProtectionEngines = { rspamd: null, clamd: null, rspamdSource: 'unavailable', stop: async () => {} };
/** Content scanning turned off on purpose (LIFEBOAT_RSPAMD_URL=off) and no clamd. */
export const ENGINES_OFF: ProtectionEngines = { ...NO_ENGINES, rspamdSource: 'off' };

export async function startProtectionEngines(options: {
  rspamdUrl: string | undefined;
  clamd: string | undefined;
  dnsServers: string[];
  dataDir: string;
  log?: (line: string) => void;
  /** Where the rspamd binary is looked for (PATH); tests pass a PATH without it. */
  env?: NodeJS.ProcessEnv;
}): Promise<ProtectionEngines> {
  const clamd = options.clamd ? createClamdClient(options.clamd) : null;
  // `off`: no rspamd at all, not even the embedded one (the process tests run many servers at once).
  if (options.rspamdUrl === 'off') return { rspamd: null, clamd, rspamdSource: 'off', stop: async () => {} };
  if (options.rspamdUrl) return { rspamd: createRspamdClient(options.rspamdUrl), clamd, rspamdSource: 'external', stop: async () => {} };
  let embedded: EmbeddedRspamd | null = null;
  try {
    embedded = await startEmbeddedRspamd({ dir: path.join(options.dataDir, 'rspamd'), dnsServers: options.dnsServers, env: options.env });
  } catch (err) {
    options.log?.(`the embedded rspamd did not start (${(err as Error).message}); content scanning is unavailable`);
  }
  if (!embedded) return { rspamd: null, clamd, rspamdSource: 'unavailable', stop: async () => {} };
  return { rspamd: embedded.client, clamd, rspamdSource: 'embedded', stop: () => embedded.stop() };
}
