/**
 * The rspamd client: one message to `/checkv2` with its envelope (MAIL FROM, RCPT TO), the connecting
 * IP and HELO as rspamd's request headers, and the answer as score, action and symbols. It owns only
 * the protocol; what a score means for the verdict is verdict.ts's rule.
 */
export interface RspamdSymbol {
  name: string;
  score: number;
  options?: string[];
}

export interface RspamdResult {
  score: number;
  requiredScore: number;
  /** rspamd's own action: `no action`, `greylist`, `add header`, `rewrite subject`, `soft reject`, `reject`. */
  action: string;
  symbols: RspamdSymbol[];
}

export interface ScanEnvelope {
  mailFrom: string;
  rcptTo: string[];
  clientIp: string;
  helo: string;
}

export interface RspamdClient {
  readonly url: string;
  check(raw: Buffer, envelope: ScanEnvelope, options?: { timeoutMs?: number }): Promise<RspamdResult>;
  ping(timeoutMs?: number): Promise<boolean>;
}

interface CheckAnswer {
  score?: number;
  required_score?: number;
  action?: string;
  symbols?: Record<string, { name?: string; score?: number; options?: string[] }>;
}

export function createRspamdClient(url: string, defaults: { timeoutMs?: number } = {}): RspamdClient {
  const base = url.replace(/\/+$/, '');
  return {
    url: base,
    async check(raw, envelope, options = {}) {
      // No IP or Helo when they are unknown (a message read from a mailbox): rspamd then does not guess.
      const headers = new Headers({ From: envelope.mailFrom || '<>', 'Content-Type': 'message/rfc822' });
      if (envelope.clientIp) headers.set('IP', envelope.clientIp);
      if (envelope.helo) headers.set('Helo', envelope.helo);
      for (const rcpt of envelope.rcptTo) headers.append('Rcpt', rcpt);
      const res = await fetch(`${base}/checkv2`, {
        method: 'POST',
        headers,
        body: new Uint8Array(raw),
        signal: AbortSignal.timeout(options.timeoutMs ?? defaults.timeoutMs ?? 10_000),
      });
      if (!res.ok) throw new Error(`rspamd answered HTTP ${res.status}`);
      const body = (await res.json()) as CheckAnswer;
      if (typeof body.score !== 'number') throw new Error('rspamd answered without a score');
      return {
        score: body.score,
        requiredScore: body.required_score ?? 15,
        action: body.action ?? 'no action',
        symbols: Object.entries(body.symbols ?? {})
          .map(([name, s]) => ({ name: s.name ?? name, score: s.score ?? 0, ...(s.options?.length ? { options: s.options.slice(0, 10) } : {}) }))
          .sort((a, b) => b.score - a.score || a.name.localeCompare(b.name)),
      };
    },
    async ping(timeoutMs = 2000) {
      try {
        const res = await fetch(`${base}/ping`, { signal: AbortSignal.timeout(timeoutMs) });
        return res.ok && (await res.text()).trim() === 'pong';
      } catch {
        return false;
      }
    },
  };
}
