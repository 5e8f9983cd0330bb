import { generateTenant, prng, StandInWorld } from './test/stand-ins/entra';
import { DirectoryModel } from './server/directory/graph/directory-model';
import { mailAddresses } from './server/directory/graph/store';
const world = new StandInWorld();
const tenant = world.addTenant();
generateTenant(tenant, { users: 100000, groups: 5000, depth: 5 });
const model = new DirectoryModel();
model.apply({ users: [...tenant.users.values()].map((u) => ({ id: u.id, displayName: u.displayName, mail: u.mail, addresses: mailAddresses(u.mail, u.proxyAddresses) })) });
model.apply({ groups: [...tenant.groups.values()].map((g) => ({ id: g.id, props: { displayName: g.displayName, mail: g.mail, groupTypes: g.groupTypes, mailEnabled: g.mailEnabled, securityEnabled: g.securityEnabled, membershipRule: null }, addUsers: [...g.members].filter((m) => tenant.users.has(m)), addGroups: [...g.members].filter((m) => tenant.groups.has(m)) })) });
const random = prng(7);
const groupIds = [...tenant.groups.keys()];
const userIds = [...tenant.users.keys()];
const changed = new Set<string>();
for (let i = 0; i < 100; i++) {
  const g = model.groups.get(groupIds[Math.floor(random() * groupIds.length)])!;
  changed.add(groupIds[Math.floor(random() * groupIds.length)]);
}
for (let r = 0; r < 3; r++) {
  let t = performance.now();
  const affected = model.affectedGroups({ groupIds: changed, userIds: [] });
  console.log('affected', affected.size, Math.round(performance.now() - t));
  t = performance.now();
  let total = 0; const sizes: number[] = [];
  for (const id of affected) { const u = [...model.transitiveUsers(id)].sort(); total += u.length; sizes.push(u.length); const a = u.flatMap((x) => model.users.get(x)!.addresses); }
  sizes.sort((a, b) => b - a);
  console.log('expand', Math.round(performance.now() - t), 'members', total, 'largest', sizes.slice(0, 8).join(' '));
}
let all = 0; const big: number[] = [];
for (const id of model.groups.keys()) { const n = model.transitiveUsers(id).size; all += n; big.push(n); }
big.sort((a, b) => b - a);
console.log('all memberships', all, 'largest', big.slice(0, 10).join(' '));
