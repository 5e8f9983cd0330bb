/**
 * The receiver's edges, with real SMTP clients over loopback: the Received trace header on every
 * accepted message, the hop limit that ends mail loops (554 5.4.6), and the connection caps (421 4.7.0).
 */
import net from 'node:net';
import nodemailer from 'nodemailer';
import { readFileSync } from 'node:fs';
import { createLogger } from '../../server/log';
import { createReceiver } from '../../server/mail/receiver';
import { readRaw } from '../../server/mail/store';
import { useLifeboat } from '../harness/context';
import { eventually } from '../harness/eventually';
import { simpleMessage, smtpSession } from '../harness/smtp-peers';
import { TEST_CERT_FILE, TEST_KEY_FILE } from '../stand-ins/tls';

const ctx = useLifeboat();
let receiver: ReturnType<typeof createReceiver>;
let port: number;

beforeAll(async () => {
  receiver = createReceiver({
    mail: ctx.services.mail,
    logger: createLogger('silent'),
    hostname: 'mx.lifeboat.test',
    tls: { cert: readFileSync(TEST_CERT_FILE), key: readFileSync(TEST_KEY_FILE) },
  });
  port = await receiver.listen(0, '127.0.0.1');
});

afterAll(async () => {
  await receiver?.close();
});

function client(options: { requireTLS?: boolean } = {}) {
  return nodemailer.createTransport({
    host: '127.0.0.1',
    port,
    secure: false,
    name: 'client.sender.example',
    ignoreTLS: !options.requireTLS,
    requireTLS: options.requireTLS ?? false,
    tls: { rejectUnauthorized: false },
  });
}

/** The raw message the receiver stored under the id of its 250 reply. */
async function stored(response: string): Promise<string> {
  const id = /queued as (\S+)/.exec(response)![1]!;
  let raw = '';
  await eventually(async () => {
    const record = await ctx.services.mail.models.messages.findById(`alpha:${id}`).lean();
    expect(record).toBeTruthy();
    raw = (await readRaw(ctx.services.mail.models, record!)).toString('utf8');
  });
  return raw;
}

const withReceived = (hops: number) =>
  Array.from(
    { length: hops },
    (_, i) => `Received: from hop${i}.example ([192.0.2.${i + 1}])\r\n\tby hop${i + 1}.example with ESMTP; ${new Date().toUTCString()}`,
  )
    .concat([simpleMessage({ from: 'far@sender.example', to: 'one@alpha.test', subject: `after ${hops} hops` })])
    .join('\r\n');

describe('Received trace header', () => {
  it('is added to every accepted message: HELO, client address, our host, ESMTP, id, the one recipient, date', async () => {
    const info = await client().sendMail({ from: 'writer@sender.example', to: 'one@alpha.test', subject: 'traced', text: 'hello' });
    const raw = await stored(info.response);
    const id = /queued as (\S+)/.exec(info.response)![1]!;
    const header = /^Received: [^\r\n]*(?:\r\n[ \t][^\r\n]*)*/.exec(raw)![0].replace(/\r\n[ \t]+/g, ' ');
    expect(raw.startsWith('Received: ')).toBe(true);
    expect(header).toMatch(
      new RegExp(
        `^Received: from client\\.sender\\.example \\(\\[127\\.0\\.0\\.1\\]\\) by mx\\.lifeboat\\.test with ESMTP id ${id} for <one@alpha\\.test>; \\w{3}, \\d{2} \\w{3} \\d{4} \\d{2}:\\d{2}:\\d{2} \\+0000$`,
      ),
    );
    expect(raw).toMatch(/Subject: traced/);
  });

  it('says ESMTPS over STARTTLS, and names no recipient when there are several', async () => {
    const info = await client({ requireTLS: true }).sendMail({
      from: 'writer@sender.example',
      to: ['one@alpha.test', 'two@alpha.test'],
      subject: 'tls',
      text: 'x',
    });
    const raw = await stored(info.response);
    const header = /^Received: [^\r\n]*(?:\r\n[ \t][^\r\n]*)*/.exec(raw)![0].replace(/\r\n[ \t]+/g, ' ');
    expect(header).toMatch(/ with ESMTPS id /);
    expect(header).not.toMatch(/ for </);
  });

  it('records the address the connection came from, whatever the HELO claims', async () => {
    const s = await smtpSession(port);
    await s.command('EHLO [10.0.0.1]');
    await s.command('MAIL FROM:<a@sender.example>');
    await s.command('RCPT TO:<one@alpha.test>');
    const reply = await s.data(simpleMessage({ from: 'a@sender.example', to: 'one@alpha.test', subject: 'helo' }));
    await s.quit();
    const raw = await stored(reply);
    expect(raw).toMatch(/^Received: from \[10\.0\.0\.1\] \(\[127\.0\.0\.1\]\)\r\n/);
  });
});

describe('hop limit', () => {
  it('accepts a message with 30 Received headers and refuses one with 31 with 554 5.4.6', async () => {
    const ok = await client().sendMail({ envelope: { from: 'far@sender.example', to: ['one@alpha.test'] }, raw: withReceived(30) });
    expect(ok.response).toMatch(/^250 /);
    const refused = await client()
      .sendMail({ envelope: { from: 'far@sender.example', to: ['one@alpha.test'] }, raw: withReceived(31) })
      .then(
        () => null,
        (err: { responseCode?: number; response?: string }) => err,
      );
    expect(refused).toMatchObject({ responseCode: 554 });
    expect(refused!.response).toMatch(/^554 5\.4\.6 /);
  });

  it('ends a loop between two receivers after a few hops', async () => {
    // Each pass through the receiver adds one Received header: feeding the stored message back in (as a
    // primary server pointed at Lifeboat would) stops once the count passes the limit.
    let raw = withReceived(27);
    let passes = 0;
    for (;;) {
      const result = await client()
        .sendMail({ envelope: { from: 'far@sender.example', to: ['one@alpha.test'] }, raw })
        .then(
          (info) => ({ ok: true as const, response: info.response as string }),
          (err: { response?: string }) => ({ ok: false as const, response: err.response ?? '' }),
        );
      if (!result.ok) {
        expect(result.response).toMatch(/^554 5\.4\.6 /);
        break;
      }
      passes++;
      raw = await stored(result.response);
      expect(passes).toBeLessThan(10);
    }
    expect(passes).toBe(4); // 27 → 28, 29, 30, 31 stored; the 5th pass carries 31 and is refused
  });
});

/** A raw TCP connection from a chosen loopback address: resolves with the greeting line. */
function connectFrom(localAddress: string, to: number): Promise<{ greeting: string; socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port: to, host: '127.0.0.1', localAddress });
    socket.setEncoding('utf8');
    let buffer = '';
    socket.on('data', (d: string) => {
      buffer += d;
      if (buffer.includes('\r\n')) resolve({ greeting: buffer.split('\r\n')[0]!, socket });
    });
    socket.once('error', reject);
  });
}

describe('connection caps', () => {
  let capped: ReturnType<typeof createReceiver>;
  let cappedPort: number;
  const sockets: net.Socket[] = [];

  beforeAll(async () => {
    capped = createReceiver({
      mail: ctx.services.mail,
      logger: createLogger('silent'),
      limits: { connections: 3, connectionsPerAddress: 2, messagesPerConnection: 2 },
    });
    cappedPort = await capped.listen(0, '127.0.0.1');
  });

  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await capped?.close();
  });

  async function open(from: string) {
    const c = await connectFrom(from, cappedPort);
    sockets.push(c.socket);
    return c;
  }

  it('refuses a third connection from one address and a fourth in total with 421 4.7.0, and frees slots on close', async () => {
    const first = await open('127.0.0.1');
    expect(first.greeting).toMatch(/^220 /);
    expect((await open('127.0.0.1')).greeting).toMatch(/^220 /);
    expect((await open('127.0.0.1')).greeting).toMatch(/^421 4\.7\.0 /);
    expect((await open('127.0.0.2')).greeting).toMatch(/^220 /);
    expect((await open('127.0.0.3')).greeting).toMatch(/^421 4\.7\.0 /);
    // A closed connection gives its slot back.
    first.socket.end('QUIT\r\n');
    await eventually(async () => {
      const again = await open('127.0.0.1');
      expect(again.greeting).toMatch(/^220 /);
    });
  });

  it('ends a connection after its message cap with 421 4.7.0', async () => {
    for (const s of sockets.splice(0)) s.destroy();
    let s!: Awaited<ReturnType<typeof smtpSession>>;
    await eventually(async () => {
      s = await smtpSession(cappedPort, '127.0.0.1');
      expect(s.greeting).toMatch(/^220 /);
    });
    await s.command('EHLO sender.example');
    for (let n = 0; n < 2; n++) {
      expect(await s.command('MAIL FROM:<a@sender.example>')).toMatch(/^250 /);
      expect(await s.command('RCPT TO:<one@alpha.test>')).toMatch(/^250 /);
      expect(await s.data(simpleMessage({ from: 'a@sender.example', to: 'one@alpha.test', subject: `cap ${n}` }))).toMatch(/^250 /);
    }
    expect(await s.command('MAIL FROM:<a@sender.example>')).toMatch(/^421 4\.7\.0 /);
    await s.quit();
  });
});
