/**
 * Sending as the signed-in user through the tenant's relay: the message is composed, stored and
 * routed at once (its Sent copy and queue rows exist when the call returns). An idempotency key
 * makes a retried send send once: the key is claimed by insert, a second claim reuses the first id.
 */
import { randomUUID } from 'node:crypto';
import MailComposer from 'nodemailer/lib/mail-composer';
import { claimByInsert } from '../db/claims';
import { normalizeAddress } from '../http/addresses';
import { unprocessable } from '../http/problem';
import type { UserIdentity } from '../user-auth/identity';
import type { RoutingJournal } from './journal';
import type { Mailbox } from './mailbox';
import { cleanHeader } from './message';
import type { MailModels } from './model';
import { messageKey, storeMessage } from './store';

export interface SendInput {
  to: string[];
  cc: string[];
  bcc: string[];
  subject: string;
  html: string;
  attachments: { filename: string; contentType: string; contentBase64: string }[];
  idempotencyKey?: string;
  inReplyTo?: string;
}

export function createSender(deps: {
  models: MailModels;
  journal: RoutingJournal;
  mailbox: Mailbox;
  route: (key: string) => Promise<void>;
  now: () => Date;
  /** DKIM-signs the composed message by the sender's domain (outbound-auth.ts); absent: unsigned. */
  sign?: (tenantId: string, from: string, raw: Buffer) => Promise<Buffer>;
}) {
  const { models, journal, mailbox, route, now } = deps;

  /** The message id of this send: a new one, or the one the first send with the same key claimed. */
  async function messageIdFor(user: UserIdentity, idempotencyKey: string | undefined): Promise<string> {
    const messageId = randomUUID();
    if (!idempotencyKey) return messageId;
    const sendKey = `${user.tenantId}:${user.userId}:${idempotencyKey}`;
    const existing = await models.sendKeys.findById(sendKey).lean();
    if (existing) return existing.messageId;
    if (await claimByInsert(models.sendKeys, { _id: sendKey, messageId, createdAt: now() })) return messageId;
    return (await models.sendKeys.findById(sendKey).lean())!.messageId;
  }

  return async function send(user: UserIdentity, input: SendInput) {
    if (!user.email) throw unprocessable([{ path: '(user)', message: 'your directory entry has no mail address to send from' }]);
    const thread = input.inReplyTo ? await mailbox.threadOf(user, input.inReplyTo) : {};
    const messageId = await messageIdFor(user, input.idempotencyKey);
    const key = messageKey(user.tenantId, messageId);
    const stored = await models.messages.findById(key, { routed: 1 }).lean();
    if (!stored) {
      const from = { name: cleanHeader(user.displayName), address: user.email };
      const composed = await new MailComposer({
        from,
        to: input.to,
        cc: input.cc,
        bcc: input.bcc,
        subject: cleanHeader(input.subject),
        html: input.html,
        messageId: `<${messageId}@${user.email.split('@')[1]}>`,
        ...thread,
        attachments: input.attachments.map((a) => ({
          filename: cleanHeader(a.filename),
          contentType: cleanHeader(a.contentType),
          content: Buffer.from(a.contentBase64, 'base64'),
        })),
        disableFileAccess: true,
        disableUrlAccess: true,
      })
        .compile()
        .build();
      // Signed before it is stored: the Sent copy and every delivery carry the same signature.
      const raw = deps.sign ? await deps.sign(user.tenantId, user.email, composed) : composed;
      const all = [...new Set([...input.to, ...input.cc, ...input.bcc].map(normalizeAddress))];
      await storeMessage(
        models,
        {
          tenantId: user.tenantId,
          messageId,
          direction: 'outbound',
          mailFrom: user.email,
          recipients: all.map((address) => ({ address, kind: 'user', id: '' })),
          raw,
          userId: user.userId,
          receivedAt: now(),
        },
        journal,
      );
    }
    await route(key);
    return mailbox.read(user, `sent:${messageId}`);
  };
}
