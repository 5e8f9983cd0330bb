/**
 * The rspamd client: one message to `/checkv2` with its envelope (MAIL FROM, RCPT TO), the connecting
 * IP and HELO as rspamd's request headers, and the answer as score, action and symbols. It owns only
 * the protocol; what a score means for the verdict is verdict.ts's rule.
 */
import http from 'node:http';
import https from 'node:https';

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

/**
 * One HTTP exchange with rspamd over node:http. Not fetch: rspamd closes the connection after every
 * answer, which undici reports by building an error (with its stack) per message, and its web streams
 * cost more than the scan's own parsing; this path is taken for every message received.
 */
function exchange(
  url: URL,
  agent: http.Agent,
  request: { method: 'GET' | 'POST'; headers?: http.OutgoingHttpHeaders; body?: Buffer; timeoutMs: number },
): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? https : http).request(url, { method: request.method, headers: request.headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    const timer = setTimeout(() => req.destroy(new Error(`rspamd gave no answer within ${request.timeoutMs} ms`)), request.timeoutMs);
    req.on('error', reject);
    req.on('close', () => clearTimeout(timer));
    req.end(request.body);
  });
}

export function createRspamdClient(url: string, defaults: { timeoutMs?: number } = {}): RspamdClient {
  const base = url.replace(/\/+$/, '');
  // https for a remote rspamd behind TLS; plain http on loopback (the embedded one).
  const agent = new (base.startsWith('https:') ? https.Agent : http.Agent)({ keepAlive: true, maxSockets: 64 });
  return {
    url: base,
    async check(raw, envelope, options = {}) {
      // No IP or Helo when they are unknown (a message read from a mailbox): rspamd then does not guess.
      const headers: http.OutgoingHttpHeaders = { From: envelope.mailFrom || '<>', 'Content-Type': 'message/rfc822', 'Content-Length': raw.length };
      if (envelope.clientIp) headers.IP = envelope.clientIp;
      if (envelope.helo) headers.Helo = envelope.helo;
      if (envelope.rcptTo.length) headers.Rcpt = envelope.rcptTo;
      const res = await exchange(new URL(`${base}/checkv2`), agent, {
        method: 'POST',
        headers,
        body: raw,
        timeoutMs: options.timeoutMs ?? defaults.timeoutMs ?? 10_000,
      });
      if (res.status < 200 || res.status > 299) throw new Error(`rspamd answered HTTP ${res.status}`);
      const body = JSON.parse(res.body.toString('utf8')) as CheckAnswer;
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
        const res = await exchange(new URL(`${base}/ping`), agent, { method: 'GET', timeoutMs });
        return res.status === 200 && res.body.toString('utf8').trim() === 'pong';
      } catch {
        return false;
      }
    },
  };
}
