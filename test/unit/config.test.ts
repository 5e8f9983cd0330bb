import path from 'node:path';
import { ConfigError, DEMO_DIRECTORY_FILE, loadConfig } from '../../server/config';

function errorFor(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('has working defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3000,
      smtpPort: 2525,
      mongodbUri: undefined,
      dataDir: path.resolve('data'),
      publicUrl: 'http://localhost:3000',
      directoryFile: DEMO_DIRECTORY_FILE,
      secret: undefined,
    });
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ SMTP_PORT: '-1' }, 'SMTP_PORT'],
    [{ MONGODB_URI: 'postgres://x' }, 'MONGODB_URI'],
    [{ LIFEBOAT_PUBLIC_URL: 'not a url' }, 'LIFEBOAT_PUBLIC_URL'],
    [{ LIFEBOAT_PUBLIC_URL: 'ftp://example.com' }, 'LIFEBOAT_PUBLIC_URL'],
    [{ LIFEBOAT_SECRET: 'short' }, 'LIFEBOAT_SECRET'],
    [{ LIFEBOAT_ADMIN_EMAIL: 'nope', LIFEBOAT_ADMIN_PASSWORD: 'long enough password' }, 'LIFEBOAT_ADMIN_EMAIL'],
    [{ LIFEBOAT_ADMIN_EMAIL: 'a@b.test' }, 'LIFEBOAT_ADMIN_PASSWORD'],
    [{ LIFEBOAT_ADMIN_PASSWORD: 'long enough password' }, 'LIFEBOAT_ADMIN_EMAIL'],
    [{ LIFEBOAT_ADMIN_EMAIL: 'a@b.test', LIFEBOAT_ADMIN_PASSWORD: 'short' }, 'LIFEBOAT_ADMIN_PASSWORD'],
    [{ LIFEBOAT_DIRECTORY_FILE: '/nonexistent/dir.json' }, 'LIFEBOAT_DIRECTORY_FILE'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ LIFEBOAT_SESSION_HOURS: '0' }, 'LIFEBOAT_SESSION_HOURS'],
    [{ LIFEBOAT_SPF_REGIONS: 'eu:spf-eu.relay.example' }, 'LIFEBOAT_SPF_REGIONS'],
    [{ LIFEBOAT_SPF_REGIONS: 'eu=not a host' }, 'LIFEBOAT_SPF_REGIONS'],
  ])('refuses %j naming %s', (env, variable) => {
    const err = errorFor(env);
    expect(err.variable).toBe(variable);
    expect(err.message.startsWith(`${variable}:`)).toBe(true);
  });

  it('accepts a full, valid configuration', () => {
    const config = loadConfig({
      PORT: '8080',
      SMTP_PORT: '25',
      MONGODB_URI: 'mongodb://db.example:27017/lifeboat?replicaSet=rs0',
      LIFEBOAT_DATA_DIR: '/var/lib/lifeboat',
      LIFEBOAT_PUBLIC_URL: 'https://lifeboat.example.com/',
      LIFEBOAT_SECRET: 'x'.repeat(64),
      LIFEBOAT_ADMIN_EMAIL: 'it@contoso.test',
      LIFEBOAT_ADMIN_PASSWORD: 'a long admin password',
    });
    expect(config).toMatchObject({ port: 8080, smtpPort: 25, publicUrl: 'https://lifeboat.example.com', dataDir: '/var/lib/lifeboat' });
  });
});

describe('Entra settings for the add-in', () => {
  it('are off until an app is configured', () => {
    expect(loadConfig({}).entra.audiences).toEqual([]);
  });

  it('derive the accepted audiences and scope from the app registration', () => {
    const entra = loadConfig({ LIFEBOAT_ENTRA_CLIENT_ID: 'abc', LIFEBOAT_PUBLIC_URL: 'https://lifeboat.example' }).entra;
    expect(entra).toEqual({ audiences: ['abc', 'api://lifeboat.example/abc'], authority: 'https://login.microsoftonline.com', scope: 'access_as_user' });
    const custom = loadConfig({
      LIFEBOAT_ENTRA_CLIENT_ID: 'abc',
      LIFEBOAT_ENTRA_API_SCOPE: 'api://contoso.example/lifeboat/Mail.Continuity',
      LIFEBOAT_ENTRA_AUDIENCE: 'x,y',
    }).entra;
    expect(custom).toMatchObject({ audiences: ['x', 'y'], scope: 'Mail.Continuity' });
    expect(() => loadConfig({ LIFEBOAT_ENTRA_AUTHORITY: 'http://login.example' })).toThrow(/LIFEBOAT_ENTRA_AUTHORITY/);
  });
});
