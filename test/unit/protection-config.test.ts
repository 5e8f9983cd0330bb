import { loadConfig } from '../../server/config';

test('protection settings: resolver list, rspamd URL (unset = embedded, off = none), clamd', () => {
  expect(loadConfig({}).protection).toEqual({ dnsServers: [], rspamdUrl: undefined, clamd: undefined });
  expect(
    loadConfig({ LIFEBOAT_DNS_SERVERS: ' 127.0.0.1:5353, 10.0.0.2 ,', LIFEBOAT_RSPAMD_URL: 'http://127.0.0.1:11333', LIFEBOAT_CLAMD: '/run/clamav/clamd.ctl' })
      .protection,
  ).toEqual({ dnsServers: ['127.0.0.1:5353', '10.0.0.2'], rspamdUrl: 'http://127.0.0.1:11333', clamd: '/run/clamav/clamd.ctl' });
  expect(loadConfig({ LIFEBOAT_RSPAMD_URL: 'off' }).protection.rspamdUrl).toBe('off');
});
