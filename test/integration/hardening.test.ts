/** Resource limits and headers: small bodies before authentication, API rate limits, CSP and friends, Origin checks. */
import { readdirSync } from 'node:fs';
import request from 'supertest';
import { DEFAULT_BUILD_DIR } from '../../server/addin/routes';
import { createApp } from '../../server/app';
import { DEMO_DIRECTORY_FILE } from '../../server/config';
import { createLogger } from '../../server/log';
import { testAppSettings, useLifeboat } from '../harness/context';

const ctx = useLifeboat();
const appWith = (overrides: Partial<Parameters<typeof createApp>[0]>) =>
  createApp({
    conn: ctx.conn,
    services: ctx.services,
    logger: createLogger('silent'),
    directoryFile: DEMO_DIRECTORY_FILE,
    ...testAppSettings(),
    ...overrides,
  });

describe('request bodies', () => {
  it('parses no large body before authentication; small limits elsewhere', async () => {
    const big = JSON.stringify({ to: ['a@alpha.test'], subject: 'x', html: 'x'.repeat(2 * 1024 * 1024) });
    await request(ctx.app).post('/api/me/messages').set('Content-Type', 'application/json').send(big).expect(401);
    const admin = await ctx.signIn('alpha', 'fullAdministrator');
    const res = await admin.post('/api/events').send({ name: 'x'.repeat(200 * 1024) });
    expect(res.status).toBe(413);

    await admin.put('/api/users/alpha-u1/cloud-password').send({ password: 'user one password' }).expect(204);
    const token = (await request(ctx.app).post('/api/user-auth/login').send({ email: 'one@alpha.test', password: 'user one password' }).expect(200)).body.token;
    const sent = await request(ctx.app).post('/api/me/messages').set('Authorization', `Bearer ${token}`).set('Content-Type', 'application/json').send(big);
    expect(sent.status).not.toBe(413);
  });
});

describe('API rate limits', () => {
  it('answer 429 with Retry-After past the per-address budget, and per identity', async () => {
    const limited = appWith({ rateLimit: { perAddressPerMinute: 5, perIdentityPerMinute: 1000 } });
    for (let i = 0; i < 5; i++) await request(limited).get('/api/auth/me').expect(401);
    const refused = await request(limited).get('/api/auth/me').expect(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.headers['content-type']).toMatch(/problem\+json/);
    await request(limited).get('/healthz').expect(200); // not an API route

    const perIdentity = appWith({ rateLimit: { perAddressPerMinute: 1000, perIdentityPerMinute: 3 } });
    for (let i = 0; i < 3; i++) await request(perIdentity).get('/api/me/status').set('Authorization', 'Bearer same-token').expect(401);
    await request(perIdentity).get('/api/me/status').set('Authorization', 'Bearer same-token').expect(429);
    await request(perIdentity).get('/api/me/status').set('Authorization', 'Bearer other-token').expect(401);
  });
});

describe('headers', () => {
  it('CSP without inline script; only Outlook may frame the add-in, nobody the admin page; HSTS on HTTPS', async () => {
    const admin = await request(ctx.app).get('/admin');
    const adminCsp = String(admin.headers['content-security-policy']);
    expect(adminCsp).toMatch(/script-src 'self'(;|$)/);
    expect(adminCsp).toMatch(/frame-ancestors 'none'/);
    expect(admin.headers['referrer-policy']).toBe('no-referrer');
    expect(admin.headers['x-content-type-options']).toBe('nosniff');
    expect(admin.headers['strict-transport-security']).toBeUndefined();

    const pane = await request(ctx.app).get('/addin/taskpane.html');
    const paneCsp = String(pane.headers['content-security-policy']);
    expect(paneCsp).toMatch(/frame-ancestors 'self' https:\/\/outlook\.office\.com/);
    expect(paneCsp).not.toMatch(/script-src[^;]*unsafe-inline/);

    const secure = await request(appWith({ publicUrl: 'https://lifeboat.example' })).get('/healthz');
    expect(secure.headers['strict-transport-security']).toMatch(/max-age=\d+/);
  });

  it('serves no source maps', async () => {
    const maps = readdirSync(DEFAULT_BUILD_DIR).filter((f) => f.endsWith('.js.map'));
    expect(maps.length).toBeGreaterThan(0); // the build writes them (for error reports), the server keeps them
    for (const map of maps.slice(0, 2)) {
      await request(ctx.app).get(`/admin/${map}`).expect(404);
      await request(ctx.app).get(`/addin/${map}`).expect(404);
    }
  });
});

describe('request log', () => {
  it('does not keep portal links (24-hour credentials)', async () => {
    await request(ctx.app).get('/portal/PORTALTOKEN0123456789abcdef').set('Accept', 'text/html');
    await request(ctx.app).post('/portal/PORTALTOKEN0123456789abcdef/actions/extend').type('form').send({ minutes: '60' });
    expect(ctx.logs()).toContain('/portal/[redacted]');
    expect(ctx.logs()).not.toContain('PORTALTOKEN0123456789abcdef');
  });
});

describe('Origin check on cookie-authenticated changes', () => {
  it('refuses a state-changing request from another site, accepts our own origin', async () => {
    const admin = await ctx.signIn('alpha', 'fullAdministrator');
    const evil = await admin.post('/api/auth/logout').set('Origin', 'https://evil.example').expect(403);
    expect(evil.headers['content-type']).toMatch(/problem\+json/);
    await admin.post('/api/auth/logout').set('Referer', 'https://evil.example/page').expect(403);
    await admin.get('/api/auth/me').set('Origin', 'https://evil.example').expect(200); // reads are not changes
    const own = await admin.post('/api/auth/logout').set('Origin', 'http://localhost').expect(204);
    expect(own.status).toBe(204);
  });
});
