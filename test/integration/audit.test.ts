import request from 'supertest';
import { auditModel } from '../../server/audit/model';
import { useLifeboat } from '../harness/context';

const ctx = useLifeboat();
const actor = { type: 'admin' as const, id: 'x', email: 'ops@alpha.test' };

describe('audit trail', () => {
  beforeAll(async () => {
    for (let i = 0; i < 7; i++) {
      await ctx.services.audit.record({ tenantId: 'alpha', category: i % 2 ? 'continuity' : 'monitor', action: `step.${i}`, actor, after: { i } });
    }
    await ctx.services.audit.record({ tenantId: 'beta', category: 'continuity', action: 'beta.secret', actor: { ...actor, email: 'ops@beta.test' } });
  });

  it('pages newest first with a cursor, without gaps or repeats', async () => {
    const admin = await ctx.signIn('alpha', 'readOnly', 'pager@alpha.test');
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: request.Response = await admin.get(`/api/audit?category=continuity&limit=2${cursor ? `&cursor=${cursor}` : ''}`).expect(200);
      seen.push(...page.body.items.map((e: { action: string }) => e.action));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['step.5', 'step.3', 'step.1']);
  });

  it('filters by actor and time', async () => {
    const admin = await ctx.signIn('alpha', 'readOnly');
    const byActor = (await admin.get('/api/audit?actor=OPS@alpha.test&limit=500').expect(200)).body.items;
    expect(byActor).toHaveLength(7);
    const future = new Date(Date.now() + 3600_000).toISOString();
    expect((await admin.get(`/api/audit?from=${encodeURIComponent(future)}`).expect(200)).body.items).toEqual([]);
    expect((await admin.get(`/api/audit?to=${encodeURIComponent(future)}&actor=ops@alpha.test`).expect(200)).body.items).toHaveLength(7);
  });

  it('exports CSV (RFC 4180) with formula cells neutralised', async () => {
    // A sign-in attempt with a hostile "email" ends up in the trail as typed.
    await request(ctx.app).post('/api/auth/login').send({ email: '=HYPERLINK("http://x")@alpha.test', password: 'whatever it is' }).expect(401);
    const admin = await ctx.signIn('alpha', 'readOnly');
    const res = await admin.get('/api/audit/export.csv?category=security').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toMatch(/attachment; filename="lifeboat-audit-alpha\.csv"/);
    const lines = res.text.split('\r\n');
    // A UTF-8 byte order mark first, so Excel on Windows keeps "Chloé".
    expect(lines[0]).toBe('\uFEFFtime,category,action,actor,target,before,after,ip,requestId');
    const hostile = lines.find((l) => l.toLowerCase().includes('hyperlink'))!;
    expect(hostile).toContain(`,"'=hyperlink(""http://x"")@alpha.test",`);
    expect(res.text.endsWith('\r\n')).toBe(true);
  });

  it('offers every category the server writes for the filter', async () => {
    const admin = await ctx.signIn('alpha', 'readOnly');
    const categories = (await admin.get('/api/audit/categories').expect(200)).body;
    expect(categories).toEqual(expect.arrayContaining(['configuration', 'continuity', 'directory', 'mail', 'monitor', 'notifications', 'security']));
  });

  it('logs each request in one short line, without its headers', async () => {
    await request(ctx.app).get('/healthz').set('X-Request-Id', 'log-line-probe').set('X-Probe', 'header-value-not-logged').expect(200);
    const line = ctx
      .logs()
      .split('\n')
      .find((l) => l.includes('"log-line-probe"') && l.includes('"res"'))!;
    const entry = JSON.parse(line);
    expect(entry.req).toEqual({ id: 'log-line-probe', method: 'GET', url: '/healthz', remoteAddress: expect.any(String) });
    expect(entry.res).toEqual({ statusCode: 200 });
    expect(ctx.logs()).not.toContain('header-value-not-logged');
  });

  it('is append-only', async () => {
    const model = auditModel(ctx.conn);
    await expect(model.updateMany({ tenantId: 'alpha' }, { $set: { action: 'rewritten' } })).rejects.toThrow(/append-only/);
    await expect(model.deleteMany({ tenantId: 'alpha' })).rejects.toThrow(/append-only/);
    expect(await model.countDocuments({ tenantId: 'alpha', action: 'step.0' })).toBe(1);
  });
});
