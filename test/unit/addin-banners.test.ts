/**
 * The item banner against a minimal fake of Office.js notificationMessages (the browser tests use
 * the fuller stand-in in test/stand-ins/office-host).
 */
import { BANNER_KEY, clearContinuityBanner, showContinuityBanner } from '../../addin/office/banners';

type Msg = { key: string; type: string; message: string };

function fakeOffice(mailboxVersion: string, existing: Msg[]) {
  const store = [...existing];
  const ok = (cb: (r: unknown) => void, value?: unknown) => cb({ status: 'succeeded', value });
  const item = {
    notificationMessages: {
      getAllAsync: (cb: (r: unknown) => void) =>
        ok(
          cb,
          store.map((m) => ({ ...m })),
        ),
      replaceAsync: (key: string, details: Omit<Msg, 'key'>, cb: (r: unknown) => void) => {
        const i = store.findIndex((m) => m.key === key);
        if (i >= 0) store[i] = { key, ...details };
        else store.push({ key, ...details });
        ok(cb);
      },
      removeAsync: (key: string, cb: (r: unknown) => void) => {
        store.splice(
          store.findIndex((m) => m.key === key),
          1,
        );
        ok(cb);
      },
    },
  };
  (globalThis as Record<string, unknown>).Office = {
    AsyncResultStatus: { Succeeded: 'succeeded', Failed: 'failed' },
    MailboxEnums: { ItemNotificationMessageType: { InformationalMessage: 'informationalMessage' } },
    context: {
      requirements: { isSetSupported: (name: string, v: string) => name === 'Mailbox' && Number(v.split('.')[1]) <= Number(mailboxVersion.split('.')[1]) },
    },
  };
  return { item: item as unknown as Office.Item, store };
}

afterEach(() => {
  delete (globalThis as Record<string, unknown>).Office;
});

const other = (n: number): Msg[] => Array.from({ length: n }, (_, i) => ({ key: `other-${i}`, type: 'informationalMessage', message: `m${i}` }));

describe('continuity banner on the item', () => {
  it('replaces its own banner instead of adding a second one', async () => {
    const { item, store } = fakeOffice('1.5', other(1));
    await expect(showContinuityBanner(item, 'first')).resolves.toBe('shown');
    await expect(showContinuityBanner(item, 'second')).resolves.toBe('shown');
    expect(store.filter((m) => m.key === BANNER_KEY)).toEqual([
      { key: BANNER_KEY, type: 'informationalMessage', message: 'second', icon: 'Icon.16x16', persistent: false },
    ]);
    expect(store).toHaveLength(2);
  });

  it('does not add a sixth notification, but still updates its own when it is one of the five', async () => {
    const full = fakeOffice('1.5', other(5));
    await expect(showContinuityBanner(full.item, 'hello')).resolves.toBe('full');
    expect(full.store).toHaveLength(5);
    const ours = fakeOffice('1.5', [...other(4), { key: BANNER_KEY, type: 'informationalMessage', message: 'old' }]);
    await expect(showContinuityBanner(ours.item, 'new')).resolves.toBe('shown');
    expect(ours.store.find((m) => m.key === BANNER_KEY)?.message).toBe('new');
  });

  it('is gated on Mailbox 1.3 (notificationMessages)', async () => {
    const { item, store } = fakeOffice('1.2', []);
    await expect(showContinuityBanner(item, 'x')).resolves.toBe('unsupported');
    expect(store).toHaveLength(0);
    await expect(showContinuityBanner(null, 'x')).resolves.toBe('unsupported');
  });

  it('clears only its own banner', async () => {
    const { item, store } = fakeOffice('1.5', [...other(2), { key: BANNER_KEY, type: 'informationalMessage', message: 'x' }]);
    await clearContinuityBanner(item);
    expect(store.map((m) => m.key)).toEqual(['other-0', 'other-1']);
    await clearContinuityBanner(item); // nothing to remove: no error
  });
});
