/** Contract of the web continuity inbox's own API (search, people, end-user access: server/inbox/, server/mail/routes.ts). */
import { z } from 'zod';
import { endUserAccessBody } from '../../inbox/access-routes';
import { entraStartQuery, signInOptionsQuery } from '../../inbox/entra-routes';
import { peopleQuery } from '../../inbox/people-routes';
import { searchQuery } from '../../mail/routes';
import type { Contract } from './contract';

const Access = z.object({ groupIds: z.array(z.string()).nullable() }).meta({ id: 'EndUserAccess' });
const Person = z.object({ name: z.string(), address: z.string(), kind: z.enum(['user', 'group']) });
const SearchPage = z.object({ items: z.array(z.object({ id: z.string() }).loose()), nextCursor: z.string().nullable() }).loose();

const SignInOptions = z
  .object({ microsoft: z.boolean(), reason: z.string().nullable().describe('Why Microsoft sign-in is not offered, in words for the user') })
  .meta({ id: 'InboxSignInOptions' });
const InboxSession = z.object({ token: z.string(), expiresAt: z.string(), email: z.string() }).meta({ id: 'InboxSession' });

export function registerContinuityInbox(c: Contract): void {
  c.operation({
    method: 'get',
    path: '/api/inbox/sign-in-options',
    summary: 'Whether the inbox sign-in page offers “Sign in with Microsoft” for this address (a connection exists and Entra answers), or why not',
    access: 'public',
    query: signInOptionsQuery,
    ok: { status: 200, schema: SignInOptions },
  });
  c.operation({
    method: 'get',
    path: '/auth/entra/start',
    summary: 'Starts a Microsoft sign-in for the inbox: redirects to Entra’s authorize endpoint (state, nonce, PKCE in a sealed HttpOnly cookie)',
    access: 'public',
    query: entraStartQuery,
    // A person's browser is here: what goes wrong is an HTML page that says what to do (404 unknown address,
    // 409 no Entra connection, 503 Entra not answering), not problem+json.
    ok: { status: 302, description: 'To the Entra authorize endpoint of the tenant’s connection (or an HTML page saying why not)' },
    errorPages: [404, 409, 503],
  });
  c.operation({
    method: 'get',
    path: '/auth/entra/callback',
    summary: 'Entra’s answer (the redirect URI to register): signed in → back to the inbox; otherwise an HTML page saying what to do',
    access: 'public',
    // Refusals (expired, state mismatch, code used, cancelled, another organisation, not in the directory,
    // Entra refused) are HTML pages with 400/403/502 that say what to do.
    ok: { status: 303, description: 'Signed in: to the inbox, with a one-time hand-over cookie (or an HTML page saying what went wrong)' },
    errorPages: [400, 403, 502],
  });
  c.operation({
    method: 'post',
    path: '/api/inbox/entra-session',
    summary: 'The inbox takes the Lifeboat token of a finished Microsoft sign-in from its hand-over cookie (once)',
    access: 'public',
    ok: { status: 200, schema: InboxSession },
    errors: [404],
  });
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
