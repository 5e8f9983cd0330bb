import type { AuthSummary } from '../../server/protection/auth';
import { decideVerdict, type Evidence } from '../../server/protection/verdict';

const auth = (over: Partial<AuthSummary> = {}): AuthSummary => ({
  spf: 'pass',
  dkim: 'pass',
  dmarc: 'pass',
  arc: 'none',
  fromDomain: 'partner.test',
  dmarcPolicy: 'reject',
  alignedDkim: ['partner.test'],
  header: 'lifeboat.test; spf=pass',
  ...over,
});
const evidence = (over: Partial<Evidence> = {}): Evidence => ({
  auth: auth(),
  rspamd: { score: 1, requiredScore: 15, action: 'no action', symbols: [] },
  clamd: null,
  impersonation: null,
  engines: { auth: 'ok', rspamd: 'ok', clamd: 'skipped' },
  engineErrors: {},
  ...over,
});
const DOMAINS = ['contoso.test'];

test('clean when every engine looked and found nothing', () => {
  expect(decideVerdict(evidence(), DOMAINS)).toMatchObject({ verdict: 'clean', reasons: [] });
});

test('precedence: malware, phishing, spoof, impersonation, spam, unscanned', () => {
  const everything = evidence({
    auth: auth({ dmarc: 'fail' }),
    rspamd: { score: 30, requiredScore: 15, action: 'reject', symbols: [{ name: 'PHISHED_OPENPHISH', score: 7 }] },
    clamd: { signature: 'Eicar-Test-Signature' },
    impersonation: { kind: 'lookalikeDomain', seen: 'cont0so.test', imitates: 'contoso.test' },
    engines: { auth: 'ok', rspamd: 'ok', clamd: 'ok' },
  });
  const v = decideVerdict(everything, DOMAINS);
  expect(v.verdict).toBe('malware');
  expect(v.reasons).toHaveLength(5);
  expect(decideVerdict({ ...everything, clamd: null }, DOMAINS).verdict).toBe('phishing');
  expect(decideVerdict({ ...everything, clamd: null, rspamd: { ...everything.rspamd!, symbols: [] } }, DOMAINS).verdict).toBe('spoof');
});

test('the tenant’s own domain without DMARC pass is spoof; a DNS temperror is not', () => {
  expect(decideVerdict(evidence({ auth: auth({ fromDomain: 'mail.contoso.test', dmarc: 'none' }) }), DOMAINS).verdict).toBe('spoof');
  expect(decideVerdict(evidence({ auth: auth({ fromDomain: 'contoso.test', dmarc: 'temperror' }) }), DOMAINS).verdict).toBe('clean');
});

test('a phishing symbol with no weight does not decide; a spam score at the threshold does', () => {
  expect(
    decideVerdict(evidence({ rspamd: { score: 2, requiredScore: 15, action: 'no action', symbols: [{ name: 'PHISHING', score: 0 }] } }), DOMAINS).verdict,
  ).toBe('clean');
  expect(decideVerdict(evidence({ rspamd: { score: 15, requiredScore: 15, action: 'add header', symbols: [] } }), DOMAINS).verdict).toBe('spam');
});

test('an engine down or slow is unscanned with its reason; clamd not configured is not', () => {
  const v = decideVerdict(
    evidence({ rspamd: null, engines: { auth: 'ok', rspamd: 'timeout', clamd: 'skipped' }, engineErrors: { rspamd: 'no answer within 15000 ms' } }),
    DOMAINS,
  );
  expect(v).toMatchObject({ verdict: 'unscanned', reasons: ['rspamd timeout: no answer within 15000 ms'] });
});
