import { Router } from 'express';
import { z } from 'zod';
import { requestContext } from '../auth/identity';
import { currentAdmin, requireAdmin } from '../auth/middleware';
import type { AuthService } from '../auth/service';
import { isHostName, MAX_RECIPIENT_LENGTH, RECIPIENT_ADDRESS } from '../http/addresses';
import { parseBody, parseQuery } from '../http/validate';
import { requireUser } from '../user-auth/middleware';
import { currentUser } from '../user-auth/identity';
import type { UserAuthService } from '../user-auth/service';
import type { MailService } from './service';

// A host name, an IPv4 address or an IPv6 literal (the shared host grammar).
const server = z.object({
  host: z.string().refine((h) => isHostName(h), 'must be a host name or IP address'),
  port: z.number().int().min(1).max(65535).default(25),
});
export const settingsBody = z.object({
  primaryServers: z.array(server).max(10),
  relay: server.nullable(),
  retentionDays: z.number().int().min(1).max(30).default(5),
  /** false: do not verify the servers' TLS certificates (an internal relay with its own CA); omitted: unchanged. */
  verifyTls: z.boolean().optional(),
});

// A plain address (the shared recipient grammar): no display names, no CR/LF or angle brackets (header
// injection), one @, none of the characters a To: header would split or quote on; its domain a host name.
const address = z.string().trim().max(MAX_RECIPIENT_LENGTH).regex(RECIPIENT_ADDRESS, 'must be an email address');
const noNewline = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => !/[\r\n\0]/.test(s), 'must not contain line breaks');
export const sendBody = z
  .object({
    to: z.array(address).max(500).default([]),
    cc: z.array(address).max(500).default([]),
    bcc: z.array(address).max(500).default([]),
    subject: noNewline(998).default(''),
    html: z.string().max(5_000_000).default(''),
    attachments: z
      .array(
        z.object({
          filename: noNewline(255).pipe(z.string().min(1)),
          contentType: z
            .string()
            .regex(/^[\w.+-]+\/[\w.+-]+$/, 'must be a MIME type')
            .default('application/octet-stream'),
          contentBase64: z.string().regex(/^[A-Za-z0-9+/=\s]*$/, 'must be base64'),
        }),
      )
      .max(50)
      .default([]),
    idempotencyKey: z
      .string()
      .regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be 1-128 letters, digits or ._:-')
      .optional(),
    // A reply names the message it answers by its mailbox id; the server reads that message's own
    // Message-ID and References from the user's mailbox (never header text from the client).
    inReplyTo: z
      .string()
      .regex(/^(inbox|sent):[A-Za-z0-9._-]{1,80}$/, 'must be the id of a message in your mailbox')
      .optional(),
  })
  .refine((b) => b.to.length + b.cc.length + b.bcc.length > 0, { path: ['to'], message: 'at least one recipient is needed' });

export const searchQuery = z.object({
  q: z.string().trim().min(2, 'type at least 2 characters').max(200),
  cursor: z.string().max(512).optional(),
});
export const listQuery = z.object({ folder: z.enum(['inbox', 'sent']).default('inbox'), cursor: z.string().max(512).optional() });

export function mailRoutes(deps: { auth: AuthService; userAuth: UserAuthService; mail: MailService }): Router {
  const { auth, userAuth, mail } = deps;
  const router = Router();
  const reader = requireAdmin(auth);
  const writer = requireAdmin(auth, 'basicAdministrator');
  const user = requireUser(userAuth);

  router.get('/api/mail/settings', reader, async (req, res) => {
    res.json(await mail.getSettings(currentAdmin(req).tenantId));
  });
  router.put('/api/mail/settings', writer, async (req, res) => {
    const body = parseBody(settingsBody, req);
    res.json(await mail.putSettings(currentAdmin(req), body, requestContext(req)));
  });
  router.get('/api/mail/status', reader, async (req, res) => {
    res.json(await mail.status(currentAdmin(req).tenantId));
  });

  router.get('/api/me/mailbox', user, async (req, res) => {
    const q = parseQuery(listQuery, req);
    res.json(await mail.list(currentUser(req), q.folder, q.cursor));
  });
  router.get('/api/me/search', user, async (req, res) => {
    const q = parseQuery(searchQuery, req);
    res.json(await mail.search(currentUser(req), q.q, q.cursor));
  });
  router.get('/api/me/mailbox/:id', user, async (req, res) => {
    res.json(await mail.read(currentUser(req), String(req.params.id)));
  });
  router.get('/api/me/mailbox/:id/attachments/:index', user, async (req, res) => {
    const index = Number(req.params.index);
    const a = await mail.attachment(currentUser(req), String(req.params.id), Number.isInteger(index) && index >= 0 ? index : -1);
    res.setHeader('Content-Type', a.contentType);
    res.setHeader('Content-Disposition', `attachment; filename*=UTF-8''${encodeURIComponent(a.filename)}`);
    res.setHeader('Content-Security-Policy', "default-src 'none'; sandbox");
    res.send(a.content);
  });
  router.post('/api/me/messages', user, async (req, res) => {
    const body = parseBody(sendBody, req);
    const key = req.headers['idempotency-key'];
    const headerKey = typeof key === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(key) ? key : undefined;
    res.status(201).json(await mail.send(currentUser(req), { ...body, idempotencyKey: body.idempotencyKey ?? headerKey }));
  });
  return router;
}
