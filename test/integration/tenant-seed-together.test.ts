/**
 * Nodes started together on an empty database each seed the same tenants from the directory file: the
 * inserts race (FerretDB answers the losing upsert with a duplicate key), and no node may fail to start.
 */
import { useLifeboat } from '../harness/context';

const ctx = useLifeboat();

test('the same new tenant written by several nodes at once is stored once, with no error', async () => {
  for (let round = 0; round < 5; round++) {
    const id = `together-${round}`;
    const tenant = { id, name: `Together ${round}`, domains: [`Together${round}.test`] };
    await Promise.all(Array.from({ length: 6 }, () => ctx.services.tenants.upsert(tenant)));
    expect(await ctx.services.tenants.get(id)).toEqual({ id, name: `Together ${round}`, domains: [`together${round}.test`], entraTenantId: null });
  }
});
