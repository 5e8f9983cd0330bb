/** Spreadsheet import of cloud passwords (issue 19 point 4): CSV and XLSX, dry run, apply, one-time download, audit. */
import request from 'supertest';
import writeXlsxFile from 'write-excel-file/node';
import { tenantDirectory, useLifeboat } from '../harness/context';

const ctx = useLifeboat({
  directories: [
    tenantDirectory('alpha', {
      users: ['one', 'two', 'three', 'four'].map((n, i) => ({ id: `alpha-u${i + 1}`, displayName: `alpha ${n}`, mail: `${n}@alpha.test` })),
    }),
    tenantDirectory('beta'),
  ],
});

const CSV = [
  'email,password',
  'one@alpha.test,first imported password',
  'two@alpha.test,generate',
  'ghost@alpha.test,some long password here',
  'three@alpha.test,short',
  'ONE@alpha.test,"a password, with a comma"',
  'not an address,whatever password',
  '',
  'four@alpha.test,GENERATE',
].join('\r\n');

const login = (email: string, password: string) => request(ctx.app).post('/api/user-auth/login').send({ email, password });

describe('cloud password import', () => {
  it('dry-runs every row with its row number and outcome, changing nothing', async () => {
    const admin = await ctx.signIn('alpha', 'basicAdministrator');
    const res = await admin.post('/api/users/cloud-passwords/import').set('Content-Type', 'text/csv').send(CSV).expect(200);
    expect(res.body.applied).toBe(false);
    expect(res.body.rows.map((r: { row: number; outcome: string }) => [r.row, r.outcome])).toEqual([
      [2, 'set'],
      [3, 'generate'],
      [4, 'unknownUser'],
      [5, 'weakPassword'],
      [6, 'duplicate'],
      [7, 'invalid'],
      [9, 'generate'],
    ]);
    expect(res.body.rows[4].message).toMatch(/row 2/);
    expect(res.body.summary).toEqual({ rows: 7, set: 1, generate: 2, refused: 4 });
    await login('one@alpha.test', 'first imported password').expect(401);
    const reader = await ctx.signIn('alpha', 'readOnly');
    await reader.post('/api/users/cloud-passwords/import').set('Content-Type', 'text/csv').send(CSV).expect(403);
  });

  it('applies the good rows, hands out generated passwords once, and audits without passwords', async () => {
    const admin = await ctx.signIn('alpha', 'basicAdministrator', 'importer@alpha.test');
    const res = await admin.post('/api/users/cloud-passwords/import?apply=true').set('Content-Type', 'text/csv').send(CSV).expect(200);
    expect(res.body).toMatchObject({ applied: true, summary: { set: 1, generate: 2, refused: 4 } });
    await login('one@alpha.test', 'first imported password').expect(200);
    await login('three@alpha.test', 'short').expect(401);

    const file = await admin.get(res.body.download).expect(200);
    expect(file.headers['content-disposition']).toMatch(/attachment/);
    const lines = file.text
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\r\n');
    expect(lines[0]).toBe('email,password');
    const generated = Object.fromEntries(lines.slice(1).map((l) => l.split(',')));
    expect(Object.keys(generated).sort()).toEqual(['four@alpha.test', 'two@alpha.test']);
    await login('two@alpha.test', generated['two@alpha.test']).expect(200);
    await login('four@alpha.test', generated['four@alpha.test']).expect(200);
    await admin.get(res.body.download).expect(404); // once

    const audit = (await admin.get('/api/audit?category=security&limit=200').expect(200)).body.items;
    const entry = audit.find((e: { action: string }) => e.action === 'user.cloudPassword.imported');
    expect(entry).toMatchObject({
      actor: { email: 'importer@alpha.test' },
      after: { set: 1, generate: 2, setFor: ['alpha-u1'], generatedFor: ['alpha-u2', 'alpha-u4'] },
    });
    const everything = JSON.stringify(audit) + ctx.logs();
    for (const secret of ['first imported password', ...Object.values(generated)]) expect(everything).not.toContain(secret);

    // Directory › Users: who has a cloud password and since when.
    const users = (await admin.get('/api/directory/users?include=cloudPassword').expect(200)).body as { id: string; cloudPasswordSetAt: string | null }[];
    const setAt = Object.fromEntries(users.map((u) => [u.id, u.cloudPasswordSetAt]));
    expect(setAt['alpha-u3']).toBeNull();
    expect(Date.parse(setAt['alpha-u1']!)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('reads XLSX workbooks, and refuses unreadable files naming the file', async () => {
    const admin = await ctx.signIn('alpha', 'basicAdministrator');
    const xlsx = await writeXlsxFile([
      [{ value: 'email' }, { value: 'password' }],
      [{ value: 'three@alpha.test' }, { value: 'from a workbook 123' }],
      [{ value: 'one@beta.test' }, { value: 'generate' }],
    ]).toBuffer();
    const dry = await admin
      .post('/api/users/cloud-passwords/import')
      .set('Content-Type', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
      .send(xlsx)
      .expect(200);
    expect(dry.body.rows.map((r: { row: number; outcome: string }) => [r.row, r.outcome])).toEqual([
      [2, 'set'],
      [3, 'unknownUser'], // another tenant's user
    ]);
    await admin.post('/api/users/cloud-passwords/import?apply=true').set('Content-Type', 'application/octet-stream').send(xlsx).expect(200);
    await login('three@alpha.test', 'from a workbook 123').expect(200);

    const broken = await admin
      .post('/api/users/cloud-passwords/import')
      .set('Content-Type', 'application/octet-stream')
      .send(Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.alloc(64)]))
      .expect(422);
    expect(broken.body.errors[0].path).toBe('file');
    const badCsv = await admin.post('/api/users/cloud-passwords/import').set('Content-Type', 'text/csv').send('email,password\n"unterminated,x').expect(422);
    expect(badCsv.body.errors[0].path).toBe('file');
    await admin.post('/api/users/cloud-passwords/import').set('Content-Type', 'text/csv').send('').expect(422);
  });
});
