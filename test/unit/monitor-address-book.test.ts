import { createAddressBook, type AddressRow } from '../../server/monitor/address-book';

function countingLoader(rows: AddressRow[]) {
  const loader = Object.assign(
    async () => {
      loader.reads++;
      return rows.map((r) => ({ ...r }));
    },
    { reads: 0 },
  );
  return loader;
}

describe('monitor address book (asked for every recipient of every received message)', () => {
  test('answers from memory: one read serves many questions, whatever the case of the address', async () => {
    const load = countingLoader([{ _id: 'probe-1@contoso.example', tenantId: 'contoso' }]);
    const book = createAddressBook(load, 60_000);
    for (let n = 0; n < 50; n++) {
      expect(await book.tenantOf('Probe-1@Contoso.Example')).toBe('contoso');
      expect(await book.tenantOf(`user${n}@contoso.example`)).toBeNull();
    }
    expect(load.reads).toBe(1);
  });

  test('concurrent questions share one read', async () => {
    const load = countingLoader([{ _id: 'probe@a.example', tenantId: 'a' }]);
    const book = createAddressBook(load, 60_000);
    const answers = await Promise.all(Array.from({ length: 20 }, () => book.tenantOf('probe@a.example')));
    expect(answers.every((a) => a === 'a')).toBe(true);
    expect(load.reads).toBe(1);
  });

  test('a change made by this process is seen at once', async () => {
    const rows: AddressRow[] = [];
    const book = createAddressBook(async () => rows.map((r) => ({ ...r })), 60_000);
    expect(await book.tenantOf('probe@a.example')).toBeNull();
    rows.push({ _id: 'probe@a.example', tenantId: 'a' });
    book.forget();
    expect(await book.tenantOf('probe@a.example')).toBe('a');
    rows.length = 0;
    book.forget();
    expect(await book.tenantOf('probe@a.example')).toBeNull();
  });

  test('a change made while a read is under way is not hidden by that read', async () => {
    let rows: AddressRow[] = [];
    let release: () => void = () => {};
    let slow = true;
    const book = createAddressBook(async () => {
      const snapshot = rows.map((r) => ({ ...r }));
      if (slow) await new Promise<void>((r) => (release = r));
      return snapshot;
    }, 60_000);
    const before = book.tenantOf('probe@a.example'); // reads the empty book, slowly
    rows = [{ _id: 'probe@a.example', tenantId: 'a' }];
    book.forget();
    slow = false;
    expect(await book.tenantOf('probe@a.example')).toBe('a');
    release();
    expect(await before).toBeNull();
    // The slow read finished last but must not replace the newer book.
    expect(await book.tenantOf('probe@a.example')).toBe('a');
  });

  test("another process's change is seen once the book is older than its time to live", async () => {
    const rows: AddressRow[] = [];
    const book = createAddressBook(async () => rows.map((r) => ({ ...r })), 30);
    expect(await book.tenantOf('probe@b.example')).toBeNull();
    rows.push({ _id: 'probe@b.example', tenantId: 'b' });
    await new Promise((r) => setTimeout(r, 40));
    expect(await book.tenantOf('probe@b.example')).toBe('b');
  });
});
