import request from 'supertest';
import { useLifeboat } from '../harness/context';

const ctx = useLifeboat();

function expectProblem(res: request.Response, status: number) {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ type: 'about:blank', status, title: expect.any(String) });
  expect(JSON.stringify(res.body)).not.toMatch(/\bat .*\.ts:\d+/); // no stack traces
}

describe('problem+json errors', () => {
  it('400 for malformed JSON', async () => {
    const res = await request(ctx.app).post('/api/auth/login').set('Content-Type', 'application/json').send('{"email": ');
    expectProblem(res, 400);
    expect(res.body.detail).toMatch(/not valid JSON/);
  });

  it('401 without a session', async () => {
    expectProblem(await request(ctx.app).get('/api/audit'), 401);
  });

  it('403 for a role that is too low', async () => {
    const reader = await ctx.signIn('alpha', 'readOnly');
    expectProblem(await reader.post('/api/admins').send({}), 403);
  });

  it('404 for unknown routes and unknown records', async () => {
    expectProblem(await request(ctx.app).get('/api/no-such-thing'), 404);
    expectProblem(await request(ctx.app).delete('/'), 404);
    const reader = await ctx.signIn('alpha', 'readOnly');
    expectProblem(await reader.get('/api/admins/not-an-id'), 404);
    expectProblem(await reader.get('/api/admins/0123456789abcdef01234567'), 404);
  });

  it('409 for a conflicting write', async () => {
    const full = await ctx.signIn('alpha', 'fullAdministrator', 'dup@alpha.test');
    const res = await full.post('/api/admins').send({ email: 'dup@alpha.test', password: 'another long password', role: 'readOnly' });
    expectProblem(res, 409);
  });

  it('413 for a body over the limit', async () => {
    const res = await request(ctx.app)
      .post('/api/auth/login')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ email: 'x'.repeat(2 * 1024 * 1024), password: 'y' }));
    expectProblem(res, 413);
  });

  it('415 for a body that is not JSON', async () => {
    const res = await request(ctx.app).post('/api/auth/login').set('Content-Type', 'text/plain').send('email=a');
    expectProblem(res, 415);
  });

  it('422 listing every bad field at once', async () => {
    const full = await ctx.signIn('alpha', 'fullAdministrator');
    const res = await full.post('/api/admins').send({ email: 'not-an-email', password: 'short', role: 'emperor' });
    expectProblem(res, 422);
    expect(res.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['email', 'password', 'role']);
    expect(res.body.errors.every((e: { message: string }) => e.message.length > 0)).toBe(true);
    const missing = await request(ctx.app).post('/api/auth/login').send({});
    expectProblem(missing, 422);
    expect(missing.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['email', 'password']);
  });

  it('422 for bad query parameters', async () => {
    const reader = await ctx.signIn('alpha', 'readOnly');
    const res = await reader.get('/api/audit?from=yesterday&limit=0');
    expectProblem(res, 422);
    expect(res.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['from', 'limit']);
    expectProblem(await reader.get('/api/audit?cursor=garbage'), 422);
  });

  it('tags every response with a request id', async () => {
    const res = await request(ctx.app).get('/healthz').set('X-Request-Id', 'trace-123').expect(200);
    expect(res.headers['x-request-id']).toBe('trace-123');
    expect(res.body).toEqual({ status: 'ok', db: 'ok' });
  });
});
