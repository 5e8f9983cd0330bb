import { actionFor, refusesAtData, resolvePolicy, type Policy, type PolicySubject } from '../../server/protection/policy-rules';

const base = (over: Partial<Policy>): Policy => ({
  id: 'p',
  tenantId: 'alpha',
  name: 'p',
  isDefault: false,
  mode: 'protect',
  priority: 100,
  matchOn: 'both',
  senders: { include: [], exclude: [] },
  recipients: { include: [], exclude: [] },
  actions: { spam: 'tag', phishing: 'quarantine', malware: 'quarantine', spoof: 'quarantine', impersonation: 'tag' },
  scannerDown: { action: 'hold', holdMinutes: 30 },
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  ...over,
});

const DEFAULT = base({ id: 'default', isDefault: true, name: 'Default' });
const subject = (
  over: Partial<{ envelope: string; header: string | null; recipient: string; recipientGroups: string[]; headerGroups: string[] }> = {},
): PolicySubject => ({
  sender: {
    envelope: { address: over.envelope ?? 'news@outside.test', groups: [] },
    header: over.header === null ? null : { address: over.header ?? over.envelope ?? 'news@outside.test', groups: over.headerGroups ?? [] },
  },
  recipient: { address: over.recipient ?? 'one@alpha.test', groups: over.recipientGroups ?? [] },
});

describe('resolvePolicy', () => {
  test('no targeted policy: the default applies with its action per verdict', () => {
    expect(resolvePolicy([DEFAULT], subject(), 'phishing')).toMatchObject({ policy: { id: 'default' }, action: 'quarantine', scan: true });
    expect(resolvePolicy([DEFAULT], subject(), 'clean').action).toBe('deliver');
    expect(resolvePolicy([DEFAULT], subject(), 'spam').action).toBe('tag');
  });

  test('Monitor for one group (nested membership resolved by the caller), Protect for the rest, an exception', () => {
    const monitorGroup = base({
      id: 'monitor-finance',
      mode: 'monitor',
      recipients: { include: [{ type: 'group', value: 'finance' }], exclude: [{ type: 'address', value: 'cfo@alpha.test' }] },
    });
    const policies = [DEFAULT, monitorGroup];
    // In the group (through a nested group: the caller lists every group the user is in): monitored, delivered.
    expect(resolvePolicy(policies, subject({ recipientGroups: ['finance-emea', 'finance'] }), 'phishing')).toMatchObject({
      policy: { id: 'monitor-finance' },
      action: 'deliver',
    });
    // The exception falls through to the default (Protect).
    expect(resolvePolicy(policies, subject({ recipient: 'cfo@alpha.test', recipientGroups: ['finance'] }), 'phishing')).toMatchObject({
      policy: { id: 'default' },
      action: 'quarantine',
    });
    // Outside the group: Protect.
    expect(resolvePolicy(policies, subject(), 'phishing').policy.id).toBe('default');
  });

  test('priority: the lowest number wins; ties go to the oldest', () => {
    const a = base({ id: 'a', priority: 20, actions: { ...DEFAULT.actions, spam: 'deliver' } });
    const b = base({ id: 'b', priority: 10, actions: { ...DEFAULT.actions, spam: 'quarantine' } });
    const c = base({ id: 'c', priority: 10, createdAt: '2025-01-01T00:00:00.000Z' });
    expect(resolvePolicy([a, DEFAULT, b], subject(), 'spam')).toMatchObject({ policy: { id: 'b' }, action: 'quarantine' });
    expect(resolvePolicy([a, DEFAULT, b, c], subject(), 'spam').policy.id).toBe('c');
  });

  test('matchOn: envelope, header, or either', () => {
    const target = { include: [{ type: 'domain' as const, value: 'partner.test' }], exclude: [] };
    const on = (matchOn: Policy['matchOn']) => [DEFAULT, base({ id: matchOn, matchOn, senders: target })];
    const s = subject({ envelope: 'bounce@mailer.test', header: 'sales@eu.partner.test' });
    expect(resolvePolicy(on('envelope'), s, 'spam').policy.id).toBe('default');
    expect(resolvePolicy(on('header'), s, 'spam').policy.id).toBe('header');
    expect(resolvePolicy(on('both'), s, 'spam').policy.id).toBe('both');
    expect(resolvePolicy(on('header'), subject({ header: null }), 'spam').policy.id).toBe('default');
  });

  test('the null sender matches no sender target', () => {
    const p = base({ id: 'x', senders: { include: [{ type: 'domain', value: 'outside.test' }], exclude: [] } });
    expect(resolvePolicy([DEFAULT, p], subject({ envelope: '', header: null }), 'spam').policy.id).toBe('default');
  });
});

describe('actions by mode', () => {
  test('Disabled skips scanning; Monitor delivers everything; Protect applies the action', () => {
    expect(actionFor(base({ mode: 'disabled' }), 'malware')).toEqual({ scan: false, action: 'deliver' });
    expect(actionFor(base({ mode: 'monitor' }), 'malware')).toEqual({ scan: true, action: 'deliver' });
    expect(actionFor(base({}), 'malware')).toEqual({ scan: true, action: 'quarantine' });
  });

  test('scanner down: hold for N minutes, or deliver tagged at once', () => {
    expect(actionFor(base({}), 'unscanned')).toEqual({ scan: true, action: 'hold', holdMinutes: 30 });
    expect(actionFor(base({ scannerDown: { action: 'tag', holdMinutes: 0 } }), 'unscanned')).toEqual({ scan: true, action: 'tag' });
  });

  test('reject is decided only at DATA: after the 250 it quarantines', () => {
    const p = base({ actions: { ...DEFAULT.actions, spoof: 'reject' } });
    expect(actionFor(p, 'spoof').action).toBe('quarantine');
    expect(refusesAtData(p, { dmarc: 'fail', dmarcPolicy: 'reject' })).toBe(true);
    expect(refusesAtData(p, { dmarc: 'fail', dmarcPolicy: 'quarantine' })).toBe(false);
    expect(refusesAtData(base({ mode: 'monitor', actions: p.actions }), { dmarc: 'fail', dmarcPolicy: 'reject' })).toBe(false);
    expect(refusesAtData(DEFAULT, { dmarc: 'fail', dmarcPolicy: 'reject' })).toBe(false);
  });
});
