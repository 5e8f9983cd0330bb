/** The Threat Scan bench's mail and the messages between its main thread and its Graph thread. */
export const CLIENT_ID = '0b1e5c5e-0000-4000-8000-00000000be7d';
export const SECRET = 'bench-client-secret-value';
const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';

export interface GraphWorld {
  loginUrl: string;
  graphUrl: string;
  tenantId: string;
}

export interface GraphStats {
  requests: number;
  tokenRequests: number;
  maxInFlight: number;
  refused: number;
}

export function benchMessage(n: number): string {
  const body = `Hello,\r\n\r\n${'Quarterly figures attached as discussed. '.repeat(40)}\r\n${n % 50 === 0 ? GTUBE : ''}\r\n`;
  return [
    `From: sender${n % 97}@partner.example`,
    'To: user@contoso.example',
    `Subject: Message ${n}`,
    `Message-ID: <bench-${n}@partner.example>`,
    'Content-Type: text/plain',
    `Received: from mail.partner.example (mail.partner.example [198.51.100.${n % 200}]) by mx.contoso.example; ${new Date().toUTCString()}`,
    `Return-Path: <sender${n % 97}@partner.example>`,
    '',
    body,
  ].join('\r\n');
}
