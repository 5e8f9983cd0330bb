/**
 * Mail for protection tests: a DKIM key whose public half the DNS stand-in publishes, real DKIM-signed
 * messages (mailauth's signer), and the DNS records of a sending domain (SPF for one IP, DMARC p=reject).
 */
import { generateKeyPairSync } from 'node:crypto';
import { dkimSign } from 'mailauth';

export interface DkimKey {
  domain: string;
  selector: string;
  privateKey: string;
  /** The TXT record name and value to publish. */
  record: [string, string];
}

export function dkimKey(domain: string, selector = 'lb1'): DkimKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const p = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  return {
    domain,
    selector,
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    record: [`${selector}._domainkey.${domain}`, `v=DKIM1; k=rsa; p=${p}`],
  };
}

/** SPF allowing `ip` only, DMARC p=reject, and the DKIM key: the records of a well-run sending domain. */
export function senderRecords(key: DkimKey, ip: string): Record<string, string[]> {
  return {
    [key.domain]: [`v=spf1 ip4:${ip} -all`],
    [`_dmarc.${key.domain}`]: ['v=DMARC1; p=reject'],
    [key.record[0]]: [key.record[1]],
  };
}

export interface PlainMessage {
  from: string;
  to: string;
  subject?: string;
  body?: string;
  extraHeaders?: string[];
  messageId?: string;
}

export function plainMessage(m: PlainMessage): Buffer {
  const lines = [
    `From: ${m.from}`,
    `To: ${m.to}`,
    `Subject: ${m.subject ?? 'Quarterly figures'}`,
    `Date: ${new Date().toUTCString()}`,
    `Message-ID: <${m.messageId ?? `${Math.random().toString(36).slice(2)}@lifeboat.test`}>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    ...(m.extraHeaders ?? []),
    '',
    m.body ?? 'Hello,\r\n\r\nthe figures are attached to the shared folder as discussed.\r\n\r\nRegards',
    '',
  ];
  return Buffer.from(lines.join('\r\n'));
}

/** The message with a DKIM-Signature made with `key` prepended. */
export async function signed(raw: Buffer, key: DkimKey): Promise<Buffer> {
  const signature = { signingDomain: key.domain, selector: key.selector, privateKey: key.privateKey };
  const result = await dkimSign(raw, { ...signature, signatureData: [signature] });
  if (!result.signatures) throw new Error(`DKIM signing failed: ${JSON.stringify(result.errors)}`);
  return Buffer.concat([Buffer.from(result.signatures), raw]);
}

/** The GTUBE test string: every spam filter scores a message carrying it as spam. */
export const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';
/** The EICAR anti-virus test file. */
export const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
