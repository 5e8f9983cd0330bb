/**
 * Whether Entra ID answers for an Entra tenant, asked before the web inbox offers "Sign in with
 * Microsoft": during a Microsoft 365 outage the button would lead to a page that never loads. One GET of
 * the tenant's OpenID metadata (a few seconds at most), the answer kept briefly per Entra tenant so a
 * sign-in page costs no request to Microsoft most of the time; concurrent askers share one probe.
 */

export interface EntraProbeOptions {
  /** The authority host (configuration: LIFEBOAT_ENTRA_AUTHORITY), e.g. https://login.microsoftonline.com */
  loginUrl: string;
  /** How long an answer is kept (default 60 s). */
  ttlMs?: number;
  /** How long the probe waits for Entra (default 3 s). */
  timeoutMs?: number;
  clock?: () => number;
}

/** Entra tenants whose answer is kept at most (the oldest is dropped first). */
const MAX_ENTRIES = 1000;

export function createEntraProbe(options: EntraProbeOptions) {
  const base = options.loginUrl.replace(/\/+$/, '');
  const ttl = options.ttlMs ?? 60_000;
  const clock = options.clock ?? (() => performance.now());
  const answers = new Map<string, { up: Promise<boolean>; until: number }>();

  async function ask(entraTenantId: string): Promise<boolean> {
    try {
      const res = await fetch(`${base}/${encodeURIComponent(entraTenantId)}/v2.0/.well-known/openid-configuration`, {
        signal: AbortSignal.timeout(options.timeoutMs ?? 3_000),
        redirect: 'error',
      });
      await res.body?.cancel();
      return res.ok;
    } catch {
      return false;
    }
  }

  return async function reachable(entraTenantId: string): Promise<boolean> {
    const key = entraTenantId.toLowerCase();
    const now = clock();
    const kept = answers.get(key);
    if (kept && kept.until > now) return kept.up;
    if (answers.size >= MAX_ENTRIES) answers.delete(answers.keys().next().value!);
    const up = ask(key);
    answers.set(key, { up, until: now + ttl });
    return up;
  };
}
export type EntraProbe = ReturnType<typeof createEntraProbe>;
