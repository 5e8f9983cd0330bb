/** Contract of continuity mail: the tenant's mail settings and queue (admins), the user's mailbox and sending (server/mail/). */
import { z } from 'zod';
import { listQuery, sendBody, settingsBody } from '../../mail/routes';
import { QUEUE_STATES } from '../../mail/admin-queue';
import { queueQuery } from '../../mail/admin-queue-routes';
import type { Contract } from './contract';

const Server = z.object({ host: z.string(), port: z.number().int() });
const MailSettings = z
  .object({ primaryServers: z.array(Server), relay: Server.nullable(), retentionDays: z.number().int(), verifyTls: z.boolean() })
  .loose()
  .meta({ id: 'MailSettings' });
const MailStatus = z
  .object({
    queued: z.number().int(),
    deferred: z.number().int(),
    held: z.number().int(),
    delivered: z.number().int(),
    failed: z.number().int(),
    release: z.object({ state: z.string(), startedAt: z.string(), finishedAt: z.string().nullable() }).loose().nullable(),
  })
  .loose();
const VERDICT = z.enum(['clean', 'spam', 'phishing', 'malware', 'spoof', 'impersonation', 'unscanned']).nullable();
const AUTH_RESULT = z.string().meta({ description: 'pass, fail, softfail, neutral, none, temperror, permerror or policy' });
/** Protection's word on one inbound copy (server/mail/protect.ts); null when not judged (sent mail, older mail). */
const Security = z
  .object({
    verdict: VERDICT.meta({ description: 'null: the recipient’s policy is Disabled (not judged)' }),
    action: z.enum(['deliver', 'tag']).meta({ description: 'tag: delivered with a warning (subject prefix, marks)' }),
    policyId: z.string().nullable(),
    auth: z.object({ spf: AUTH_RESULT, dkim: AUTH_RESULT, dmarc: AUTH_RESULT, arc: AUTH_RESULT }).nullable(),
    score: z.number().nullable().meta({ description: 'the rspamd score, null when rspamd did not answer' }),
    reasons: z.array(z.string()),
    releasedBy: z.string().optional().meta({ description: 'set on a copy released from the quarantine' }),
  })
  .nullable()
  .meta({ id: 'MessageSecurity' });
const MessageSummary = z
  .object({
    id: z.string(),
    folder: z.enum(['inbox', 'sent']),
    from: z.string(),
    to: z.array(z.string()),
    cc: z.array(z.string()),
    subject: z.string(),
    date: z.string().nullable(),
    receivedAt: z.string(),
    preview: z.string(),
    viaGroup: z.string().nullable(),
    hasAttachments: z.boolean(),
    security: z
      .object({ verdict: VERDICT, action: z.enum(['deliver', 'tag']) })
      .nullable()
      .optional(),
  })
  .loose()
  .meta({ id: 'MessageSummary' });
const Message = MessageSummary.extend({
  security: Security,
  html: z.string().nullable(),
  text: z.string(),
  /** The sender is outside the tenant (inbox messages; the pane shows an External mark). */
  external: z.boolean().optional(),
  attachments: z.array(z.object({ index: z.number().int(), filename: z.string(), contentType: z.string(), size: z.number() })),
  deliveries: z
    .array(
      z
        .object({
          recipient: z.string(),
          state: z.string(),
          attempts: z.number().int(),
          lastReply: z.string().nullable(),
          nextAttemptAt: z.string().nullable(),
        })
        .loose(),
    )
    .optional(),
}).meta({ id: 'Message' });
const Page = z.object({ items: z.array(MessageSummary), nextCursor: z.string().nullable() });

const QueueItem = z
  .object({
    id: z.string(),
    state: z.enum(QUEUE_STATES),
    kind: z.string(),
    recipient: z.string(),
    sender: z.string(),
    subject: z.string(),
    attempts: z.number().int(),
    lastReply: z.string().nullable(),
    nextAttemptAt: z.string().nullable(),
    queuedAt: z.string(),
    heldAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
  })
  .meta({ id: 'QueueItem' });

export function registerMail(c: Contract): void {
  c.operation({
    method: 'get',
    path: '/api/mail/settings',
    summary: 'Where continuity mail is delivered',
    access: 'reader',
    ok: { status: 200, schema: MailSettings },
  });
  c.operation({
    method: 'put',
    path: '/api/mail/settings',
    summary: 'Set the primary servers, relay and retention',
    access: 'basic',
    body: settingsBody,
    ok: { status: 200, schema: MailSettings },
  });
  c.operation({
    method: 'get',
    path: '/api/mail/status',
    summary: 'Queue, held and release figures',
    access: 'reader',
    ok: { status: 200, schema: MailStatus },
  });
  c.operation({
    method: 'get',
    path: '/api/me/mailbox',
    summary: 'The user’s continuity mailbox (newest first)',
    access: 'user',
    query: listQuery,
    ok: { status: 200, schema: Page },
  });
  c.operation({ method: 'get', path: '/api/me/mailbox/:id', summary: 'One message', access: 'user', ok: { status: 200, schema: Message } });
  c.operation({
    method: 'get',
    path: '/api/me/mailbox/:id/attachments/:index',
    summary: 'One attachment (as a download, typed by the sender)',
    access: 'user',
    params: { index: z.int().min(0).meta({ description: 'The attachment’s index in the message’s `attachments`' }) },
    ok: { status: 200, contentType: '*/*', schema: z.string().meta({ format: 'binary' }), description: 'The attachment’s bytes' },
  });
  c.operation({
    method: 'post',
    path: '/api/me/messages',
    summary: 'Send a message (idempotent with Idempotency-Key)',
    access: 'user',
    body: sendBody,
    ok: { status: 201, schema: Message },
    errors: [409],
  });
  c.operation({
    method: 'get',
    path: '/api/mail/queue',
    summary: 'The tenant’s outbound queue and held messages, filtered',
    access: 'reader',
    query: queueQuery,
    ok: { status: 200, schema: z.object({ items: z.array(QueueItem) }) },
  });
  c.operation({
    method: 'post',
    path: '/api/mail/queue/:id/retry',
    summary: 'Attempt a queued or deferred delivery now (409: it is held; release it)',
    access: 'basic',
    ok: { status: 204, description: 'Scheduled now' },
    errors: [409],
  });
  c.operation({
    method: 'post',
    path: '/api/mail/held/:id/release',
    summary: 'Release one held message to the queue now',
    access: 'basic',
    ok: { status: 204, description: 'Released' },
  });
}
