/**
 * An outbound HTTP(S) request to a tenant-configured URL through the SSRF guard
 * (server/http/private-target.ts): the host is checked before connecting and the address is checked
 * again by the socket's own lookup, so DNS rebinding cannot slip a private address in between.
 * No redirects are followed; the body is read up to `maxBytes`.
 */
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import type { TargetGuard } from './private-target';

export interface GuardedResponse {
  status: number;
  header(name: string): string | null;
  text: string;
}

export async function guardedFetch(
  guard: TargetGuard,
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal; maxBytes?: number },
): Promise<GuardedResponse> {
  const target = new URL(url);
  const host = target.hostname.replace(/^\[|\]$/g, '');
  // An address literal never reaches `lookup`: check it here (names are checked by both).
  if (isIP(host)) await guard.resolveForConnect(host);
  else {
    const why = await guard.refusal(host);
    if (why) await guard.resolveForConnect(host); // throws the PrivateTargetError
  }
  const client = target.protocol === 'https:' ? https : http;
  const maxBytes = init.maxBytes ?? 64 * 1024;
  return new Promise((resolve, reject) => {
    const req = client.request(target, { method: init.method, headers: init.headers, lookup: guard.lookup, signal: init.signal }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        if (size < maxBytes) chunks.push(chunk);
        size += chunk.length;
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          header: (name) => {
            const v = res.headers[name.toLowerCase()];
            return Array.isArray(v) ? (v[0] ?? null) : (v ?? null);
          },
          text: Buffer.concat(chunks).toString('utf8').slice(0, maxBytes),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(init.body);
  });
}
