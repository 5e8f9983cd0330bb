/**
 * HTTPS for the server (Outlook loads add-ins only over HTTPS).
 *
 * - LIFEBOAT_TLS_CERT and LIFEBOAT_TLS_KEY (PEM files, both or neither; Config.tls): HTTPS with them.
 * - Neither, and LIFEBOAT_PUBLIC_URL is https://localhost…: HTTPS with a self-signed development
 *   certificate for localhost, generated once into `$LIFEBOAT_DATA_DIR/tls/` (renewed before it
 *   expires). Trust it once in the OS to sideload the add-in (README).
 * - Otherwise plain HTTP (e.g. behind a TLS-terminating proxy).
 *
 * The certificate is made with node:crypto alone (P-256 key, DER written by hand below): no openssl
 * binary and no extra package needed.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import type { RequestListener } from 'node:http';
import type { Config } from '../config';

export class TlsConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable}: ${problem}`);
  }
}

export type TlsSetup = { kind: 'none' } | { kind: 'files' | 'development'; cert: string; key: string; certFile: string; keyFile: string; generated?: boolean };

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
/** Renew the development certificate when it has less than this left. */
const RENEW_BEFORE_MS = 30 * 24 * 3600 * 1000;
const DEV_VALIDITY_DAYS = 365;

function readPem(variable: string, file: string, kind: 'cert' | 'key'): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new TlsConfigError(variable, `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  try {
    if (kind === 'cert') new X509Certificate(text);
    else createPrivateKey(text);
  } catch {
    throw new TlsConfigError(variable, `${file} is not a PEM ${kind === 'cert' ? 'certificate' : 'private key'}`);
  }
  return text;
}

/** Decides how to serve from the configured files; reads (or generates) the certificate and key. */
export function resolveTls(files: Config['tls'], options: { dataDir: string; publicUrl: string; now?: Date }): TlsSetup {
  const { certFile, keyFile } = files;
  if (certFile || keyFile) {
    if (!certFile) throw new TlsConfigError('LIFEBOAT_TLS_CERT', 'LIFEBOAT_TLS_CERT and LIFEBOAT_TLS_KEY must be set together');
    if (!keyFile) throw new TlsConfigError('LIFEBOAT_TLS_KEY', 'LIFEBOAT_TLS_CERT and LIFEBOAT_TLS_KEY must be set together');
    const cert = readPem('LIFEBOAT_TLS_CERT', certFile, 'cert');
    const key = readPem('LIFEBOAT_TLS_KEY', keyFile, 'key');
    const x509 = new X509Certificate(cert);
    if (!x509.checkPrivateKey(createPrivateKey(key))) {
      throw new TlsConfigError('LIFEBOAT_TLS_KEY', `${keyFile} is not the private key of ${certFile}`);
    }
    return { kind: 'files', cert, key, certFile: path.resolve(certFile), keyFile: path.resolve(keyFile) };
  }
  const url = new URL(options.publicUrl);
  if (url.protocol === 'https:' && LOCAL_HOSTS.has(url.hostname)) {
    return { kind: 'development', ...ensureDevCertificate(options.dataDir, options.now) };
  }
  return { kind: 'none' };
}

/** An HTTPS server when TLS is set up, else HTTP; either way not listening yet. */
export function createLifeboatServer(app: RequestListener, tls: TlsSetup): http.Server {
  if (tls.kind === 'none') return http.createServer(app);
  return https.createServer({ cert: tls.cert, key: tls.key }, app);
}

// ---- the development certificate ------------------------------------------------------------------

/** The localhost certificate under `<dataDir>/tls/`, generated when missing or close to expiry. */
export function ensureDevCertificate(dataDir: string, now = new Date()) {
  const dir = path.join(dataDir, 'tls');
  const certFile = path.join(dir, 'localhost.crt');
  const keyFile = path.join(dir, 'localhost.key');
  if (existsSync(certFile) && existsSync(keyFile)) {
    try {
      const cert = readFileSync(certFile, 'utf8');
      const key = readFileSync(keyFile, 'utf8');
      const x509 = new X509Certificate(cert);
      if (Date.parse(x509.validTo) - now.getTime() > RENEW_BEFORE_MS && x509.checkPrivateKey(createPrivateKey(key))) {
        return { cert, key, certFile, keyFile, generated: false };
      }
    } catch {
      // unreadable or broken: make a new one
    }
  }
  const { cert, key } = createSelfSignedCertificate({ commonName: 'localhost', dnsNames: ['localhost'], ips: ['127.0.0.1', '::1'], now });
  mkdirSync(dir, { recursive: true });
  writeFileSync(keyFile, key, { mode: 0o600 });
  chmodSync(keyFile, 0o600);
  writeFileSync(certFile, cert);
  return { cert, key, certFile, keyFile, generated: true };
}

export interface SelfSignedOptions {
  commonName: string;
  dnsNames: string[];
  ips: string[];
  now?: Date;
  days?: number;
}

/** A self-signed ECDSA P-256 server certificate (PEM) and its PKCS#8 key (PEM). */
export function createSelfSignedCertificate(options: SelfSignedOptions): { cert: string; key: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const now = options.now ?? new Date();
  const notBefore = new Date(now.getTime() - 60 * 60 * 1000); // an hour of clock skew
  const notAfter = new Date(now.getTime() + (options.days ?? DEV_VALIDITY_DAYS) * 24 * 3600 * 1000);
  const ecdsaWithSha256 = seq(oid('1.2.840.10045.4.3.2'));
  const name = seq(set(seq(oid('2.5.4.10'), utf8('Lifeboat development'))), set(seq(oid('2.5.4.3'), utf8(options.commonName))));
  const serial = randomBytes(16);
  serial[0] &= 0x7f; // positive
  const altNames = [...options.dnsNames.map((d) => tlv(0x82, Buffer.from(d, 'ascii'))), ...options.ips.map((ip) => tlv(0x87, ipBytes(ip)))];
  const extensions = seq(
    extension('2.5.29.19', true, seq()), // basicConstraints: not a CA
    extension('2.5.29.15', true, tlv(0x03, Buffer.from([0x07, 0x80]))), // keyUsage: digitalSignature
    extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'))), // extKeyUsage: serverAuth
    extension('2.5.29.17', false, seq(...altNames)), // subjectAltName
  );
  const tbs = seq(
    tlv(0xa0, integer(Buffer.from([2]))), // v3
    integer(serial),
    ecdsaWithSha256,
    name,
    seq(time(notBefore), time(notAfter)),
    name,
    (publicKey as KeyObject).export({ type: 'spki', format: 'der' }),
    tlv(0xa3, extensions),
  );
  const signature = sign('sha256', tbs, { key: privateKey, dsaEncoding: 'der' });
  const der = seq(tbs, ecdsaWithSha256, tlv(0x03, Buffer.concat([Buffer.from([0]), signature])));
  const cert = pem('CERTIFICATE', der);
  const key = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  // Self-check: Node must read back what we wrote.
  const x509 = new X509Certificate(cert);
  if (!x509.verify(createPublicKey(key))) throw new Error('generated certificate does not verify');
  return { cert, key };
}

// ---- minimal DER ----------------------------------------------------------------------------------

function tlv(tag: number, body: Buffer): Buffer {
  const len = body.length;
  let header: Buffer;
  if (len < 0x80) header = Buffer.from([tag, len]);
  else if (len < 0x100) header = Buffer.from([tag, 0x81, len]);
  else if (len < 0x10000) header = Buffer.from([tag, 0x82, len >> 8, len & 0xff]);
  else throw new Error('DER value too long');
  return Buffer.concat([header, body]);
}
const seq = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items));
const utf8 = (text: string) => tlv(0x0c, Buffer.from(text, 'utf8'));
const bool = (value: boolean) => tlv(0x01, Buffer.from([value ? 0xff : 0]));
const octets = (body: Buffer) => tlv(0x04, body);

function integer(bytes: Buffer): Buffer {
  let b = bytes;
  while (b.length > 1 && b[0] === 0 && (b[1] & 0x80) === 0) b = b.subarray(1);
  if (b[0] & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return tlv(0x02, b);
}

function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const out = [40 * arcs[0] + arcs[1]];
  for (const arc of arcs.slice(2)) {
    const chunk = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

function time(date: Date): Buffer {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const compact = iso.slice(0, 19).replace(/[-:T]/g, '') + 'Z'; // YYYYMMDDHHMMSSZ
  const year = date.getUTCFullYear();
  return year < 2050 ? tlv(0x17, Buffer.from(compact.slice(2), 'ascii')) : tlv(0x18, Buffer.from(compact, 'ascii'));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? seq(oid(id), bool(true), octets(value)) : seq(oid(id), octets(value));
}

function ipBytes(ip: string): Buffer {
  if (ip.includes(':')) {
    const [head, tail = ''] = ip.split('::');
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    const groups = ip.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
    return Buffer.from(groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]));
  }
  return Buffer.from(ip.split('.').map(Number));
}

function pem(label: string, der: Buffer): string {
  const b64 = der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}
