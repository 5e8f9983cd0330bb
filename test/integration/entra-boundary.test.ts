/**
 * One Lifeboat tenant per Entra tenant, against the real msal-node and the local Entra stand-in:
 * a connection is proven (the app's credential must get a token for that Entra tenant), and an
 * attacker who is a full administrator of their own Lifeboat tenant cannot connect the victim's
 * Entra tenant, even with an app the victim's tenant has consented to.
 */
import type request from 'supertest';
import { useLifeboat } from '../harness/context';
import { useGraphStandIns } from '../harness/graph-stand-ins';
import { StandInWorld } from '../stand-ins/entra';

const world = new StandInWorld();
const victimEntra = world.addTenant('dddddddd-0000-4000-8000-000000000001');
const attackerEntra = world.addTenant('dddddddd-0000-4000-8000-000000000002');
const VICTIM_APP = { clientId: '11111111-0000-4000-8000-00000000000a', clientSecret: 'victim-app-secret~0123456789' };
// A multi-tenant app of the attacker's that the victim's tenant consented to: it gets tokens there too.
const CONSENTED_APP = { clientId: '11111111-0000-4000-8000-00000000000b', clientSecret: 'attacker-app-secret~0123456789' };
victimEntra.registerApp({ ...VICTIM_APP, grantedPermissions: ['Directory.Read.All'] });
victimEntra.registerApp({ ...CONSENTED_APP, grantedPermissions: [] });
attackerEntra.registerApp({ ...CONSENTED_APP, grantedPermissions: ['Directory.Read.All'] });

const standIns = useGraphStandIns(world);

const ctx = useLifeboat({ graph: standIns.graph });

describe('Entra tenants', () => {
  let victim: request.Agent;
  let attacker: request.Agent;
  beforeAll(async () => {
    victim = await ctx.signIn('alpha', 'fullAdministrator', 'root@alpha.test');
    attacker = await ctx.signIn('beta', 'fullAdministrator', 'root@beta.test');
  });

  it('are connected only with a credential Entra accepts for that tenant (proven before it is stored)', async () => {
    const guessed = await attacker
      .put('/api/directory/connection')
      .send({ entraTenantId: victimEntra.id, clientId: VICTIM_APP.clientId, clientSecret: 'a guess' })
      .expect(422);
    expect(guessed.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(guessed.body.errors).toEqual([{ path: 'clientSecret', message: expect.stringMatching(/AADSTS7000215|invalid_client/) }]);
    await attacker.get('/api/directory/connection').expect(404);
    await victim
      .put('/api/directory/connection')
      .send({ entraTenantId: victimEntra.id, ...VICTIM_APP })
      .expect(201);
  });

  it('belong to one Lifeboat tenant: a second is refused with 409, and tokens of that Entra tenant map to the first', async () => {
    const second = await attacker
      .put('/api/directory/connection')
      .send({ entraTenantId: victimEntra.id, ...CONSENTED_APP })
      .expect(409);
    expect(second.headers['content-type']).toMatch(/application\/problem\+json/);
    await attacker.get('/api/directory/connection').expect(404);
    expect(await ctx.services.entra.connections.tenantOfEntraTenant(victimEntra.id)).toBe('alpha');

    // The attacker's own Entra tenant is theirs; moving the stored credential to the victim's is refused.
    await attacker
      .put('/api/directory/connection')
      .send({ entraTenantId: attackerEntra.id, ...CONSENTED_APP })
      .expect(201);
    const moved = await attacker.put('/api/directory/connection').send({ entraTenantId: victimEntra.id, clientId: CONSENTED_APP.clientId }).expect(422);
    expect(moved.body.errors.map((e: { path: string }) => e.path)).toEqual(['clientSecret']);
    const reentered = await attacker
      .put('/api/directory/connection')
      .send({ entraTenantId: victimEntra.id, ...CONSENTED_APP })
      .expect(409);
    expect(reentered.body.status).toBe(409);
    expect(await ctx.services.entra.connections.tenantOfEntraTenant(attackerEntra.id)).toBe('beta');
    expect(await ctx.services.entra.connections.tenantOfEntraTenant(victimEntra.id)).toBe('alpha');
  });

  it('are free again once disconnected', async () => {
    await victim.delete('/api/directory/connection').expect(204);
    expect(await ctx.services.entra.connections.tenantOfEntraTenant(victimEntra.id)).toBeNull();
    await victim
      .put('/api/directory/connection')
      .send({ entraTenantId: victimEntra.id, ...VICTIM_APP })
      .expect(201);
    expect(await ctx.services.entra.connections.tenantOfEntraTenant(victimEntra.id)).toBe('alpha');
  });
});
