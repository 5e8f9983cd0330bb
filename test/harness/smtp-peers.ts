/**
 * Real SMTP peers on loopback: a "primary server" or relay (smtp-server) that accepts, defers (4xx),
 * rejects (5xx) or is down; and a client that speaks SMTP to Lifeboat's receiver.
 */
import net from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
}

export type PeerMode = 'accept' | 'defer' | 'reject';

export interface SmtpPeer {
  port: number;
  received: ReceivedMail[];
  mode: PeerMode;
  /** A slow server: waits this long before answering the end of DATA. */
  delayMs: number;
  /** The EHLO names of the clients whose message is being answered now (during delayMs): who is delivering. */
  inFlight: string[];
  /** Called for every accepted message (e.g. to put it into a stand-in mailbox). */
  onReceived: ((mail: ReceivedMail) => void) | null;
  close(): Promise<void>;
}

export async function startPeer(mode: PeerMode = 'accept', port = 0): Promise<SmtpPeer> {
  const peer = { received: [] as ReceivedMail[], inFlight: [] as string[], mode, delayMs: 0, onReceived: null } as SmtpPeer;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const parts: Buffer[] = [];
      stream.on('data', (c: Buffer) => parts.push(c));
      stream.on('end', async () => {
        if (peer.delayMs) {
          const helo = session.hostNameAppearsAs;
          peer.inFlight.push(helo);
          await new Promise((r) => setTimeout(r, peer.delayMs));
          peer.inFlight.splice(peer.inFlight.indexOf(helo), 1);
        }
        if (peer.mode === 'defer') return callback(Object.assign(new Error('4.3.2 Try again later'), { responseCode: 451 }));
        if (peer.mode === 'reject') return callback(Object.assign(new Error('5.1.1 No such mailbox'), { responseCode: 550 }));
        const mail = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(parts).toString('utf8'),
        };
        peer.received.push(mail);
        peer.onReceived?.(mail);
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  peer.port = (server.server.address() as net.AddressInfo).port;
  peer.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return peer;
}

/** A port on loopback where nothing listens (a primary server that is down). */
export async function deadPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/**
 * A minimal SMTP client that reports every reply, so tests can assert exact codes.
 * Each step is one command; DATA sends the message and returns the final reply.
 */
export async function smtpSession(port: number, host = '127.0.0.1') {
  const socket = net.connect(port, host);
  socket.setEncoding('utf8');
  let buffer = '';
  let full = '';
  const waiting: ((line: string) => void)[] = [];
  socket.on('data', (d: string) => {
    buffer += d;
    for (;;) {
      // A reply ends with a line "ddd text" (no dash after the code).
      const m = /^((?:\d{3}-[^\r\n]*\r\n)*\d{3} [^\r\n]*\r\n)/.exec(buffer);
      if (!m) break;
      buffer = buffer.slice(m[1]!.length);
      full = m[1]!;
      const next = waiting.shift();
      next?.(m[1]!.trim().split('\r\n').pop()!);
    }
  });
  const reply = () => new Promise<string>((resolve) => (socket.destroyed ? resolve('421 connection closed') : waiting.push(resolve)));
  // A dropped connection answers every outstanding command (the caller sees it as not accepted).
  const closed = new Promise<void>((resolve) =>
    socket.once('close', () => {
      for (const w of waiting.splice(0)) w('421 connection closed');
      resolve();
    }),
  );
  socket.on('error', () => {});
  const greeting = await reply();
  const command = async (line: string) => {
    const r = reply();
    socket.write(`${line}\r\n`);
    return r;
  };
  return {
    greeting,
    command,
    /** Every line of the last reply (EHLO lists its extensions on several). */
    lastReply: () => full,
    async data(message: string | Buffer): Promise<string> {
      const go = await command('DATA');
      if (!go.startsWith('354')) return go;
      const r = reply();
      const body = Buffer.isBuffer(message) ? message.toString('utf8') : message;
      socket.write(body.replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..') + '\r\n.\r\n');
      return r;
    },
    async quit() {
      socket.write('QUIT\r\n');
      socket.end();
      await closed;
    },
  };
}

export function simpleMessage(opts: { from: string; to: string; subject: string; body?: string; messageId?: string }): string {
  return [
    `From: ${opts.from}`,
    `To: ${opts.to}`,
    `Subject: ${opts.subject}`,
    `Message-ID: <${opts.messageId ?? `${Math.random().toString(36).slice(2)}@sender.example`}>`,
    `Date: ${new Date().toUTCString()}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    opts.body ?? 'Hello from the test.',
    '',
  ].join('\r\n');
}

/** EHLO, MAIL FROM, RCPT TO each recipient, DATA: returns every reply. */
export async function sendOne(port: number, opts: { from: string; to: string[]; message: string }) {
  const s = await smtpSession(port);
  await s.command('EHLO sender.example');
  const mail = await s.command(`MAIL FROM:<${opts.from}>`);
  const rcpts: string[] = [];
  for (const to of opts.to) rcpts.push(await s.command(`RCPT TO:<${to}>`));
  const data = rcpts.some((r) => r.startsWith('250')) ? await s.data(opts.message) : null;
  await s.quit();
  return { mail, rcpts, data };
}
