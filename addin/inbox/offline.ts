/**
 * The last loaded messages, kept in this browser so the inbox still shows them when the network is
 * gone, always marked as an offline copy (never as fresh). Wraps the REST client: a successful first
 * page or message is remembered; when the server cannot be reached, the remembered copy is returned
 * and `onOffline` says since when it is. Cleared on sign-out (a shared device keeps nothing).
 */
import { ApiError, type Api, type MailboxPage, type MailMessage } from '../lib/api';

const PREFIX = 'lifeboat.offline:';
const MAX_MESSAGES = 20;
const MAX_MESSAGE_CHARS = 200_000;

interface Saved<T> {
  savedAt: string;
  value: T;
}

function read<T>(key: string): Saved<T> | null {
  try {
    const raw = window.localStorage.getItem(PREFIX + key);
    return raw ? (JSON.parse(raw) as Saved<T>) : null;
  } catch {
    return null;
  }
}

function write<T>(key: string, value: T): void {
  try {
    window.localStorage.setItem(PREFIX + key, JSON.stringify({ savedAt: new Date().toISOString(), value }));
  } catch {
    // storage full or disabled: offline reading is a courtesy
  }
}

export function clearOfflineCopy(): void {
  try {
    for (let i = window.localStorage.length - 1; i >= 0; i--) {
      const key = window.localStorage.key(i);
      if (key?.startsWith(PREFIX)) window.localStorage.removeItem(key);
    }
  } catch {
    // nothing stored
  }
}

/** `onOffline(savedAt)` when an answer came from the offline copy; `onOffline(null)` when the server answered again. */
export function withOfflineCopy(api: Api, user: string, onOffline: (savedAt: string | null) => void): Api {
  const scope = (k: string) => `${user.toLowerCase()}:${k}`;
  const fallback = async <T>(key: string, call: () => Promise<T>, keep: (value: T) => boolean): Promise<T> => {
    try {
      const value = await call();
      onOffline(null);
      if (keep(value)) write(scope(key), value);
      return value;
    } catch (err) {
      const saved = err instanceof ApiError && err.unreachable ? read<T>(scope(key)) : null;
      if (!saved) throw err;
      onOffline(saved.savedAt);
      return saved.value;
    }
  };
  return {
    ...api,
    mailbox: (folder, cursor) =>
      cursor
        ? api.mailbox(folder, cursor)
        : fallback<MailboxPage>(
            `list:${folder}`,
            () => api.mailbox(folder),
            () => true,
          ),
    message: (id) =>
      fallback<MailMessage>(
        `message:${id}`,
        () => api.message(id),
        (m) => {
          const ids = read<string[]>(scope('messages'))?.value.filter((x) => x !== id) ?? [];
          ids.unshift(id);
          for (const old of ids.splice(MAX_MESSAGES)) window.localStorage.removeItem(PREFIX + scope(`message:${old}`));
          write(scope('messages'), ids);
          return (m.html ?? '').length + m.text.length < MAX_MESSAGE_CHARS;
        },
      ),
  };
}
