/** Contract of the web continuity inbox's own API (search, people, end-user access: server/inbox/, server/mail/routes.ts). */
import { z } from 'zod';
import { endUserAccessBody } from '../../inbox/access-routes';
import { peopleQuery } from '../../inbox/people-routes';
import { searchQuery } from '../../mail/routes';
import type { Contract } from './contract';

const Access = z.object({ groupIds: z.array(z.string()).nullable() }).meta({ id: 'EndUserAccess' });
const Person = z.object({ name: z.string(), address: z.string(), kind: z.enum(['user', 'group']) });
const SearchPage = z.object({ items: z.array(z.object({ id: z.string() }).loose()), nextCursor: z.string().nullable() }).loose();

export function registerContinuityInbox(c: Contract): void {
  c.operation({
    method: 'get',
    path: '/api/end-user-access',
    summary: 'Which groups may use the end-user mail tools (null: everyone)',
    access: 'reader',
    ok: { status: 200, schema: Access },
  });
  c.operation({
    method: 'put',
    path: '/api/end-user-access',
    summary: 'Set which groups may use the end-user mail tools',
    access: 'basic',
    body: endUserAccessBody,
    ok: { status: 200, schema: Access },
  });
  c.operation({
    method: 'get',
    path: '/api/me/search',
    summary: 'Search the user’s continuity mailbox (sender, recipients, subject, body text)',
    access: 'user',
    query: searchQuery,
    ok: { status: 200, schema: SearchPage },
    errors: [403],
  });
  c.operation({
    method: 'get',
    path: '/api/me/people',
    summary: 'Recipient suggestions from the directory (users and mail-enabled groups)',
    access: 'user',
    query: peopleQuery,
    ok: { status: 200, schema: z.object({ items: z.array(Person) }) },
    errors: [403],
  });
}
