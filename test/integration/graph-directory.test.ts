/**
 * A tenant connected to Entra ID, through the real msal-node and Graph SDK, against the local HTTPS
 * stand-ins: connection API, look-ups, sync (full, delta, throttled, failed), expansions, domains,
 * permission probe, the sync lease, and secrets kept out of responses, logs and the audit trail.
 */
import { generateKeyPairSync } from 'node:crypto';
import type request from 'supertest';
import { generate } from 'selfsigned';
import { createSyncScheduler } from '../../server/directory/graph/scheduler';
import { createConnectionService } from '../../server/directory/graph/connection';
import { entraConnectionModel } from '../../server/directory/graph/model';
import { createSecretBox } from '../../server/secrets/seal';
import { createServices } from '../../server/services';
import { openConnection } from '../../server/db/connection';
import { createLogger } from '../../server/log';
import { TEST_SECRET, useLifeboat, testDatabaseUri } from '../harness/context';
import { StandInWorld } from '../stand-ins/entra';
import { io as connectSocket } from 'socket.io-client';
import { startLiveServer } from '../harness/live-server';
import { useGraphStandIns } from '../harness/graph-stand-ins';

const SECRET = 'S3cret-value~never-to-be-shown-8f2a';
const CLIENT_ID = '11111111-2222-4333-8444-555555555555';
const CERT_CLIENT_ID = '66666666-2222-4333-8444-555555555555';

const world = new StandInWorld({ maxPageSize: 3, membersPerDeltaEntry: 2 });
const contoso = world.addTenant('aaaaaaaa-0000-4000-8000-000000000001');
const fabrikam = world.addTenant('aaaaaaaa-0000-4000-8000-000000000002');
contoso.domains = [
  { id: 'contoso.example', isVerified: true, isDefault: true },
  { id: 'Alias.Contoso.Example', isVerified: true, isDefault: false },
  { id: 'pending.example', isVerified: false, isDefault: false },
];
const user = (id: string, name: string) =>
  contoso.putUser({
    id,
    displayName: name,
    mail: `${id}@contoso.example`,
    userPrincipalName: `${id}@contoso.example`,
    proxyAddresses: [`SMTP:${id}@contoso.example`, `smtp:${id}.x@Alias.Contoso.Example`, `X500:/o=Contoso/cn=${id}`],
  });
for (const [id, name] of [
  ['ada', 'Ada Park'],
  ['bob', 'Bob Stone'],
  ['cy', 'Cy Young'],
  ['dee', 'Dee Lane'],
  ['eve', 'Eve Moss'],
])
  user(id, name);
// Phones and alternate addresses: what SMS and password reset need, synced like the file directory's.
contoso.putUser({ ...contoso.users.get('ada')!, mobilePhone: '+47 912 34 567', businessPhones: ['+47 22 00 00 01'], otherMails: ['ada.private@example.org'] });
contoso.putGroup({
  id: 'g-m365',
  displayName: 'Sales Team',
  mail: 'sales@contoso.example',
  groupTypes: ['Unified'],
  mailEnabled: true,
  securityEnabled: false,
  members: ['ada', 'g-dl'],
});
contoso.putGroup({
  id: 'g-dl',
  displayName: 'Sales Europe',
  mail: 'sales-eu@contoso.example',
  mailEnabled: true,
  securityEnabled: false,
  members: ['bob', 'g-sec'],
});
contoso.putGroup({ id: 'g-sec', displayName: 'Sales Laptops', mailEnabled: false, securityEnabled: true, members: ['cy', 'g-m365'] }); // cycle
contoso.putGroup({ id: 'g-mes', displayName: 'Support Desk', mail: 'support@contoso.example', mailEnabled: true, securityEnabled: true, members: ['dee'] });
contoso.putGroup({
  id: 'g-dyn',
  displayName: 'Oslo Office',
  groupTypes: ['DynamicMembership'],
  securityEnabled: true,
  membershipRule: 'user.city -eq "Oslo"',
  members: ['eve'],
});
contoso.putGroup({
  id: 'g-self',
  displayName: 'Self Loop',
  mail: 'loop@contoso.example',
  mailEnabled: true,
  securityEnabled: false,
  members: ['g-self', 'ada'],
});
const app = contoso.registerApp({ clientId: CLIENT_ID, clientSecret: SECRET, grantedPermissions: ['Group.Read.All', 'User.Read.All', 'Mail.Send'] });
fabrikam.domains = [{ id: 'fabrikam.example', isVerified: true, isDefault: true }];
fabrikam.putUser({ id: 'fab-1', displayName: 'Fab One', mail: 'one@fabrikam.example' });
fabrikam.putGroup({ id: 'fab-g', displayName: 'Fabrikam All', mail: 'all@fabrikam.example', groupTypes: ['Unified'], mailEnabled: true, members: ['fab-1'] });

const standIns = useGraphStandIns(world);

const ctx = useLifeboat({ graph: standIns.graph });
const connection = { entraTenantId: contoso.id, clientId: CLIENT_ID, clientSecret: SECRET };

async function syncAndWait(admin: request.Agent, body: object = {}) {
  const started = await admin.post('/api/directory/sync').send(body).expect(202);
  expect(started.body.state).toBe('running');
  // Generous on purpose: on a loaded 2-core machine a sync with its follow-up work can take a while.
  for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
    const status = (await admin.get('/api/directory/sync').expect(200)).body;
    if (status.state !== 'running') return status;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('sync did not finish');
}

const expansionOf = async (admin: request.Agent, groupId: string) => (await admin.get(`/api/directory/expansions/${groupId}`).expect(200)).body;

describe('directory on Microsoft Graph', () => {
  let full: request.Agent;

  beforeAll(async () => {
    full = await ctx.signIn('alpha', 'fullAdministrator');
  });

  it('sets the Entra connection: full administrators only, every bad field named, the secret never shown', async () => {
    const basic = await ctx.signIn('alpha', 'basicAdministrator');
    await basic.put('/api/directory/connection').send(connection).expect(403);
    const bad = await full.put('/api/directory/connection').send({ entraTenantId: 'not a tenant', clientId: 'nope', clientSecret: '', extra: 1 }).expect(422);
    expect(bad.headers['content-type']).toMatch(/problem\+json/);
    expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['(body)', 'clientId', 'clientSecret', 'entraTenantId'].sort());
    const noCredential = await full.put('/api/directory/connection').send({ entraTenantId: contoso.id, clientId: CLIENT_ID }).expect(422);
    expect(noCredential.body.errors[0].path).toBe('clientSecret');
    await full.get('/api/directory/connection').expect(404);

    const created = await full.put('/api/directory/connection').send(connection).expect(201);
    expect(created.body).toMatchObject({ entraTenantId: contoso.id, clientId: CLIENT_ID, credentialType: 'secret', syncIntervalMinutes: 15 });
    expect(JSON.stringify(created.body)).not.toContain(SECRET);
    const changed = await full.put('/api/directory/connection').send({ entraTenantId: contoso.id, clientId: CLIENT_ID, syncIntervalMinutes: 30 }).expect(200);
    expect(changed.body.syncIntervalMinutes).toBe(30);
    expect(JSON.stringify((await full.get('/api/directory/connection').expect(200)).body)).not.toContain(SECRET);

    // Stored sealed, not in clear.
    const stored = await ctx.conn.db!.collection('entraconnections').findOne({ _id: 'alpha' as never });
    expect(stored?.sealedCredential).toMatch(/^v1\./);
    expect(JSON.stringify(stored)).not.toContain(SECRET);

    const audit = (await full.get('/api/audit?category=directory').expect(200)).body.items;
    expect(audit.map((e: { action: string }) => e.action)).toEqual(['directory.connection.changed', 'directory.connection.created']);
    expect(audit[0].after).toMatchObject({ credentialChanged: false, syncIntervalMinutes: 30 });
    expect(audit[1].after).toMatchObject({ credentialChanged: true, credentialType: 'secret' });
    expect(JSON.stringify(audit)).not.toContain(SECRET);
  });

  it('looks groups and users up through Graph, with ConsistencyLevel on every page', async () => {
    const admin = await ctx.signIn('alpha', 'readOnly');
    const before = world.requests.length;
    const groups = (await admin.get('/api/directory/groups?search=sales').expect(200)).body;
    expect(groups).toEqual([
      { id: 'g-dl', displayName: 'Sales Europe', mail: 'sales-eu@contoso.example', kind: 'distributionList' },
      { id: 'g-sec', displayName: 'Sales Laptops', mail: null, kind: 'security' },
      { id: 'g-m365', displayName: 'Sales Team', mail: 'sales@contoso.example', kind: 'm365' },
    ]);
    const all = (await admin.get('/api/directory/groups').expect(200)).body;
    expect(all.map((g: { kind: string }) => g.kind).sort()).toEqual([
      'distributionList',
      'distributionList',
      'dynamic',
      'm365',
      'mailEnabledSecurity',
      'security',
    ]);
    const calls = world.requests.slice(before);
    expect(calls.some((r) => r.path.includes('$skiptoken'))).toBe(true); // pages of 3 → nextLinks followed
    expect(calls.every((r) => r.consistencyLevel === 'eventual')).toBe(true);
    expect((await admin.get('/api/directory/users?search=ada').expect(200)).body).toEqual([
      { id: 'ada', displayName: 'Ada Park', mail: 'ada@contoso.example' },
    ]);
    expect((await admin.get('/api/directory/users?search="quoted"').expect(200)).body).toEqual([]);
    await admin.get('/api/directory/groups/nope').expect(404);
  });

  it('syncs in full: expansions of every kind, nesting and cycles, all addresses, verified domains', async () => {
    const status = await syncAndWait(full);
    expect(status).toMatchObject({ state: 'succeeded', mode: 'full', phase: null, users: 5, groups: 6, error: null });
    expect(status.pages).toBeGreaterThanOrEqual(4); // pages of 3
    expect(Date.parse(status.finishedAt)).toBeGreaterThanOrEqual(Date.parse(status.startedAt));

    const m365 = await expansionOf(full, 'g-m365');
    expect(m365).toMatchObject({
      groupId: 'g-m365',
      kind: 'm365',
      extended: false,
      membership: 'known',
      memberCount: 3,
      userIds: ['ada', 'bob', 'cy'],
      lastError: null,
    });
    expect(m365.addresses).toEqual(expect.arrayContaining(['ada@contoso.example', 'ada.x@alias.contoso.example', 'cy.x@alias.contoso.example']));
    expect(m365.addresses).toHaveLength(6); // mail + smtp: proxies, once each; no X500
    expect(m365.lastSuccessfulSync).toBe(status.finishedAt);
    expect((await expansionOf(full, 'g-sec')).userIds).toEqual(['ada', 'bob', 'cy']);
    expect(await expansionOf(full, 'g-dl')).toMatchObject({ kind: 'distributionList', extended: true });
    expect(await expansionOf(full, 'g-dyn')).toMatchObject({ kind: 'dynamic', extended: true, userIds: ['eve'] });
    expect(await expansionOf(full, 'g-mes')).toMatchObject({ kind: 'mailEnabledSecurity', extended: false, userIds: ['dee'] });
    expect((await expansionOf(full, 'g-self')).userIds).toEqual(['ada']);
    const list = (await full.get('/api/directory/expansions').expect(200)).body;
    expect(list.groups).toHaveLength(6);

    expect((await ctx.services.tenants.get('alpha'))?.domains.sort()).toEqual(['alias.contoso.example', 'contoso.example']);

    // The read API answers from Graph plus the stored expansions, in the file provider's shapes.
    expect((await full.get('/api/directory/groups/g-dl').expect(200)).body).toEqual({
      id: 'g-dl',
      displayName: 'Sales Europe',
      mail: 'sales-eu@contoso.example',
      kind: 'distributionList',
      transitiveMemberIds: ['ada', 'bob', 'cy'],
      transitiveMemberCount: 3,
    });
    expect((await full.get('/api/directory/users/ada').expect(200)).body).toMatchObject({
      id: 'ada',
      mail: 'ada@contoso.example',
      groupIds: ['g-dl', 'g-m365', 'g-sec', 'g-self'],
    });

    expect((await full.get('/api/directory/addresses/ADA.X@alias.contoso.example').expect(200)).body).toMatchObject({
      membership: 'known',
      type: 'user',
      groupIds: ['g-dl', 'g-m365', 'g-sec', 'g-self'],
    });

    // The synced users carry phones and alternate addresses, for every capability that reads the directory.
    const phones = { mobilePhone: '+47 912 34 567', businessPhones: ['+47 22 00 00 01'], otherMails: ['ada.private@example.org'] };
    expect(await ctx.services.directory.getUser('alpha', 'ada')).toMatchObject({ id: 'ada', userPrincipalName: 'ada@contoso.example', ...phones });
    expect(await ctx.services.directory.findUserByAddress('alpha', 'ada.x@alias.contoso.example')).toMatchObject({ id: 'ada', ...phones });
    expect(await ctx.services.directory.getUser('alpha', 'bob')).toMatchObject({ mobilePhone: null, businessPhones: [], otherMails: [] });
    expect((await full.get('/api/directory/users/ada').expect(200)).body).toMatchObject(phones);
    expect((await full.get('/api/directory/addresses/all-staff@contoso.example').expect(200)).body).toMatchObject({ membership: 'unknowable', type: null });
    expect((await full.get('/api/directory/addresses/someone@elsewhere.example').expect(200)).body.membership).toBe('external');
    await full.get('/api/directory/addresses/not-an-address').expect(422);
  });

  it('syncs incrementally from the stored delta links', async () => {
    contoso.addMember('g-mes', 'ada');
    contoso.removeMember('g-dl', 'bob');
    contoso.putUser({ ...contoso.users.get('dee')!, proxyAddresses: ['SMTP:dee@contoso.example', 'smtp:desk@contoso.example'] });
    contoso.putGroup({
      id: 'g-new',
      displayName: 'New Group',
      mail: 'new@contoso.example',
      mailEnabled: true,
      securityEnabled: true,
      members: ['eve', 'g-mes'],
    });
    contoso.putUser({ ...contoso.users.get('bob')!, mobilePhone: '+47 400 00 002', otherMails: ['bob@home.example'] });
    const written = async () =>
      new Map<string, string>(
        (await full.get('/api/directory/expansions').expect(200)).body.groups.map((g: { groupId: string; updatedAt: string }) => [g.groupId, g.updatedAt]),
      );
    const beforeSync = await written();
    const before = world.requests.length;
    const status = await syncAndWait(full);
    expect(status).toMatchObject({ state: 'succeeded', mode: 'incremental' });
    expect(
      world.requests
        .slice(before)
        .filter((r) => r.path.includes('/delta'))
        .every((r) => r.path.includes('$deltatoken') || r.path.includes('$skiptoken')),
    ).toBe(true);
    expect((await expansionOf(full, 'g-m365')).userIds).toEqual(['ada', 'cy']);
    expect((await expansionOf(full, 'g-mes')).userIds).toEqual(['ada', 'dee']);
    expect((await expansionOf(full, 'g-mes')).addresses).toContain('desk@contoso.example');
    expect((await expansionOf(full, 'g-new')).userIds).toEqual(['ada', 'dee', 'eve']);

    // Only the affected expansions were rewritten: the changed groups (g-dl lost bob, g-mes gained
    // ada, g-mes holds dee whose addresses changed, g-new is new), and every group above them
    // (g-m365 and, through the cycle, g-sec above g-dl; g-new above g-mes). Bob's phone change
    // reaches no expansion; g-self and g-dyn hold none of the changes and keep their documents.
    const afterSync = await written();
    const rewritten = [...afterSync]
      .filter(([id, at]) => beforeSync.get(id) !== at)
      .map(([id]) => id)
      .sort();
    expect(rewritten).toEqual(['g-dl', 'g-m365', 'g-mes', 'g-new', 'g-sec']);
    expect(afterSync.get('g-self')).toBe(beforeSync.get('g-self'));
    expect(afterSync.get('g-dyn')).toBe(beforeSync.get('g-dyn'));
    expect((await expansionOf(full, 'g-sec')).userIds).toEqual(['ada', 'cy']); // the nested parent follows g-dl
    // An unchanged group still reads whole after the others were rewritten around it.
    expect(await expansionOf(full, 'g-self')).toMatchObject({ userIds: ['ada'], memberCount: 1 });
    // The stored directory took only the changes: bob's new phone, the new group.
    expect(await ctx.services.directory.getUser('alpha', 'bob')).toMatchObject({ mobilePhone: '+47 400 00 002', otherMails: ['bob@home.example'] });
    expect(await ctx.services.directory.getGroup('alpha', 'g-new')).toMatchObject({ id: 'g-new', displayName: 'New Group' });
    expect(await ctx.services.directory.transitiveUserIds('alpha', 'g-m365')).toEqual(['ada', 'cy']);
    expect(await ctx.services.directory.findUserByAddress('alpha', 'desk@contoso.example')).toMatchObject({ id: 'dee' });
  });

  it('honours 429 + Retry-After', async () => {
    world.fail('/v1.0/groups/delta', 2, 429, 1);
    const status = await syncAndWait(full);
    expect(status).toMatchObject({ state: 'succeeded', throttled: 2 });
    const deltas = world.requests.filter((r) => r.path.startsWith('/v1.0/groups/delta')).slice(-3);
    expect(deltas[1].at - deltas[0].at).toBeGreaterThanOrEqual(950);
  });

  it('keeps the last good expansion when a sync fails', async () => {
    const good = await expansionOf(full, 'g-m365');
    contoso.removeMember('g-m365', 'ada');
    world.fail('/v1.0/groups/delta', 1, 403);
    const status = await syncAndWait(full, { full: true });
    expect(status.state).toBe('failed');
    expect(status.error).toMatch(/403/);
    const kept = await expansionOf(full, 'g-m365');
    expect(kept).toMatchObject({ userIds: good.userIds, lastSuccessfulSync: good.lastSuccessfulSync });
    expect(kept.lastError).toMatch(/403/);
    // The next sync picks the change up.
    expect((await syncAndWait(full)).state).toBe('succeeded');
    expect((await expansionOf(full, 'g-m365')).userIds).toEqual(['cy']);
  });

  it('answers the pickers from the last successful sync while Graph is failing', async () => {
    const admin = await ctx.signIn('alpha', 'readOnly');
    const live = await admin.get('/api/directory/groups?search=sales').expect(200);
    expect(live.headers['lifeboat-directory-source']).toBe('graph');
    world.fail('/v1.0/groups', 5, 503);
    world.fail('/v1.0/users', 5, 503);
    try {
      const lastSuccessfulSync = (await admin.get('/api/directory/sync').expect(200)).body.lastSuccessfulSync;
      const groups = await admin.get('/api/directory/groups?search=sales').expect(200);
      expect(groups.headers['lifeboat-directory-source']).toBe('stored');
      expect(groups.headers['lifeboat-directory-last-successful-sync']).toBe(lastSuccessfulSync);
      expect(groups.body).toEqual(live.body);
      const users = await admin.get('/api/directory/users?search=ada').expect(200);
      expect(users.headers['lifeboat-directory-source']).toBe('stored');
      expect(users.body).toEqual([{ id: 'ada', displayName: 'Ada Park', mail: 'ada@contoso.example' }]);
      // One group or user (the Look Up dialogs' details) falls back the same way.
      const group = await admin.get(`/api/directory/groups/${live.body[0].id}`).expect(200);
      expect(group.headers['lifeboat-directory-source']).toBe('stored');
      expect(group.body).toMatchObject({ id: live.body[0].id, transitiveMemberIds: expect.any(Array) });
      const ada = await admin.get('/api/directory/users/ada').expect(200);
      expect(ada.headers['lifeboat-directory-source']).toBe('stored');
      expect(ada.body).toMatchObject({ id: 'ada', mail: 'ada@contoso.example', groupIds: expect.any(Array) });
      await admin.get('/api/directory/users/nobody').expect(404);
    } finally {
      world.clearFaults();
    }
    expect(ctx.logs()).toContain('Graph unavailable; answered from the last successful sync');
  });

  it('runs one sync per tenant at a time, also from a second server process', async () => {
    const conn2 = await openConnection(testDatabaseUri(), ctx.conn.name);
    const other = createServices(conn2, {
      sessionHours: 1,
      secret: TEST_SECRET,
      graph: standIns.graph(),
      logger: createLogger('silent'),
    });
    try {
      const [a, b] = await Promise.all([ctx.services.entra.sync.start('alpha'), other.entra.sync.start('alpha')]);
      expect([a.started, b.started].sort()).toEqual([false, true]);
      await full.post('/api/directory/sync').send({}).expect(409);
      await Promise.all([ctx.services.entra.sync.settled('alpha'), other.entra.sync.settled('alpha')]);
      expect((await full.get('/api/directory/sync').expect(200)).body.state).toBe('succeeded');
      // A lease left by a process that died expires and is taken over.
      await ctx.conn.db!.collection('directorysyncleases').insertOne({ _id: 'alpha' as never, owner: 'dead', expiresAt: new Date(Date.now() - 1000) });
      expect((await other.entra.sync.start('alpha')).started).toBe(true);
      await other.entra.sync.settled('alpha');
    } finally {
      await other.entra.sync.stop();
      await conn2.close();
    }
  });

  it('schedules syncs per tenant interval', async () => {
    const last = Date.parse((await full.get('/api/directory/sync').expect(200)).body.startedAt);
    let now = new Date(last + 29 * 60_000);
    const scheduler = createSyncScheduler({
      connections: ctx.services.entra.connections,
      sync: ctx.services.entra.sync,
      logger: createLogger('silent'),
      now: () => now,
    });
    expect(await scheduler.tick()).toEqual([]); // interval is 30 min
    now = new Date(last + 31 * 60_000);
    expect(await scheduler.tick()).toEqual(['alpha']);
    await scheduler.stop();
  });

  it('probes the permissions actually granted to the app', async () => {
    const admin = await ctx.signIn('alpha', 'readOnly');
    const rows = (probe: { permissions: { permission: string; status: string; grantedAs: string | null }[] }) =>
      probe.permissions.map((p) => [p.permission, p.status, p.grantedAs]);
    // Without Application.Read.All Graph refuses to list the app's grants, as it does for real.
    const refused = (await admin.get('/api/directory/permissions').expect(200)).body;
    expect(refused.refused).toMatch(/Application\.Read\.All/);
    expect(rows(refused)).toEqual([
      ['GroupMember.Read.All', 'unknown', null],
      ['User.Read.All', 'unknown', null],
      ['Domain.Read.All', 'unknown', null],
      ['Mail.Send', 'unknown', null],
      ['Mail.ReadBasic.All', 'unknown', null],
      ['Mail.Read', 'unknown', null],
      ['Mail.ReadWrite', 'unknown', null],
      ['Application.Read.All', 'missing', null],
    ]);
    app.grantedPermissions.push('Application.Read.All');
    const probe = (await admin.get('/api/directory/permissions').expect(200)).body;
    expect(probe.refused).toBeNull();
    expect(probe.granted).toEqual(['Application.Read.All', 'Group.Read.All', 'Mail.Send', 'User.Read.All']);
    expect(rows(probe)).toEqual([
      ['GroupMember.Read.All', 'granted', 'Group.Read.All'],
      ['User.Read.All', 'granted', 'User.Read.All'],
      ['Domain.Read.All', 'missing', null],
      ['Mail.Send', 'granted', 'Mail.Send'],
      ['Mail.ReadBasic.All', 'missing', null],
      ['Mail.Read', 'missing', null],
      ['Mail.ReadWrite', 'missing', null],
      ['Application.Read.All', 'granted', 'Application.Read.All'],
    ]);
    // The Threat Scan's (Mail.Read) and remediation's (Mail.ReadWrite) are optional: continuity works without them.
    expect(probe.permissions.filter((p: { optional: boolean }) => p.optional).map((p: { permission: string }) => p.permission)).toEqual([
      'Mail.Read',
      'Mail.ReadWrite',
    ]);
    expect(probe.permissions.every((p: { neededFor: string }) => p.neededFor.length > 10)).toBe(true);
    const fileTenant = await ctx.signIn('beta', 'readOnly');
    await fileTenant.get('/api/directory/permissions').expect(409);
  });

  it('connects with a certificate (client assertion), and keeps tenants apart', async () => {
    const pems = await generate([{ name: 'commonName', value: 'Lifeboat' }], { keyType: 'rsa', keySize: 2048 });
    fabrikam.registerApp({ clientId: CERT_CLIENT_ID, certificatePem: pems.cert, grantedPermissions: ['Directory.Read.All'] });
    const beta = await ctx.signIn('beta', 'fullAdministrator');
    const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const mismatch = await beta
      .put('/api/directory/connection')
      .send({ entraTenantId: fabrikam.id, clientId: CERT_CLIENT_ID, certificate: { certificatePem: pems.cert, privateKeyPem: otherKey } })
      .expect(422);
    expect(mismatch.body.errors[0].path).toBe('certificate.privateKeyPem');
    const created = await beta
      .put('/api/directory/connection')
      .send({ entraTenantId: fabrikam.id, clientId: CERT_CLIENT_ID, certificate: { certificatePem: pems.cert, privateKeyPem: pems.private } })
      .expect(201);
    expect(created.body).toMatchObject({ credentialType: 'certificate', certificateThumbprint: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(JSON.stringify(created.body)).not.toContain('PRIVATE KEY');
    expect((await beta.get('/api/directory/groups').expect(200)).body).toEqual([
      { id: 'fab-g', displayName: 'Fabrikam All', mail: 'all@fabrikam.example', kind: 'm365' },
    ]);
    expect((await syncAndWait(beta)).state).toBe('succeeded');
    expect((await beta.get('/api/directory/expansions').expect(200)).body.groups.map((g: { groupId: string }) => g.groupId)).toEqual(['fab-g']);
    await beta.get('/api/directory/expansions/g-m365').expect(404); // alpha's
    expect((await full.get('/api/directory/expansions').expect(200)).body.groups).toHaveLength(7);
    expect(JSON.stringify(await ctx.conn.db!.collection('entraconnections').findOne({ _id: 'beta' as never }))).not.toContain(pems.private.split('\n')[1]);
  });

  it('reports Entra refusing the credential as 502 without revealing it; removal returns the tenant to the file', async () => {
    const wrong = 'Wrong-secret~value-also-never-shown-77';
    // A credential Entra refuses is not stored (the connection is proven first): 422 naming it.
    const unproven = await full
      .put('/api/directory/connection')
      .send({ ...connection, clientSecret: wrong })
      .expect(422);
    expect(unproven.body.errors).toEqual([{ path: 'clientSecret', message: expect.stringMatching(/invalid_client|AADSTS7000215/) }]);
    // A stored credential Entra stops accepting (the secret was rotated in Entra after it was connected).
    app.clientSecret = wrong;
    await full
      .put('/api/directory/connection')
      .send({ ...connection, clientSecret: wrong })
      .expect(200);
    app.clientSecret = SECRET;
    const refused = await full.get('/api/directory/groups?search=sales').expect(502);
    expect(refused.body.detail).toMatch(/invalid_client|AADSTS7000215/);
    expect(JSON.stringify(refused.body)).not.toContain(wrong);
    expect((await syncAndWait(full)).state).toBe('failed');
    expect((await expansionOf(full, 'g-mes')).userIds).toEqual(['ada', 'dee']); // still the last good one

    await full.delete('/api/directory/connection').expect(204);
    expect((await full.get('/api/directory/groups').expect(200)).body).toEqual([
      { id: 'alpha-g1', displayName: 'alpha Group', mail: 'group@alpha.test', kind: 'm365' },
    ]);
    await full.post('/api/directory/sync').send({}).expect(409);

    const everything = ctx.logs() + JSON.stringify((await full.get('/api/audit?limit=200').expect(200)).body);
    for (const secret of [SECRET, wrong]) expect(everything).not.toContain(secret);
    expect(everything).not.toContain('PRIVATE KEY');
    expect(ctx.logs()).toContain('directory sync failed');
  });
});

describe('a connected tenant in the rest of Lifeboat', () => {
  it('plans events for Graph groups and resolves users, addresses and token tenants from the last sync', async () => {
    const full = await ctx.signIn('alpha', 'fullAdministrator');
    const connected = await full.put('/api/directory/connection').send(connection);
    expect([200, 201]).toContain(connected.status);
    await syncAndWait(full, { full: true });

    const event = await full
      .post('/api/events')
      .send({ description: 'Graph outage drill', affectedGroupId: 'g-m365', timeZone: 'UTC', start: new Date(Date.now() - 60_000).toISOString(), end: null })
      .expect(201);
    expect(event.body.affectedGroup).toEqual({ id: 'g-m365', displayName: 'Sales Team' });
    // Cy is in Sales Laptops, in Sales Europe, in Sales Team: covered, through the synced membership.
    const cy = (await full.get('/api/users/cy/continuity').expect(200)).body;
    expect(cy.events.map((e: { id: string }) => e.id)).toContain(event.body.id);
    const dee = (await full.get('/api/users/dee/continuity').expect(200)).body;
    expect(dee.events.map((e: { id: string }) => e.id)).not.toContain(event.body.id);

    // Mail to a proxy address reaches the right user; Entra tokens of this directory land in this tenant.
    expect((await ctx.services.directory.findUserByAddress('alpha', 'bob.x@alias.contoso.example'))?.id).toBe('bob');
    expect(await ctx.services.entra.connections.tenantOfEntraTenant(contoso.id.toUpperCase())).toBe('alpha');
    expect(await ctx.services.entra.connections.tenantOfEntraTenant('aaaaaaaa-0000-4000-8000-00000000dead')).toBeNull();
    await full.post(`/api/events/${event.body.id}/end`).expect(200);
  });
});

describe('the Entra connection check', () => {
  it('is remembered per tenant for a moment, and forgotten at once when the connection changes', async () => {
    let t = 0;
    // An Entra tenant of its own (one Lifeboat tenant per Entra tenant: alpha has contoso's).
    const connection = { entraTenantId: 'aaaaaaaa-0000-4000-8000-0000000000ff', clientId: CLIENT_ID, clientSecret: SECRET };
    const connections = createConnectionService({
      connections: entraConnectionModel(ctx.conn),
      box: createSecretBox(TEST_SECRET),
      clock: () => t,
      cacheMs: 5000,
    });
    expect(await connections.isConnected('gamma')).toBe(false);
    await connections.set('gamma', connection);
    expect(await connections.isConnected('gamma')).toBe(true); // set forgets the cached "no"
    // Another process removes it: this one keeps its answer for the cache time, then asks again.
    await ctx.conn.db!.collection('entraconnections').deleteOne({ _id: 'gamma' as never });
    expect(await connections.isConnected('gamma')).toBe(true);
    t += 5001;
    expect(await connections.isConnected('gamma')).toBe(false);
    await connections.set('gamma', connection);
    expect(await connections.isConnected('gamma')).toBe(true);
    await connections.remove('gamma');
    expect(await connections.isConnected('gamma')).toBe(false); // remove forgets the cached "yes"
  });
});

describe('sync progress, live', () => {
  it('is pushed to the signed-in admins of the tenant while a sync runs', async () => {
    const live = await startLiveServer(ctx);
    try {
      await ctx.createAdmin('alpha', 'readOnly', 'watcher@alpha.test', 'watcher password 1');
      const login = await fetch(`${live.url}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'watcher@alpha.test', password: 'watcher password 1' }),
      });
      const cookie = login.headers.getSetCookie()[0].split(';')[0];
      const socket = connectSocket(live.url, { transports: ['websocket'], reconnection: false, extraHeaders: { cookie } });
      const seen: { state: string; phase: string | null }[] = [];
      socket.on('directory:sync', (status) => seen.push(status));
      await new Promise<void>((resolve, reject) => socket.once('connect', () => resolve()).once('connect_error', reject));

      const full = await ctx.signIn('alpha', 'fullAdministrator');
      const connected = await full.put('/api/directory/connection').send(connection);
      expect([200, 201]).toContain(connected.status);
      await syncAndWait(full, { full: true });
      for (let i = 0; i < 100 && !seen.some((s) => s.state === 'succeeded'); i++) await new Promise((r) => setTimeout(r, 50));
      expect(seen.some((s) => s.state === 'running' && s.phase)).toBe(true);
      expect(seen[seen.length - 1].state).toBe('succeeded');
      socket.disconnect();
    } finally {
      await live.close();
    }
  });
});

describe('Graph stopped', () => {
  it('the pickers answer from the stored directory, marked as such; a tenant never synced gets 502', async () => {
    const full = await ctx.signIn('alpha', 'fullAdministrator');
    const connected = await full.put('/api/directory/connection').send(connection);
    expect([200, 201]).toContain(connected.status);
    expect((await syncAndWait(full)).state).toBe('succeeded');
    expect((await full.get('/api/directory/users?search=bob').expect(200)).headers['lifeboat-directory-source']).toBe('graph');
    await standIns.close();
    const users = await full.get('/api/directory/users?search=bob').expect(200);
    expect(users.headers['lifeboat-directory-source']).toBe('stored');
    expect(users.body).toEqual([{ id: 'bob', displayName: 'Bob Stone', mail: 'bob@contoso.example' }]);
    const groups = await full.get('/api/directory/groups?search=support').expect(200);
    expect(groups.headers['lifeboat-directory-source']).toBe('stored');
    expect(groups.body).toEqual([{ id: 'g-mes', displayName: 'Support Desk', mail: 'support@contoso.example', kind: 'mailEnabledSecurity' }]);
    // Nothing stored to fall back on: the failure is reported.
    await ctx.services.entra.sync.reset('alpha');
    const refused = await full.get('/api/directory/users?search=bob').expect(502);
    expect(refused.headers['content-type']).toMatch(/problem\+json/);
  });
});
