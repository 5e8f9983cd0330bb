/** The server process over HTTPS: a development certificate for https://localhost, or configured files. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { createSelfSignedCertificate } from '../../server/http/tls';
import { testDatabaseUri } from '../harness/context';
import { runUntilExit, startServer } from '../harness/server-process';

const ADMIN = { LIFEBOAT_ADMIN_EMAIL: 'it@contoso.test', LIFEBOAT_ADMIN_PASSWORD: 'first admin password' };
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-https-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const database = () => `${testDatabaseUri().replace(/\/$/, '')}/https_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;

function getJson(url: string, ca: string, servername: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    https
      .get({ host: '127.0.0.1', port: u.port, path: u.pathname, ca, servername }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      })
      .on('error', reject);
  });
}

describe('server process over HTTPS', () => {
  it('https://localhost as the public URL: serves HTTPS with a development certificate kept in the data directory', async () => {
    const dataDir = tempDir();
    const server = await startServer({ ...ADMIN, LIFEBOAT_DATA_DIR: dataDir, MONGODB_URI: database(), LIFEBOAT_PUBLIC_URL: 'https://localhost:3000' });
    try {
      expect(server.url).toMatch(/^https:\/\/localhost:\d+$/);
      const ca = readFileSync(path.join(dataDir, 'tls', 'localhost.crt'), 'utf8');
      await expect(getJson(`${server.url}/addin/config.json`, ca, 'localhost')).resolves.toEqual({
        status: 200,
        body: { naa: null, continuityInboxUrl: 'https://localhost:3000/' },
      });
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it('LIFEBOAT_TLS_CERT / LIFEBOAT_TLS_KEY: serves with those files; a bad one stops the start naming the variable', async () => {
    const dir = tempDir();
    const { cert, key } = createSelfSignedCertificate({ commonName: 'lifeboat.test', dnsNames: ['lifeboat.test', 'localhost'], ips: ['127.0.0.1'] });
    writeFileSync(path.join(dir, 'cert.pem'), cert);
    writeFileSync(path.join(dir, 'key.pem'), key);
    const env = {
      ...ADMIN,
      LIFEBOAT_DATA_DIR: dir,
      MONGODB_URI: database(),
      LIFEBOAT_TLS_CERT: path.join(dir, 'cert.pem'),
      LIFEBOAT_TLS_KEY: path.join(dir, 'key.pem'),
    };
    const server = await startServer(env);
    try {
      const res = await getJson(`${server.url}/healthz`, cert, 'lifeboat.test');
      expect(res.status).toBe(200);
    } finally {
      expect(await server.stop()).toBe(0);
    }
    const bad = await runUntilExit({ ...env, LIFEBOAT_TLS_KEY: path.join(dir, 'missing.pem') });
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toMatch(/^Lifeboat cannot start: configuration error in LIFEBOAT_TLS_KEY: cannot read .*missing\.pem/);
  });
});
