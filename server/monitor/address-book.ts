/**
 * Which addresses belong to monitors (their probe mailboxes), kept in memory. The SMTP receiver asks
 * this for every recipient of every message, so it must not cost a database read each time: the
 * book is read whole (a handful of rows per tenant), dropped at once when this process changes an
 * address, and re-read after a few seconds so another process's changes are seen too.
 */
export interface AddressRow {
  _id: string;
  tenantId: string;
}

export const ADDRESS_BOOK_TTL_MS = 5_000;

export function createAddressBook(load: () => Promise<AddressRow[]>, ttlMs = ADDRESS_BOOK_TTL_MS) {
  let book: Map<string, string> | null = null;
  let readAt = 0;
  let loading: Promise<Map<string, string>> | null = null;

  function current(): Promise<Map<string, string>> {
    if (book && Date.now() - readAt < ttlMs) return Promise.resolve(book);
    if (!loading) {
      const attempt: Promise<Map<string, string>> = load()
        .then((rows) => {
          const read = new Map(rows.map((r) => [r._id.toLowerCase(), r.tenantId]));
          // A change made while this read was under way dropped `loading`: keep the read for this caller only.
          if (loading === attempt) [book, readAt] = [read, Date.now()];
          return read;
        })
        .finally(() => {
          if (loading === attempt) loading = null;
        });
      loading = attempt;
    }
    return loading;
  }

  return {
    /** The tenant whose monitor owns this address, or null. */
    async tenantOf(address: string): Promise<string | null> {
      return (await current()).get(address.toLowerCase()) ?? null;
    },
    /** This process changed an address: the next question reads the book again. */
    forget(): void {
      book = null;
      loading = null;
    },
  };
}
