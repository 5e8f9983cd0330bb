/**
 * `GET /api/me/people?q=`: recipients for the compose form's autocomplete, from the tenant's directory
 * (users and mail-enabled groups that have an address). Signed-in users only, their own tenant only.
 */
import { Router } from 'express';
import { z } from 'zod';
import type { DirectoryService } from '../directory/service';
import { parseQuery } from '../http/validate';
import { requireUser } from '../user-auth/middleware';
import { currentUser } from '../user-auth/identity';
import type { UserAuthService } from '../user-auth/service';

const LIMIT = 8;
export const peopleQuery = z.object({ q: z.string().trim().min(1, 'type at least 1 character').max(100) });

export interface Person {
  name: string;
  address: string;
  kind: 'user' | 'group';
}

export function peopleRoutes(deps: { userAuth: UserAuthService; directory: DirectoryService }): Router {
  const router = Router();
  router.get('/api/me/people', requireUser(deps.userAuth), async (req, res) => {
    const { q } = parseQuery(peopleQuery, req);
    const { tenantId } = currentUser(req);
    const [users, groups] = await Promise.all([deps.directory.searchUsers(tenantId, q), deps.directory.searchGroups(tenantId, q)]);
    const people: Person[] = [
      ...users.filter((u) => u.mail).map((u) => ({ name: u.displayName, address: u.mail!, kind: 'user' as const })),
      ...groups.filter((g) => g.mail).map((g) => ({ name: g.displayName, address: g.mail!, kind: 'group' as const })),
    ];
    // Names that start with what was typed first, then the rest, each alphabetically.
    const lower = q.toLowerCase();
    const starts = (p: Person) => (p.name.toLowerCase().startsWith(lower) || p.address.toLowerCase().startsWith(lower) ? 0 : 1);
    people.sort((a, b) => starts(a) - starts(b) || a.name.localeCompare(b.name));
    res.json({ items: people.slice(0, LIMIT) });
  });
  return router;
}
