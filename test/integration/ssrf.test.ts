/**
 * Outbound requests and write-only secrets: configured destinations are resolved and refused when
 * private (unless allowed by the operator), checked again at send time, provider answers reach admins
 * trimmed, and a stored secret never follows a changed destination.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { notifyModels } from '../../server/notify/model';
import { createTargetGuard } from '../../server/http/private-target';
import { useLifeboat } from '../harness/context';

const strict = useLifeboat({ services: { allowedPrivateTargets: [] } });
const relaxed = useLifeboat({ services: { allowedPrivateTargets: ['loopback'] } });

let gateway: http.Server;
let gatewayUrl: string;
const hits: string[] = [];
beforeAll(async () => {
  gateway = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    res.writeHead(400, { 'content-type': 'text/html' });
    res.end('<html>internal admin console: root password hunter2</html>');
  });
  await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
  gatewayUrl = `http://localhost:${(gateway.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => gateway.close(() => resolve())));

const paths = (body: { errors?: { path: string }[] }) => (body.errors ?? []).map((e) => e.path);

describe('SSRF guard', () => {
  it('refuses loopback, link-local and private destinations with a 422 naming the field', async () => {
    const admin = await strict.signIn('alpha', 'fullAdministrator');
    const cases: [object, string][] = [
      [{ sms: { provider: 'webhook', url: 'http://localhost:8080/hook' } }, 'sms.url'],
      [{ sms: { provider: 'twilio', baseUrl: 'http://127.0.0.1:9', accountSid: 'AC1', authToken: 'tok', from: '+1555' } }, 'sms.baseUrl'],
      [{ sms: { provider: 'webhook', url: 'https://[::1]/hook' } }, 'sms.url'],
      [{ email: { host: '169.254.169.254', port: 25, from: 'a@alpha.test' } }, 'email.host'],
      [{ email: { host: '10.1.2.3', port: 25, from: 'a@alpha.test' } }, 'email.host'],
      [{ email: { host: '::ffff:192.168.1.1', port: 25, from: 'a@alpha.test' } }, 'email.host'],
    ];
    for (const [body, field] of cases) {
      const res = await admin.put('/api/notify/settings').send(body).expect(422);
      expect(paths(res.body)).toContain(field);
    }
    // A public address is fine (nothing is contacted when saving).
    await admin
      .put('/api/notify/settings')
      .send({ sms: { provider: 'webhook', url: 'https://203.0.113.7/hook' } })
      .expect(200);
  });

  it('checks again at send time: a destination that became private is not contacted', async () => {
    const admin = await strict.signIn('alpha', 'fullAdministrator');
    // As if the name had resolved to a public address when it was saved (DNS rebinding).
    await notifyModels(strict.conn).settings.updateOne({ _id: 'alpha' }, { $set: { 'sms.url': `${gatewayUrl}/rebound` } });
    const res = await admin.post('/api/notify/test').send({ channel: 'sms', to: '+15550001111' }).expect(200);
    expect(res.body.status).toBe('failed');
    expect(res.body.reply).toMatch(/^refused: .*private/);
    expect(hits).not.toContain('/rebound');
  });

  it('the guard refuses the server itself and honours the allow list', async () => {
    const guard = createTargetGuard({ allowed: ['10.9.0.0/16', 'relay.internal'], ownAddresses: ['203.0.113.50'] });
    expect(await guard.refusal('203.0.113.50')).toMatch(/this server itself/);
    expect(await guard.refusal('10.9.1.1')).toBeNull();
    expect(await guard.refusal('10.8.1.1')).toMatch(/private/);
    expect(await guard.refusal('0.0.0.0')).toMatch(/private/);
    await expect(guard.resolveForConnect('localhost')).rejects.toThrow(/private, loopback/);
  });
});

describe('provider answers shown to admins', () => {
  it('are trimmed to the status and a short reason, never the body', async () => {
    const admin = await relaxed.signIn('alpha', 'fullAdministrator');
    await admin
      .put('/api/notify/settings')
      .send({ sms: { provider: 'webhook', url: `${gatewayUrl}/hook` } })
      .expect(200);
    const res = await admin.post('/api/notify/test').send({ channel: 'sms', to: '+15550001111' }).expect(200);
    expect(res.body.status).toBe('failed');
    expect(res.body.reply).toBe('400');
    const log = await admin.get('/api/notify/log').expect(200);
    expect(JSON.stringify(log.body)).not.toContain('hunter2');
  });
});

describe('write-only secrets', () => {
  it('are dropped when the destination changes, unless entered again (422 naming the field)', async () => {
    const admin = await relaxed.signIn('beta', 'fullAdministrator');
    const twilio = { provider: 'twilio', baseUrl: `${gatewayUrl}/one`, accountSid: 'AC123', authToken: 'secret-token', from: '+15550009999' };
    await admin.put('/api/notify/settings').send({ sms: twilio }).expect(200);
    const moved = await admin
      .put('/api/notify/settings')
      .send({ sms: { provider: 'twilio', baseUrl: `${gatewayUrl}/two` } })
      .expect(422);
    expect(paths(moved.body)).toEqual(['sms.authToken']);
    // The same base URL keeps the stored token; a new one with the token re-entered is fine.
    await admin
      .put('/api/notify/settings')
      .send({ sms: { provider: 'twilio', baseUrl: `${gatewayUrl}/one`, from: '+15550008888' } })
      .expect(200);
    await admin
      .put('/api/notify/settings')
      .send({ sms: { provider: 'twilio', baseUrl: `${gatewayUrl}/two`, authToken: 'secret-token' } })
      .expect(200);

    await admin
      .put('/api/notify/settings')
      .send({ email: { host: '127.0.0.1', port: 2525, user: 'relay', password: 'relay password', from: 'n@beta.test' } })
      .expect(200);
    const hostMoved = await admin
      .put('/api/notify/settings')
      .send({ email: { host: 'localhost', port: 2525, from: 'n@beta.test' } })
      .expect(422);
    expect(paths(hostMoved.body)).toContain('email.password');

    const hook = await admin
      .put('/api/notify/settings')
      .send({ sms: { provider: 'webhook', url: `${gatewayUrl}/a`, signingSecret: 'signing key' } })
      .expect(200);
    expect(hook.body.sms.signingSecretSet).toBe(true);
    const urlMoved = await admin
      .put('/api/notify/settings')
      .send({ sms: { provider: 'webhook', url: `${gatewayUrl}/b` } })
      .expect(422);
    expect(paths(urlMoved.body)).toEqual(['sms.signingSecret']);
  });
});
