/**
 * At most N Graph requests in flight per mailbox (Exchange Online refuses the fifth concurrent request
 * to one mailbox with 429): every scan and remediation request to a mailbox goes through run().
 */
export function createMailboxLimiter(perMailbox = 4) {
  const slots = new Map<string, { active: number; waiting: (() => void)[] }>();
  return {
    async run<T>(mailbox: string, work: () => Promise<T>): Promise<T> {
      let slot = slots.get(mailbox);
      if (!slot) slots.set(mailbox, (slot = { active: 0, waiting: [] }));
      if (slot.active >= perMailbox) await new Promise<void>((resolve) => slot!.waiting.push(resolve));
      else slot.active++;
      try {
        return await work();
      } finally {
        const next = slot.waiting.shift();
        if (next)
          next(); // the slot passes straight to the next waiter
        else if (--slot.active === 0) slots.delete(mailbox);
      }
    },
  };
}
export type MailboxLimiter = ReturnType<typeof createMailboxLimiter>;
