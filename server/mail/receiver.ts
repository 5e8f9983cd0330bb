/**
 * The inbound SMTP receiver. Accepted domains only (550 5.7.1 otherwise: never an open relay),
 * known recipients only (550 5.1.1), a size limit (552), STARTTLS when a certificate is configured,
 * no AUTH. It answers 250 only after the raw message and its metadata are stored in the database.
 */
import type { Logger } from 'pino';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import type { StoredRecipient } from './model';
import type { MailService } from './service';

export const DEFAULT_MAX_MESSAGE_BYTES = 35 * 1024 * 1024;

export interface ReceiverOptions {
  mail: Pick<MailService, 'checkRecipient' | 'accept'>;
  logger: Logger;
  hostname?: string;
  maxMessageBytes?: number;
  tls?: { key: Buffer | string; cert: Buffer | string } | null;
}

function smtpError(code: number, message: string): Error {
  const err = new Error(message) as Error & { responseCode: number };
  err.responseCode = code;
  return err;
}

interface Transaction {
  tenantId: string | null;
  recipients: StoredRecipient[];
}

export function createReceiver(options: ReceiverOptions) {
  const { mail, logger } = options;
  const maxBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const transactions = new WeakMap<SMTPServerSession, Transaction>();
  const tx = (session: SMTPServerSession): Transaction => {
    let t = transactions.get(session);
    if (!t) transactions.set(session, (t = { tenantId: null, recipients: [] }));
    return t;
  };

  const server = new SMTPServer({
    name: options.hostname ?? 'lifeboat.local',
    banner: 'Lifeboat continuity mail receiver',
    size: maxBytes,
    // On shutdown, give open sessions 5 s to finish; a cut one was never answered 250, so the sender retries.
    closeTimeout: 5000,
    logger: false,
    disabledCommands: options.tls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
    authOptional: true,
    ...(options.tls ? { key: options.tls.key, cert: options.tls.cert } : {}),
    onMailFrom(_address, session, callback) {
      transactions.set(session, { tenantId: null, recipients: [] });
      callback();
    },
    onRcptTo(address, session, callback) {
      mail
        .checkRecipient(address.address)
        .then((check) => {
          if (!check.ok) return callback(smtpError(check.code, check.message));
          const t = tx(session);
          if (t.tenantId && t.tenantId !== check.tenantId) {
            // One organisation per message: the sender retries this recipient in a new transaction.
            return callback(smtpError(452, '4.5.3 Too many recipient organisations; send again for this recipient'));
          }
          t.tenantId = check.tenantId;
          if (!t.recipients.some((r) => r.address === check.recipient.address)) t.recipients.push(check.recipient);
          callback();
        })
        .catch((err) => {
          logger.warn({ err }, 'recipient check failed');
          callback(smtpError(451, '4.3.0 Temporary failure; try again later'));
        });
    },
    onData(stream, session, callback) {
      const parts: Buffer[] = [];
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= maxBytes) parts.push(chunk);
      });
      stream.on('error', (err) => callback(err));
      stream.on('end', () => {
        if ((stream as unknown as { sizeExceeded?: boolean }).sizeExceeded || size > maxBytes) {
          return callback(smtpError(552, `5.3.4 Message too big (limit ${maxBytes} bytes)`));
        }
        const t = tx(session);
        if (!t.tenantId || !t.recipients.length) return callback(smtpError(503, '5.5.1 No valid recipients'));
        mail
          .accept({
            tenantId: t.tenantId,
            mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            recipients: t.recipients,
            raw: Buffer.concat(parts),
            remoteAddress: session.remoteAddress ?? null,
            helo: session.hostNameAppearsAs ?? null,
          })
          .then((id) => {
            // One line per accepted message; no addresses at info (they are personal data).
            logger.info({ messageId: id, tenant: t.tenantId, size, recipients: t.recipients.length }, 'message accepted');
            callback(null, `2.0.0 Ok: queued as ${id}`);
          })
          .catch((err) => {
            logger.error({ err }, 'storing a received message failed; answered 451');
            callback(smtpError(451, '4.3.0 Temporary failure storing the message; try again later'));
          });
      });
    },
  });
  server.on('error', (err) => logger.warn({ err }, 'SMTP receiver error'));

  return {
    server,
    listen(port: number, host?: string): Promise<number> {
      return new Promise((resolve, reject) => {
        server.server.once('error', reject);
        server.listen(port, host, () => {
          server.server.off('error', reject);
          const a = server.server.address();
          resolve(typeof a === 'object' && a ? a.port : port);
        });
      });
    },
    close(): Promise<void> {
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
