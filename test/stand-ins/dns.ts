/**
 * A tiny authoritative DNS server over UDP for tests: answers TXT (and MX) questions from a table
 * (NXDOMAIN for names it does not know, an empty answer for known names without TXT), so
 * node:dns's real resolver can be pointed at it with setServers.
 */
import { createSocket, type Socket } from 'node:dgram';

export interface DnsStandIn {
  /** `127.0.0.1:<port>` for Resolver.setServers / LIFEBOAT_DNS_SERVERS. */
  server: string;
  /** Every question asked, as `<name> <type>`. */
  questions: string[];
  /** Publishes (or replaces) a name's TXT records from now on. */
  publish(name: string, values: string[]): void;
  /** Publishes (or replaces) a name's MX records from now on. */
  publishMx(name: string, records: MxRecord[]): void;
  close(): Promise<void>;
}

export interface MxRecord {
  priority: number;
  exchange: string;
}

const TXT = 16;
const MX = 15;

function nameRdata(name: string): Buffer {
  return Buffer.concat([
    ...name
      .split('.')
      .filter(Boolean)
      .map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'ascii')])),
    Buffer.from([0]),
  ]);
}

function readName(msg: Buffer, offset: number): { name: string; end: number } {
  const labels: string[] = [];
  let i = offset;
  while (msg[i] !== 0) {
    labels.push(msg.subarray(i + 1, i + 1 + msg[i]).toString('ascii'));
    i += msg[i] + 1;
  }
  return { name: labels.join('.').toLowerCase(), end: i + 1 };
}

function txtRdata(value: string): Buffer {
  const parts: Buffer[] = [];
  const bytes = Buffer.from(value, 'utf8');
  for (let i = 0; i < bytes.length || i === 0; i += 255) {
    const chunk = bytes.subarray(i, i + 255);
    parts.push(Buffer.from([chunk.length]), chunk);
  }
  return Buffer.concat(parts);
}

function answer(query: Buffer, records: Record<string, string[]>, questions: string[], servfail: Set<string>, mx: Map<string, MxRecord[]>): Buffer {
  const { name, end } = readName(query, 12);
  const qtype = query.readUInt16BE(end);
  questions.push(`${name} ${qtype}`);
  const question = query.subarray(12, end + 4);
  const known = Object.prototype.hasOwnProperty.call(records, name) || mx.has(name);
  const failing = servfail.has(name);
  const rdatas: Buffer[] = failing
    ? []
    : qtype === TXT
      ? (records[name] ?? []).map(txtRdata)
      : qtype === MX
        ? (mx.get(name) ?? []).map((r) => {
            const pref = Buffer.alloc(2);
            pref.writeUInt16BE(r.priority, 0);
            return Buffer.concat([pref, nameRdata(r.exchange)]);
          })
        : [];
  const header = Buffer.alloc(12);
  header.writeUInt16BE(query.readUInt16BE(0), 0);
  // QR, AA, RD copied, RA; rcode 3 (NXDOMAIN) for unknown names, 2 (SERVFAIL) for names told to fail.
  header.writeUInt16BE(0x8400 | (query.readUInt16BE(2) & 0x0100) | 0x0080 | (failing ? 2 : known ? 0 : 3), 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(rdatas.length, 6);
  const answers = rdatas.map((rdata) => {
    const rr = Buffer.alloc(12);
    rr.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
    rr.writeUInt16BE(qtype, 2);
    rr.writeUInt16BE(1, 4);
    rr.writeUInt32BE(60, 6);
    rr.writeUInt16BE(rdata.length, 10);
    return Buffer.concat([rr, rdata]);
  });
  return Buffer.concat([header, question, ...answers]);
}

/**
 * Serves TXT records: `{'contoso.test': ['v=spf1 include:x -all'], '_dmarc.contoso.test': [...]}` (SPF, DMARC,
 * and DKIM keys at `<selector>._domainkey.<domain>`). Names in `options.servfail` answer SERVFAIL, as a broken
 * authoritative server does (a temporary DNS error for the asker).
 */
export async function startDnsStandIn(
  records: Record<string, string[]>,
  options: { servfail?: string[]; mx?: Record<string, MxRecord[]> } = {},
): Promise<DnsStandIn> {
  const mx = new Map(Object.entries(options.mx ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const table = Object.fromEntries(Object.entries(records).map(([k, v]) => [k.toLowerCase(), v]));
  const servfail = new Set((options.servfail ?? []).map((n) => n.toLowerCase()));
  const socket: Socket = createSocket('udp4');
  const questions: string[] = [];
  socket.on('message', (msg, peer) => {
    try {
      socket.send(answer(msg, table, questions, servfail, mx), peer.port, peer.address);
    } catch {
      // a malformed query gets no answer, as from a real server
    }
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    server: `127.0.0.1:${socket.address().port}`,
    questions,
    publish: (name, values) => void (table[name.toLowerCase()] = values),
    publishMx: (name, records) => void mx.set(name.toLowerCase(), records),
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}
