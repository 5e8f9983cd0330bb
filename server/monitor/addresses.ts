/**
 * The monitor's own addresses: each is claimed by inserting it under its unique _id (one monitor per
 * address, across processes), kept in the in-memory address book, and offered to mail as an
 * interceptor (the `mail:intercept` hook, reactions/catalogue.ts): a reply to an outbound probe
 * records the probe's arrival. Never stores a message.
 */
import { claimByInsert } from '../db/claims';
import { unprocessable } from '../http/problem';
import type { MailInterceptor } from '../mail/service';
import { createAddressBook } from './address-book';
import { probeIdOf } from './checks';
import type { MonitorContext } from './context';

export function createMonitorAddresses(ctx: MonitorContext) {
  const { models, logger } = ctx;
  const addressBook = createAddressBook(() => models.addresses.find({}, { _id: 1, tenantId: 1 }).lean());
  const listeners: ((tenantId: string) => void)[] = [];
  /** This process changed an address: the book is read again here, and the reaction tells the other nodes. */
  const changed = (tenantId: string) => {
    addressBook.forget();
    for (const listener of listeners) listener(tenantId);
  };

  const interceptor: MailInterceptor = {
    claims: (address) => addressBook.tenantOf(address),
    async deliver({ tenantId, raw, receivedAt }) {
      const probeId = probeIdOf(raw);
      const probe = probeId ? await models.probes.findById(probeId).lean() : null;
      if (!probe || probe.tenantId !== tenantId || probe.check !== 'outbound') {
        logger.debug({ tenant: tenantId }, 'a message to a monitor address named no open probe; dropped');
        return;
      }
      if (!probe.receivedAt) await models.probes.updateOne({ _id: probe._id }, { $set: { receivedAt } });
    },
  };

  /**
   * Claims the address for the monitor (already its own: nothing to do; another monitor's: 422 naming
   * `address`). An address in the tenant's own domain (`ownDomain`) held by another tenant's monitor
   * (claimed before addresses were checked against tenants' domains) is taken back from it.
   */
  async function claim(tenantId: string, monitorId: string, address: string, options: { ownDomain?: boolean } = {}): Promise<void> {
    if (await claimByInsert(models.addresses, { _id: address, tenantId, monitorId })) {
      changed(tenantId);
      return;
    }
    const existing = await models.addresses.findById(address).lean();
    if (existing && existing.tenantId !== tenantId && options.ownDomain) {
      logger.warn({ tenant: tenantId, from: existing.tenantId }, "a monitor address in the tenant's own domain was taken back from another tenant");
      await models.addresses.deleteOne({ _id: address, tenantId: existing.tenantId });
      changed(existing.tenantId);
      return claim(tenantId, monitorId, address);
    }
    if (existing?.monitorId !== monitorId) throw unprocessable([{ path: 'address', message: 'this address is already used by another monitor' }]);
  }

  return {
    interceptor,
    claim,

    async release(filter: { _id: string; monitorId?: string }): Promise<void> {
      const row = await models.addresses.findById(filter._id, { tenantId: 1 }).lean();
      await models.addresses.deleteOne(filter);
      if (row) changed(row.tenantId);
      else addressBook.forget();
    },

    /** Told after this process claimed or released an address (reactions: `monitor:addresses-changed`). */
    onChanged(listener: (tenantId: string) => void): void {
      listeners.push(listener);
    },
    /** Another node changed an address: the book is read again at the next question. */
    forget: () => addressBook.forget(),
  };
}
