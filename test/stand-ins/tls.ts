/**
 * The certificate the local HTTPS stand-ins (token endpoint, Graph) serve: self-signed for
 * localhost/127.0.0.1, generated on the machine (no network), and trusted by Node through
 * NODE_EXTRA_CA_CERTS — which Node reads only at start, so it is generated *before* jest or the
 * benchmark starts (`npm test` and `npm run bench:directory` run this file first; see package.json).
 *
 *   tsx test/stand-ins/tls.ts   → writes .cache/test-tls/{cert,key}.pem if missing or expiring
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import path from 'node:path';
import { generate } from 'selfsigned';

export const TEST_TLS_DIR = path.resolve(__dirname, '..', '..', '.cache', 'test-tls');
export const TEST_CERT_FILE = path.join(TEST_TLS_DIR, 'cert.pem');
export const TEST_KEY_FILE = path.join(TEST_TLS_DIR, 'key.pem');

const DAY = 24 * 60 * 60 * 1000;

function usable(): boolean {
  if (!existsSync(TEST_CERT_FILE) || !existsSync(TEST_KEY_FILE)) return false;
  try {
    return new Date(new X509Certificate(readFileSync(TEST_CERT_FILE)).validTo).getTime() > Date.now() + DAY;
  } catch {
    return false;
  }
}

export async function ensureTestCertificate(): Promise<{ cert: string; key: string }> {
  if (!usable()) {
    const pems = await generate([{ name: 'commonName', value: 'Lifeboat test stand-ins' }], {
      keyType: 'ec',
      curve: 'P-256',
      algorithm: 'sha256',
      notAfterDate: new Date(Date.now() + 30 * DAY),
      extensions: [
        { name: 'basicConstraints', cA: true, critical: true },
        { name: 'keyUsage', digitalSignature: true, keyCertSign: true, critical: true },
        { name: 'extKeyUsage', serverAuth: true },
        {
          name: 'subjectAltName',
          altNames: [
            { type: 2, value: 'localhost' },
            { type: 7, ip: '127.0.0.1' },
          ],
        },
      ],
    });
    mkdirSync(TEST_TLS_DIR, { recursive: true });
    // Written under temporary names, then renamed: a concurrent reader never sees half a file.
    writeFileSync(`${TEST_KEY_FILE}.${process.pid}`, pems.private, { mode: 0o600 });
    writeFileSync(`${TEST_CERT_FILE}.${process.pid}`, pems.cert);
    renameSync(`${TEST_KEY_FILE}.${process.pid}`, TEST_KEY_FILE);
    renameSync(`${TEST_CERT_FILE}.${process.pid}`, TEST_CERT_FILE);
  }
  return { cert: readFileSync(TEST_CERT_FILE, 'utf8'), key: readFileSync(TEST_KEY_FILE, 'utf8') };
}

/** Says clearly when the process was started without the certificate trusted. */
export function assertCertificateTrusted(): void {
  if (path.resolve(process.env.NODE_EXTRA_CA_CERTS ?? '') !== TEST_CERT_FILE) {
    throw new Error(
      `the HTTPS stand-ins need NODE_EXTRA_CA_CERTS=${TEST_CERT_FILE} set when Node starts: ` +
        'run the tests with `npm test` (or `npm test -- <file>`), which arranges it',
    );
  }
}

if (require.main === module) {
  ensureTestCertificate().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
