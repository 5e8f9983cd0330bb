/**
 * Mail for protection tests: a DKIM key whose public half the DNS stand-in publishes, real DKIM-signed
 * messages (mailauth's signer), and the DNS records of a sending domain (SPF for one IP, DMARC p=reject).
 */
import { generateKeyPairSync } from 'node:crypto';
import { crc32 } from 'node:zlib';
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

/** A zip archive holding `files` uncompressed (method 0: "stored"), as a mail attachment would carry it. */
export function zip(files: Record<string, Buffer>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of Object.entries(files)) {
    const fileName = Buffer.from(name);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(fileName.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(fileName.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, fileName, data);
    centrals.push(central, fileName);
    offset += local.length + fileName.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(files).length, 8);
  end.writeUInt16LE(Object.keys(files).length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/** A message with one base64 attachment. */
export function withAttachment(m: PlainMessage, attachment: { filename: string; contentType: string; content: Buffer }): Buffer {
  const boundary = 'lifeboat-boundary-1';
  const body = [
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    m.body ?? 'Please see the attached file.',
    `--${boundary}`,
    `Content-Type: ${attachment.contentType}; name="${attachment.filename}"`,
    'Content-Transfer-Encoding: base64',
    `Content-Disposition: attachment; filename="${attachment.filename}"`,
    '',
    (attachment.content.toString('base64').match(/.{1,76}/g) ?? []).join('\r\n'),
    `--${boundary}--`,
  ].join('\r\n');
  const raw = plainMessage({ ...m, body, extraHeaders: [...(m.extraHeaders ?? [])] }).toString();
  return Buffer.from(raw.replace('Content-Type: text/plain; charset=utf-8', `Content-Type: multipart/mixed; boundary="${boundary}"`));
}

/**
 * A CEO-fraud phish as Exchange stores it (for the Graph stand-in's mailboxes): Microsoft's hop on top,
 * the foreign server at `foreignIp` below it, from the CEO of partner.test (a DMARC p=reject domain).
 */
export function graphPhish(to: string, subject: string, foreignIp: string): string {
  return Buffer.concat([
    Buffer.from(
      [
        'Return-Path: <ceo@partner.test>',
        'Received: from BN8PR12MB3345.namprd12.prod.outlook.com (2603:10b6:408:4f::21) by SA1PR12MB6700.namprd12.prod.outlook.com with HTTPS; Mon, 1 Dec 2026 10:00:02 +0000',
        `Received: from mail.bulk.example (mail.bulk.example [${foreignIp}]) by BN1NAM02FT041.mail.protection.outlook.com (10.13.2.146) with Microsoft SMTP Server id 15.20.1; Mon, 1 Dec 2026 10:00:00 +0000`,
        '',
      ].join('\r\n'),
    ),
    plainMessage({ from: '"Partner CEO" <ceo@partner.test>', to, subject }),
  ]).toString('latin1');
}
