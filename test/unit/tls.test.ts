import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { tlsFilesFromEnv } from '../../server/config';
import { createLifeboatServer, createSelfSignedCertificate, ensureDevCertificate, resolveTls, TlsConfigError } from '../../server/http/tls';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'lifeboat-tls-'));

describe('HTTPS setup', () => {
  it('a generated development certificate is a valid localhost server certificate', () => {
    const { cert } = createSelfSignedCertificate({ commonName: 'localhost', dnsNames: ['localhost'], ips: ['127.0.0.1', '::1'] });
    const x509 = new X509Certificate(cert);
    expect(x509.checkHost('localhost')).toBe('localhost');
    expect(x509.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(x509.checkIP('::1')).toBe('::1');
    expect(x509.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    expect(x509.ca).toBe(false);
    expect(x509.keyUsage).toContain('1.3.6.1.5.5.7.3.1'); // serverAuth
    expect(Date.parse(x509.validTo) - Date.now()).toBeGreaterThan(300 * 24 * 3600 * 1000);
  });

  it('serves HTTPS that a client trusting the certificate accepts', async () => {
    const dir = tmp();
    const tls = resolveTls(tlsFilesFromEnv({}), { dataDir: dir, publicUrl: 'https://localhost:3000' });
    expect(tls.kind).toBe('development');
    const server = createLifeboatServer((_req, res) => res.end('hello over TLS'), tls);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as AddressInfo;
      const body = await new Promise<string>((resolve, reject) => {
        https
          .get({ host: '127.0.0.1', port, path: '/', servername: 'localhost', ca: tls.kind === 'none' ? undefined : tls.cert }, (res) => {
            let text = '';
            res.on('data', (d) => (text += d));
            res.on('end', () => resolve(text));
          })
          .on('error', reject);
      });
      expect(body).toBe('hello over TLS');
    } finally {
      server.close();
    }
  });

  it('keeps the development certificate across starts, with a private key only the owner can read', () => {
    const dir = tmp();
    const first = ensureDevCertificate(dir);
    const second = ensureDevCertificate(dir);
    expect(first.generated).toBe(true);
    expect(second.generated).toBe(false);
    expect(second.cert).toBe(first.cert);
    expect(statSync(first.keyFile).mode & 0o777).toBe(0o600);
  });

  it('renews a development certificate that is about to expire', () => {
    const dir = tmp();
    const old = ensureDevCertificate(dir, new Date(Date.now() - 350 * 24 * 3600 * 1000));
    const renewed = ensureDevCertificate(dir);
    expect(renewed.generated).toBe(true);
    expect(renewed.cert).not.toBe(old.cert);
  });

  it('uses LIFEBOAT_TLS_CERT / LIFEBOAT_TLS_KEY when set', () => {
    const dir = tmp();
    const { cert, key } = createSelfSignedCertificate({ commonName: 'lifeboat.example', dnsNames: ['lifeboat.example'], ips: [] });
    writeFileSync(path.join(dir, 'c.pem'), cert);
    writeFileSync(path.join(dir, 'k.pem'), key);
    const tls = resolveTls(tlsFilesFromEnv({ LIFEBOAT_TLS_CERT: path.join(dir, 'c.pem'), LIFEBOAT_TLS_KEY: path.join(dir, 'k.pem') }), {
      dataDir: dir,
      publicUrl: 'https://lifeboat.example',
    });
    expect(tls).toMatchObject({ kind: 'files', cert, key });
    expect(existsSync(path.join(dir, 'tls'))).toBe(false); // no development certificate made
  });

  it('names the variable that is wrong', () => {
    const dir = tmp();
    const { cert, key } = createSelfSignedCertificate({ commonName: 'a', dnsNames: ['a'], ips: [] });
    const other = createSelfSignedCertificate({ commonName: 'b', dnsNames: ['b'], ips: [] });
    writeFileSync(path.join(dir, 'c.pem'), cert);
    writeFileSync(path.join(dir, 'k.pem'), key);
    writeFileSync(path.join(dir, 'other.pem'), other.key);
    const opts = { dataDir: dir, publicUrl: 'https://a' };
    expect(() => resolveTls(tlsFilesFromEnv({ LIFEBOAT_TLS_CERT: path.join(dir, 'c.pem') }), opts)).toThrow(/^LIFEBOAT_TLS_KEY: .*set together/);
    expect(() => resolveTls(tlsFilesFromEnv({ LIFEBOAT_TLS_KEY: path.join(dir, 'k.pem') }), opts)).toThrow(/^LIFEBOAT_TLS_CERT: /);
    expect(() => resolveTls(tlsFilesFromEnv({ LIFEBOAT_TLS_CERT: path.join(dir, 'missing.pem'), LIFEBOAT_TLS_KEY: path.join(dir, 'k.pem') }), opts)).toThrow(
      /^LIFEBOAT_TLS_CERT: cannot read/,
    );
    expect(() => resolveTls(tlsFilesFromEnv({ LIFEBOAT_TLS_CERT: path.join(dir, 'k.pem'), LIFEBOAT_TLS_KEY: path.join(dir, 'k.pem') }), opts)).toThrow(
      /not a PEM certificate/,
    );
    expect(() => resolveTls(tlsFilesFromEnv({ LIFEBOAT_TLS_CERT: path.join(dir, 'c.pem'), LIFEBOAT_TLS_KEY: path.join(dir, 'other.pem') }), opts)).toThrow(
      TlsConfigError,
    );
  });

  it('plain HTTP when nothing asks for TLS (e.g. behind a proxy); a development certificate only for https://localhost', () => {
    const dir = tmp();
    expect(resolveTls(tlsFilesFromEnv({}), { dataDir: dir, publicUrl: 'http://localhost:3000' })).toEqual({ kind: 'none' });
    expect(resolveTls(tlsFilesFromEnv({}), { dataDir: dir, publicUrl: 'https://lifeboat.example' })).toEqual({ kind: 'none' });
    expect(existsSync(path.join(dir, 'tls'))).toBe(false);
    expect(resolveTls(tlsFilesFromEnv({}), { dataDir: dir, publicUrl: 'https://127.0.0.1:3443' }).kind).toBe('development');
    expect(readFileSync(path.join(dir, 'tls', 'localhost.crt'), 'utf8')).toMatch(/^-----BEGIN CERTIFICATE-----/);
  });
});
