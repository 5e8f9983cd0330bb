/**
 * The REST contract: served at /api/openapi.json, OpenAPI 3.1, and complete: every route the Express
 * app registers has an operation (a new route without one fails here), each operation says who may call
 * it and answers its errors as problem+json.
 */
import type { Express } from 'express';
import request from 'supertest';
import { buildContract } from '../../server/http/openapi/document';
import { openApiPath } from '../../server/http/openapi/contract';
import { useLifeboat } from '../harness/context';

const ctx = useLifeboat();

/** Server-rendered pages and static files: not part of the JSON API. */
// Pages and their files, not the JSON API: the add-in, the admin page, portal pages, the web inbox's shell.
const NOT_REST = [/^\/addin(\/|$)(?!config\.json$)/, /^\/admin(\/|$)/, /^\/portal\//, /^\/$/, /^\/manifest\.webmanifest$/, /^\/sw\.js$/];

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** Every (method, path) the app's routers register, walked from app.router's stack. */
function appRoutes(app: Express): Array<{ method: string; path: string }> {
  const found: Array<{ method: string; path: string }> = [];
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route) {
        const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        for (const path of paths) for (const method of Object.keys(layer.route.methods)) if (method !== '_all') found.push({ method, path });
      } else if (layer.handle?.stack) walk(layer.handle.stack);
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return found;
}

describe('the OpenAPI contract', () => {
  it('covers every route of the app', () => {
    const registered = new Set(buildContract().registered.map((r) => `${r.method} ${r.path}`));
    const routes = appRoutes(ctx.app).filter((r) => !NOT_REST.some((re) => re.test(r.path)));
    expect(routes.length).toBeGreaterThan(50);
    const missing = routes.map((r) => `${r.method} ${r.path}`).filter((r) => !registered.has(r));
    // Add the route to its capability's file in server/http/openapi/.
    expect(missing).toEqual([]);
    const stale = [...registered].filter((r) => !routes.some((x) => `${x.method} ${x.path}` === r));
    expect(stale).toEqual([]);
  });

  it('is served at /api/openapi.json without signing in, as OpenAPI 3.1', async () => {
    const res = await request(ctx.app)
      .get('/api/openapi.json')
      .expect(200)
      .expect('Content-Type', /application\/json/);
    expect(res.body.openapi).toBe('3.1.0');
    expect(res.body.components.securitySchemes).toEqual({
      adminSession: expect.objectContaining({ type: 'apiKey', in: 'cookie', name: 'lifeboat_session' }),
      userToken: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
    });
    expect(res.body.components.schemas.Problem.properties.errors).toBeDefined();
  });

  it('gives each operation its security requirement and problem+json errors', async () => {
    const doc = (await request(ctx.app).get('/api/openapi.json').expect(200)).body;
    const ops = Object.entries(doc.paths as Record<string, Record<string, { security: unknown[]; responses: Record<string, { content?: object }> }>>).flatMap(
      ([path, item]) => Object.entries(item).map(([method, op]) => ({ key: `${method} ${path}`, op })),
    );
    const schemes = (key: string) => ops.find((o) => o.key === key)!.op.security;
    expect(schemes('get /api/events')).toEqual([{ adminSession: [] }]);
    expect(schemes('get /api/me/mailbox')).toEqual([{ userToken: [] }]);
    expect(schemes('post /api/auth/login')).toEqual([]);
    for (const { key, op } of ops) {
      // (The health check's 503 is its own JSON body, for load balancers.)
      const errors = Object.entries(op.responses).filter(([status]) => Number(status) >= 400 && key !== 'get /healthz');
      if (op.security.length) expect([key, op.responses['401']]).toEqual([key, expect.anything()]);
      // Browser routes (`/auth/…`, a person's sign-in) answer their refusals as HTML pages that say what to do.
      for (const [status, response] of errors) {
        const types = Object.keys(response.content ?? {});
        const page = key.includes(' /auth/') && types.length === 1 && types[0] === 'text/html';
        expect([key, status, page ? ['application/problem+json'] : types]).toEqual([key, status, ['application/problem+json']]);
      }
    }
    // A body's bad field is a 422 naming it, with the route's own limits in the schema.
    const create = ops.find((o) => o.key === 'post /api/monitors')!.op as unknown as {
      responses: Record<string, unknown>;
      requestBody: { content: { 'application/json': { schema: { properties: Record<string, { maximum?: number }> } } } };
    };
    expect(create.responses['422']).toBeDefined();
    expect(create.requestBody.content['application/json'].schema.properties.latencyThresholdSeconds.maximum).toBe(3600);
  });

  it('writes Express parameters as OpenAPI ones', () => {
    expect(openApiPath('/api/me/mailbox/:id/attachments/:index')).toEqual({ path: '/api/me/mailbox/{id}/attachments/{index}', params: ['id', 'index'] });
  });
});
