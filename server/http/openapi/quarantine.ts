/** Contract of the quarantine: admins review, release and delete held messages; users see theirs and ask for a release (server/protection/quarantine-routes.ts). */
import { z } from 'zod';
import { mineQuery, quarantineQuery, releaseBody, releaseRequestBody } from '../../protection/quarantine-routes';
import { VERDICTS } from '../../protection/verdict';
import type { Contract } from './contract';

const Entry = z
  .object({
    id: z.string(),
    messageId: z.string(),
    recipient: z.string(),
    mailFrom: z.string(),
    from: z.string(),
    subject: z.string(),
    verdict: z.enum(VERDICTS),
    reasons: z.array(z.string()),
    policyId: z.string(),
    at: z.string(),
    status: z.enum(['held', 'released', 'deleted']),
    releaseRequests: z.array(z.object({ userId: z.string(), email: z.string().nullable(), reason: z.string(), at: z.string() })),
    decidedAt: z.string().nullable(),
    decidedBy: z.string().nullable(),
    decisionReason: z.string().nullable(),
  })
  .meta({ id: 'QuarantineEntry' });
const Page = z.object({ items: z.array(Entry), nextCursor: z.string().nullable() });
const Preview = z
  .object({
    subject: z.string(),
    from: z.string(),
    to: z.string(),
    date: z.string().nullable(),
    headers: z.array(z.object({ name: z.string(), value: z.string() })),
    text: z.string(),
    html: z.string().nullable(),
    attachments: z.array(z.object({ filename: z.string(), contentType: z.string(), size: z.number() })),
  })
  .loose();
const Detail = Entry.extend({ evidence: z.object({}).loose().nullable(), preview: Preview.nullable() });
const Rescan = z.object({ verdict: z.enum(VERDICTS), reasons: z.array(z.string()) }).loose();

export function registerQuarantine(c: Contract): void {
  c.operation({
    method: 'get',
    path: '/api/quarantine',
    summary: 'Quarantined messages (newest first, keyset pages)',
    access: 'reader',
    query: quarantineQuery,
    ok: { status: 200, schema: Page },
  });
  c.operation({
    method: 'get',
    path: '/api/quarantine/:id',
    summary: 'One quarantined message with the verdict’s evidence and a preview',
    access: 'reader',
    ok: { status: 200, schema: Detail },
  });
  c.operation({
    method: 'post',
    path: '/api/quarantine/:id/release',
    summary:
      'Rescan and deliver a quarantined message; one continuous protection holds in a mailbox is moved back to its folder (409: already released, gone, or still malware without force; 410: the user deleted it from the mailbox; force needs fullAdministrator)',
    access: 'basic',
    body: releaseBody,
    ok: { status: 200, schema: Entry.extend({ rescan: Rescan }) },
    errors: [409, 410, 503],
  });
  c.operation({
    method: 'delete',
    path: '/api/quarantine/:id',
    summary: 'Delete a quarantined message',
    access: 'basic',
    ok: { status: 204, description: 'Deleted' },
  });
  c.operation({
    method: 'get',
    path: '/api/me/quarantine',
    summary: 'The user’s own held messages',
    access: 'user',
    query: mineQuery,
    ok: { status: 200, schema: Page },
  });
  c.operation({
    method: 'post',
    path: '/api/me/quarantine/:id/release-request',
    summary: 'Ask an administrator to release one of one’s held messages',
    access: 'user',
    body: releaseRequestBody,
    ok: { status: 200, schema: Entry },
    errors: [409],
  });
}
