/**
 * The clamd client: a message streamed with INSTREAM over TCP (`host:port`) or a unix socket (a path),
 * answered `OK` or `<signature> FOUND`. clamd decodes MIME and archives itself, so the raw message is
 * what is sent. It owns only the protocol; a timeout or a broken connection is an error for the caller.
 */
import { connect, type Socket } from 'node:net';

export interface ClamdResult {
  infected: boolean;
  /** The signature name when infected. */
  signature: string | null;
}

export interface ClamdClient {
  readonly target: string;
  scan(raw: Buffer, options?: { timeoutMs?: number }): Promise<ClamdResult>;
  ping(timeoutMs?: number): Promise<boolean>;
}

const CHUNK = 64 * 1024;

function open(target: string): Socket {
  if (target.startsWith('/')) return connect({ path: target });
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(target);
  if (!m) throw new Error(`LIFEBOAT_CLAMD must be host:port or a socket path, got "${target}"`);
  return connect({ host: m[1], port: Number(m[2]) });
}

/** Sends `command` (and optional INSTREAM data), resolves with clamd's one NUL-terminated reply. */
function exchange(target: string, command: string, data: Buffer | null, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = open(target);
    let reply = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`clamd did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const done = (err: Error | null, value?: string) => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(value!);
    };
    socket.on('error', (err) => done(err));
    socket.on('data', (d) => {
      reply += d.toString('utf8');
      const end = reply.indexOf('\0');
      if (end >= 0) done(null, reply.slice(0, end));
    });
    socket.on('end', () => done(reply ? null : new Error('clamd closed the connection without an answer'), reply.replace(/\0$/, '')));
    socket.on('connect', () => {
      socket.write(`z${command}\0`);
      if (!data) return;
      for (let i = 0; i < data.length; i += CHUNK) {
        const chunk = data.subarray(i, i + CHUNK);
        const size = Buffer.alloc(4);
        size.writeUInt32BE(chunk.length);
        socket.write(size);
        socket.write(chunk);
      }
      socket.write(Buffer.alloc(4)); // a zero-length chunk ends the stream
    });
  });
}

export function createClamdClient(target: string, defaults: { timeoutMs?: number } = {}): ClamdClient {
  return {
    target,
    async scan(raw, options = {}) {
      const reply = await exchange(target, 'INSTREAM', raw, options.timeoutMs ?? defaults.timeoutMs ?? 30_000);
      const found = /^stream: (.+) FOUND$/.exec(reply.trim());
      if (found) return { infected: true, signature: found[1] };
      if (/^stream: OK$/.test(reply.trim())) return { infected: false, signature: null };
      throw new Error(`clamd: ${reply.trim() || 'no answer'}`);
    },
    async ping(timeoutMs = 2000) {
      try {
        return (await exchange(target, 'PING', null, timeoutMs)).trim() === 'PONG';
      } catch {
        return false;
      }
    },
  };
}
