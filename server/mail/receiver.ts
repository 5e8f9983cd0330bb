/**
 * The inbound SMTP receiver. Accepted domains only (550 5.7.1 otherwise: never an open relay),
 * known recipients only (550 5.1.1), a size limit (552), STARTTLS when a certificate is configured,
 * no AUTH. It answers 250 only after the raw message and its metadata are stored in the database.
 * Every accepted message gets a `Received:` header, and one that already carries too many is refused
 * (554 5.4.6: a mail loop); connections are capped in total, per client address and in messages
 * (421 4.7.0), so one client cannot hold every slot.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import type { StoredRecipient } from './model';
import type { MailService } from './service';
import { countReceived, DEFAULT_MAX_RECEIVED_HEADERS, receivedHeader } from './trace';

export const DEFAULT_MAX_MESSAGE_BYTES = 35 * 1024 * 1024;

/** Connection caps (config.ts: SMTP_MAX_CONNECTIONS, SMTP_MAX_CONNECTIONS_PER_CLIENT, SMTP_MAX_MESSAGES_PER_CONNECTION). */
export interface ReceiverLimits {
  /** Open connections in total. */
  connections: number;
  /** Open connections from one client address. */
  connectionsPerAddress: number;
  /** Messages (MAIL FROM transactions) in one connection; the client reconnects for more. */
  messagesPerConnection: number;
}
export const DEFAULT_RECEIVER_LIMITS: ReceiverLimits = { connections: 500, connectionsPerAddress: 50, messagesPerConnection: 1000 };

export interface ReceiverOptions {
  mail: Pick<MailService, 'checkRecipient' | 'accept'> & Partial<Pick<MailService, 'listeningAt'>>;
  logger: Logger;
  hostname?: string;
  maxMessageBytes?: number;
  /** Received headers a message may carry already (default 30); more is a loop (554 5.4.6). */
  maxReceivedHeaders?: number;
  limits?: Partial<ReceiverLimits>;
  /**
   * Asked at end of DATA, before the 250 (protection's refuseAtData): a reply text refuses the message
   * with 550 (a DMARC p=reject failure the recipients' policy rejects); null accepts it.
   */
  refuseAtData?: (message: { tenantId: string; mailFrom: string; recipients: string[]; raw: Buffer; clientIp: string; helo: string }) => Promise<string | null>;
  tls?: { key: Buffer | string; cert: Buffer | string } | null;
}

const TOO_BUSY = '4.7.0 Too many connections; try again later';

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
  const maxReceived = options.maxReceivedHeaders ?? DEFAULT_MAX_RECEIVED_HEADERS;
  const hostname = options.hostname ?? 'lifeboat.local';
  const limits: ReceiverLimits = { ...DEFAULT_RECEIVER_LIMITS, ...options.limits };
  // Open connections counted against the caps (by smtp-server's connection id), and per client address.
  const open = new Map<string, string>();
  const perAddress = new Map<string, number>();
  const messagesIn = new WeakMap<SMTPServerSession, number>();
  const transactions = new WeakMap<SMTPServerSession, Transaction>();
  const tx = (session: SMTPServerSession): Transaction => {
    let t = transactions.get(session);
    if (!t) transactions.set(session, (t = { tenantId: null, recipients: [] }));
    return t;
  };

  const server = new SMTPServer({
    name: hostname,
    banner: 'Lifeboat continuity mail receiver',
    size: maxBytes,
    // On shutdown, give open sessions 5 s to finish; a cut one was never answered 250, so the sender retries.
    closeTimeout: 5000,
    logger: false,
    disabledCommands: options.tls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
    authOptional: true,
    ...(options.tls ? { key: options.tls.key, cert: options.tls.cert } : {}),
    onConnect(session, callback) {
      const address = session.remoteAddress ?? '';
      const fromThere = perAddress.get(address) ?? 0;
      if (open.size >= limits.connections || fromThere >= limits.connectionsPerAddress) {
        logger.warn({ remoteAddress: address, open: open.size, fromThere }, 'SMTP connection refused: over the connection caps');
        return callback(smtpError(421, TOO_BUSY));
      }
      open.set(session.id, address);
      perAddress.set(address, fromThere + 1);
      callback();
    },
    onClose(session) {
      const address = open.get(session.id);
      if (address === undefined) return;
      open.delete(session.id);
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left > 0) perAddress.set(address, left);
      else perAddress.delete(address);
    },
    onMailFrom(_address, session, callback) {
      const count = (messagesIn.get(session) ?? 0) + 1;
      // 421 closes the connection (smtp-server): the client sends the rest over a new one.
      if (count > limits.messagesPerConnection) return callback(smtpError(421, '4.7.0 Too many messages in this connection; reconnect to send more'));
      messagesIn.set(session, count);
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
        const body = Buffer.concat(parts);
        const hops = countReceived(body);
        if (hops > maxReceived) {
          logger.warn({ tenant: t.tenantId, hops }, 'message refused: too many Received headers (a mail loop)');
          return callback(smtpError(554, `5.4.6 Too many hops (${hops} Received headers; limit ${maxReceived}): a mail loop`));
        }
        const tenantId = t.tenantId;
        const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        void refusal({
          tenantId,
          mailFrom,
          recipients: t.recipients.map((r) => r.address),
          raw: body,
          clientIp: session.remoteAddress ?? '',
          helo: session.hostNameAppearsAs || '',
        })
          .then((refused) => {
            if (refused) return callback(smtpError(550, refused));
            store(session, { tenantId, recipients: t.recipients }, mailFrom, body, size, callback);
          })
          .catch((err) => {
            logger.error({ err }, 'accepting a received message failed; answered 451');
            callback(smtpError(451, '4.3.0 Temporary failure storing the message; try again later'));
          });
      });
    },
  });
  server.on('error', (err) => logger.warn({ err }, 'SMTP receiver error'));

  /** Stores an accepted message with its Received header; the callback answers 250 once it is durable. */
  function store(
    session: SMTPServerSession,
    t: { tenantId: string; recipients: StoredRecipient[] },
    mailFrom: string,
    body: Buffer,
    size: number,
    callback: (err?: Error | null, message?: string) => void,
  ): void {
    const messageId = randomUUID();
    const trace = receivedHeader({
      helo: session.hostNameAppearsAs,
      remoteAddress: session.remoteAddress,
      hostname,
      protocol: session.transmissionType,
      id: messageId,
      recipients: session.envelope.rcptTo.map((r) => r.address),
      date: new Date(),
    });
    mail
      .accept({
        tenantId: t.tenantId,
        messageId,
        mailFrom,
        recipients: t.recipients,
        raw: Buffer.concat([Buffer.from(trace, 'latin1'), body]),
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
  }

  /** The end-of-DATA check; its failure accepts (the message is judged after the 250 anyway). */
  async function refusal(message: Parameters<NonNullable<ReceiverOptions['refuseAtData']>>[0]): Promise<string | null> {
    if (!options.refuseAtData) return null;
    return options.refuseAtData(message).catch((err) => {
      logger.warn({ err }, 'the end-of-DATA check failed; accepting');
      return null;
    });
  }

  return {
    server,
    listen(port: number, host?: string): Promise<number> {
      return new Promise((resolve, reject) => {
        server.server.once('error', reject);
        server.listen(port, host, () => {
          server.server.off('error', reject);
          const a = server.server.address();
          const bound = typeof a === 'object' && a ? a.port : port;
          // Mail settings refuse a primary server or relay that is this listener (a loop).
          mail.listeningAt?.({ host: host ?? null, port: bound });
          resolve(bound);
        });
      });
    },
    close(): Promise<void> {
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
