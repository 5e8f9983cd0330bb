/** The notify capability as the rest of Lifeboat sees it (composed in server/services.ts). */
import { createNotifyCore, type NotifyCoreOptions } from './service';

export type { SendRequest, SendResult, NotifyRetryPolicy } from './service';

export function createNotifyService(options: NotifyCoreOptions) {
  const core = createNotifyCore(options);
  return { ...core };
}
export type NotifyService = ReturnType<typeof createNotifyService>;
