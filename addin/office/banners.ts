/**
 * The continuity banner on the open item (`item.notificationMessages`, Mailbox 1.3). One key, so a
 * banner is replaced rather than duplicated; Outlook allows at most 5 per item, so a new one is not
 * added when the item already has 5.
 */
import { isSetSupported } from './host';

export const BANNER_KEY = 'lifeboat-continuity';
/** Outlook's limits: 5 notifications per item, 150 characters per message. */
export const MAX_NOTIFICATIONS = 5;
export const MAX_MESSAGE_LENGTH = 150;
/** The manifest's 16×16 icon resource (informational messages need one). */
export const BANNER_ICON = 'Icon.16x16';

type Notifications = Office.NotificationMessages;

function notificationsOf(item: Office.Item | null): Notifications | null {
  if (!item || !isSetSupported('Mailbox', '1.3')) return null;
  return (item as { notificationMessages?: Notifications }).notificationMessages ?? null;
}

function call<T>(start: (callback: (result: Office.AsyncResult<T>) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    start((result) => {
      if (result.status === Office.AsyncResultStatus.Succeeded) resolve(result.value);
      else reject(new Error(result.error?.message ?? 'Outlook refused the notification'));
    });
  });
}

export function bannerText(message: string): string {
  const oneLine = message.replace(/\s+/g, ' ').trim();
  return oneLine.length <= MAX_MESSAGE_LENGTH ? oneLine : `${oneLine.slice(0, MAX_MESSAGE_LENGTH - 1)}…`;
}

export type BannerResult = 'shown' | 'unsupported' | 'full';

/** Shows (or updates) the continuity banner on the item. */
export async function showContinuityBanner(item: Office.Item | null, message: string): Promise<BannerResult> {
  const notifications = notificationsOf(item);
  if (!notifications) return 'unsupported';
  const existing = await call<Office.NotificationMessageDetails[]>((cb) => notifications.getAllAsync(cb));
  const ours = existing.some((m) => m.key === BANNER_KEY);
  if (!ours && existing.length >= MAX_NOTIFICATIONS) return 'full';
  await call<void>((cb) =>
    notifications.replaceAsync(
      BANNER_KEY,
      {
        type: Office.MailboxEnums.ItemNotificationMessageType.InformationalMessage,
        message: bannerText(message),
        icon: BANNER_ICON,
        persistent: false,
      },
      cb,
    ),
  );
  return 'shown';
}

/** Removes the continuity banner from the item, if it is there. */
export async function clearContinuityBanner(item: Office.Item | null): Promise<void> {
  const notifications = notificationsOf(item);
  if (!notifications) return;
  const existing = await call<Office.NotificationMessageDetails[]>((cb) => notifications.getAllAsync(cb));
  if (existing.some((m) => m.key === BANNER_KEY)) await call<void>((cb) => notifications.removeAsync(BANNER_KEY, cb));
}
