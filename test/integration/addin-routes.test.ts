/** The add-in router: the built pane, office.js from the npm package, icons, manifest, settings. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import request from 'supertest';
import { addinRoutes, DEV_MANIFEST } from '../../server/addin/routes';
import { addinConfigFromEnv } from '../../server/config';
import { problemHandler, unknownRoute } from '../../server/http/problem';

function appWith(buildDir: string) {
  const app = express();
  app.use(addinRoutes({ buildDir, config: addinConfigFromEnv({}, 'https://lifeboat.example') }));
  app.use(unknownRoute);
  app.use(problemHandler);
  return app;
}

function fakeBuild() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-build-'));
  mkdirSync(path.join(dir, 'assets'));
  writeFileSync(path.join(dir, 'taskpane.html'), '<!doctype html><title>pane</title>');
  writeFileSync(path.join(dir, 'taskpane.0123abcd.js'), 'console.log(1)');
  writeFileSync(path.join(dir, 'assets', 'icon-16.png'), Buffer.from('89504e470d0a1a0a', 'hex'));
  return dir;
}

describe('add-in static serving', () => {
  const build = fakeBuild();
  const app = appWith(build);

  it('serves the pane HTML uncached and hashed bundles as immutable', async () => {
    const html = await request(app).get('/addin/taskpane.html').expect(200);
    expect(html.headers['cache-control']).toBe('no-cache');
    expect(html.headers['content-type']).toMatch(/text\/html/);
    const js = await request(app).get('/addin/taskpane.0123abcd.js').expect(200);
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const icon = await request(app).get('/addin/assets/icon-16.png').expect(200);
    expect(icon.headers['content-type']).toBe('image/png');
    expect(icon.headers['cache-control']).toBe('public, max-age=3600');
    await request(app).get('/addin/').expect(302).expect('location', '/addin/taskpane.html');
  });

  it('serves office.js and the host scripts it loads from the @microsoft/office-js package (no CDN)', async () => {
    const office = await request(app).get('/addin/office-js/office.js').expect(200);
    expect(office.headers['content-type']).toMatch(/javascript/);
    expect(office.text.length).toBeGreaterThan(10_000);
    expect(office.headers['cache-control']).toBe('public, max-age=86400');
    await request(app).get('/addin/office-js/outlook-web-16.01.js').expect(200);
  });

  it('serves the development manifest until a production one is built', async () => {
    const dev = await request(app).get('/addin/manifest.xml').expect(200);
    expect(dev.headers['content-type']).toMatch(/application\/xml/);
    expect(dev.text).toContain('https://localhost:3000/addin/taskpane.html');
    writeFileSync(path.join(build, 'manifest.xml'), '<OfficeApp>built</OfficeApp>');
    const built = await request(app).get('/addin/manifest.xml').expect(200);
    expect(built.text).toBe('<OfficeApp>built</OfficeApp>');
    expect(DEV_MANIFEST.endsWith('manifest.xml')).toBe(true);
  });

  it('gives the pane its settings: no NAA unless an Entra app is configured', async () => {
    const res = await request(app).get('/addin/config.json').expect(200);
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.body).toEqual({ naa: null, continuityInboxUrl: 'https://lifeboat.example/' });
    expect(
      addinConfigFromEnv({ LIFEBOAT_ENTRA_CLIENT_ID: 'abc', LIFEBOAT_CONTINUITY_INBOX_URL: 'https://inbox.example/' }, 'https://lifeboat.example'),
    ).toEqual({
      naa: { clientId: 'abc', authority: 'https://login.microsoftonline.com/organizations', scopes: ['api://lifeboat.example/abc/access_as_user'] },
      continuityInboxUrl: 'https://inbox.example/',
    });
  });

  it('unknown files are a problem+json 404, and an unbuilt pane says how to build it', async () => {
    const missing = await request(app).get('/addin/nope.js').expect(404);
    expect(missing.headers['content-type']).toMatch(/application\/problem\+json/);
    const unbuilt = await request(appWith(mkdtempSync(path.join(os.tmpdir(), 'lifeboat-empty-'))))
      .get('/addin/taskpane.html')
      .expect(503);
    expect(unbuilt.body.detail).toMatch(/npm run build/);
  });
});
