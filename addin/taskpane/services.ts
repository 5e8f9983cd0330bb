/**
 * The pane's collaborators in production: Office.js (through addin/office), the browser's storage,
 * the send-guard store and the status socket. The pane's hooks take these as arguments, so another
 * page (the web inbox) or a test passes its own.
 */
import { clearContinuityBanner, showContinuityBanner } from '../office/banners';
import { currentItem, onItemChanged } from '../office/host';
import { clearPasswordSession, createNaaClient, loadPasswordSession, naaAvailable, savePasswordSession } from '../lib/auth';
import { forgetGuardToken, saveGuard } from '../lib/send-guard';
import type { ContinuityStatus } from '../lib/status';
import type { AnswerStorage } from './hooks/useCachedModeAnswer';
import type { ItemHost } from './hooks/useCurrentItem';
import type { GuardTokenStore, NaaProvider, PasswordSessions } from './hooks/useSignIn';

export interface PaneServices {
  sessions: PasswordSessions;
  naa: NaaProvider;
  guard: GuardTokenStore & { saveStatus(status: ContinuityStatus): void };
  itemHost: ItemHost;
  /** Where the Cached Exchange Mode answer is kept (null: not kept). */
  answers: AnswerStorage | null;
}

function localStorageOrNull(): AnswerStorage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

export function officePaneServices(): PaneServices {
  return {
    sessions: { load: () => loadPasswordSession(), save: savePasswordSession, clear: clearPasswordSession },
    naa: { available: naaAvailable, create: createNaaClient },
    guard: {
      remember: (token, tokenExpiresAt) => void saveGuard({ token, tokenExpiresAt }).catch(() => {}),
      forget: () => void forgetGuardToken(),
      // The OnMessageSend handler decides from this when it cannot ask the backend itself.
      saveStatus: (status) => void saveGuard({ status }).catch(() => {}),
    },
    itemHost: { currentItem, onItemChanged, showBanner: showContinuityBanner, clearBanner: clearContinuityBanner },
    answers: localStorageOrNull(),
  };
}
