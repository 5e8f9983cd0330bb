/**
 * The mail side of protection's interface (server/protection/mail-side.ts): the stored raw message by
 * id, and delivery of a released copy. Delivery is not connected to routing yet: until it is, a release
 * fails with ReleaseNotWiredError (503) unless a deliverReleased is passed in.
 */
import type { MailSide, ReleasedCopy } from '../protection/mail-side';
import { ReleaseNotWiredError } from '../protection/mail-side';
import type { MailModels } from './model';
import { messageKey, MissingContentError, readRaw } from './store';

export function createMailProtectionSide(models: MailModels, deliverReleased?: (copy: ReleasedCopy) => Promise<void>): MailSide {
  return {
    async readRaw(tenantId, messageId) {
      const message = await models.messages.findById(messageKey(tenantId, messageId), { _id: 1, chunks: 1, raw: 1 }).lean();
      if (!message) return null;
      try {
        return await readRaw(models, message);
      } catch (err) {
        if (err instanceof MissingContentError) return null;
        throw err;
      }
    },
    deliverReleased:
      deliverReleased ??
      (async () => {
        throw new ReleaseNotWiredError();
      }),
  };
}
