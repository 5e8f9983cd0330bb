/**
 * A local SMS gateway on loopback that speaks two shapes: the Twilio Messages REST API
 * (`POST /2010-04-01/Accounts/<sid>/Messages.json`, form-encoded To/From/Body, HTTP basic auth) and a
 * generic JSON webhook (`POST /hook`). Tests script its answers (status, headers, body, or hold the
 * request open) and read what arrived. The monitor tests use it too.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface GatewayRequest {
  kind: 'twilio' | 'webhook';
  path: string;
  headers: IncomingMessage['headers'];
  /** Basic auth user and password (Twilio). */
  auth: { user: string; password: string } | null;
  /** The form fields (Twilio) or the JSON body (webhook). */
  fields: Record<string, unknown>;
  raw: string;
  at: number;
}

export interface ScriptedAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** Keep the request open until the server closes (a gateway that hangs / a sender that dies). */
  hold?: boolean;
}

export interface SmsGateway {
  url: string;
  port: number;
  requests: GatewayRequest[];
  /** Messages accepted (2xx answers), in order. */
  delivered: GatewayRequest[];
  /** Answers for the next requests, in order; after them every request is accepted. */
  script(...answers: ScriptedAnswer[]): void;
  /** The account SID and token the Twilio endpoint accepts. */
  credentials: { accountSid: string; authToken: string };
  /** Ends held requests (their senders see a network error). */
  dropHeld(): void;
  close(): Promise<void>;
}

export async function startSmsGateway(credentials = { accountSid: 'AC0123456789abcdef', authToken: 'twilio-test-token-secret' }): Promise<SmsGateway> {
  const answers: ScriptedAnswer[] = [];
  const held: ServerResponse[] = [];
  let sequence = 0;
  const gateway = { requests: [] as GatewayRequest[], delivered: [] as GatewayRequest[], credentials } as SmsGateway;

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url ?? '/', 'http://gateway');
      const twilioPath = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/.exec(url.pathname);
      const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
      const decoded = basic ? Buffer.from(basic[1]!, 'base64').toString('utf8') : null;
      const auth = decoded ? { user: decoded.slice(0, decoded.indexOf(':')), password: decoded.slice(decoded.indexOf(':') + 1) } : null;
      const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
      };
      if (req.method !== 'POST' || (!twilioPath && url.pathname !== '/hook')) return json(404, { message: 'not found' });
      let fields: Record<string, unknown>;
      try {
        fields = twilioPath ? Object.fromEntries(new URLSearchParams(raw)) : (JSON.parse(raw) as Record<string, unknown>);
      } catch {
        return json(400, { message: 'body is not JSON' });
      }
      const request: GatewayRequest = { kind: twilioPath ? 'twilio' : 'webhook', path: url.pathname, headers: req.headers, auth, fields, raw, at: Date.now() };
      gateway.requests.push(request);
      if (twilioPath) {
        // Twilio's own checks: the account in the path and the basic-auth user must match the token.
        if (!auth || auth.user !== credentials.accountSid || auth.password !== credentials.authToken || twilioPath[1] !== credentials.accountSid) {
          return json(401, { code: 20003, message: 'Authenticate', status: 401 });
        }
        if (!fields.To || !fields.From || !fields.Body) return json(400, { code: 21604, message: "A 'To' phone number is required.", status: 400 });
      }
      const answer = answers.shift();
      if (answer?.hold) {
        held.push(res);
        return;
      }
      if (answer && (answer.status < 200 || answer.status >= 300))
        return json(answer.status, answer.body ?? { message: 'scripted failure', status: answer.status }, answer.headers);
      gateway.delivered.push(request);
      const sid = `SM${String(++sequence).padStart(32, '0')}`;
      json(
        answer?.status ?? 201,
        answer?.body ?? (twilioPath ? { sid, status: 'queued', to: fields.To, body: fields.Body } : { id: sid, accepted: true }),
        answer?.headers,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  Object.assign(gateway, {
    port,
    url: `http://127.0.0.1:${port}`,
    script: (...more: ScriptedAnswer[]) => void answers.push(...more),
    dropHeld: () => {
      for (const res of held.splice(0)) res.socket?.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of held.splice(0)) res.socket?.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
  return gateway;
}
