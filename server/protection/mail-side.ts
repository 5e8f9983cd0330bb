/**
 * What protection needs from the mail side, as one narrow interface the mail capability implements:
 * the stored raw message, and delivery of a released copy. Protection never reaches into mail's data.
 */
import type { Verdict } from './verdict';

export interface ReleasedCopy {
  /** The quarantine entry's id: the mail side must deliver at most once per releaseId (a retry repeats it). */
  releaseId: string;
  tenantId: string;
  messageId: string;
  recipient: string;
  /** The directory user whose continuity mailbox receives the copy (null: onward delivery only). */
  userId: string | null;
  releasedBy: string;
  /** The rescan made just before the release. */
  rescan: Verdict;
}

export interface MailSide {
  /** The stored raw MIME, or null when it is gone (retention). */
  readRaw(tenantId: string, messageId: string): Promise<Buffer | null>;
  /** Places a released copy in the recipient's mailbox and queues its onward delivery; idempotent per releaseId. */
  deliverReleased(copy: ReleasedCopy): Promise<void>;
}

export class ReleaseNotWiredError extends Error {
  constructor() {
    super('delivery of released mail is not connected to the mail path yet');
  }
}
