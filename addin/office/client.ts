/**
 * Which Outlook is this? Classified honestly from what Office.js reports; no Office.js API tells
 * whether Cached Exchange Mode is on, so for classic Outlook on Windows it stays "unknown" until
 * the user (or an admin policy) confirms it. A pure function: every host/platform combination is
 * unit-tested.
 */

import type { CachedMode, ClientKind } from '../../server/clients/model';

/** `POST /api/me/client` kinds and cachedMode values: the server's own definitions (types only). */
export type { CachedMode, ClientKind };

/** What the user said about Cached Exchange Mode in classic Outlook on Windows (kept per device). */
export type CachedModeAnswer = 'confirmed' | 'notConfirmed' | null;

/** The raw facts, as Office.js reports them (any may be missing outside Outlook or on old builds). */
export interface ClientFacts {
  /** `Office.context.mailbox.diagnostics.hostName`: Outlook, newOutlookWindows, OutlookWebApp, OutlookIOS, OutlookAndroid. */
  hostName: string | null;
  /** `Office.context.diagnostics.platform`: PC, Mac, OfficeOnline, iOS, Android, Universal. */
  platform: string | null;
  /** `Office.context.mailbox.userProfile.accountType` (Mailbox 1.6): enterprise, office365, outlookCom, gmail. */
  accountType: string | null;
  /** `Office.context.mailbox.diagnostics.hostVersion` (or `Office.context.diagnostics.version`). */
  hostVersion: string | null;
}

export interface ClientClassification {
  kind: ClientKind;
  cachedMode: CachedMode;
  /** Whether this client can keep working from its local cache when Exchange is down. */
  canEnterContinuityMode: boolean | 'unknown';
  /** A short name for people: "Classic Outlook for Windows". */
  label: string;
  /** Whether the pane should ask the user to confirm Cached Exchange Mode. */
  askForCachedModeConfirmation: boolean;
}

/** Mailbox types that are Exchange mailboxes (on premises or Exchange Online); the others have no Cached Exchange Mode. */
const EXCHANGE_ACCOUNTS = new Set(['enterprise', 'office365']);

function kindOf(hostName: string | null, platform: string | null): ClientKind {
  switch (hostName) {
    case 'Outlook':
      // "Outlook" is reported by both classic Outlook on Windows and Outlook on Mac: the platform tells them apart.
      if (platform === 'PC') return 'classicWindows';
      if (platform === 'Mac') return 'mac';
      return 'unknown';
    case 'newOutlookWindows':
      return 'newOutlookWindows';
    case 'OutlookWebApp':
      return 'web';
    case 'OutlookIOS':
    case 'OutlookAndroid':
      return 'mobile';
    default:
      // No (or an unfamiliar) host name: only the platform is left to go on.
      if (platform === 'iOS' || platform === 'Android') return 'mobile';
      return 'unknown';
  }
}

const LABELS: Record<ClientKind, string> = {
  classicWindows: 'Classic Outlook for Windows',
  mac: 'Outlook for Mac',
  newOutlookWindows: 'New Outlook for Windows',
  web: 'Outlook on the web',
  mobile: 'Outlook mobile',
  unknown: 'Unrecognised Outlook client',
};

export function classifyClient(facts: ClientFacts, answer: CachedModeAnswer = null): ClientClassification {
  const kind = kindOf(facts.hostName, facts.platform);
  const label = LABELS[kind];
  switch (kind) {
    case 'classicWindows': {
      // Cached Exchange Mode exists only for Exchange mailboxes. An unknown account type (accountType needs
      // Mailbox 1.6; volume-licensed Outlook 2016 lacks it) is treated as possibly Exchange.
      const exchange = facts.accountType === null || EXCHANGE_ACCOUNTS.has(facts.accountType);
      if (!exchange) {
        return { kind, label, cachedMode: 'notApplicable', canEnterContinuityMode: false, askForCachedModeConfirmation: false };
      }
      const cachedMode: CachedMode = answer ?? 'unknown';
      return {
        kind,
        label,
        cachedMode,
        canEnterContinuityMode: cachedMode === 'confirmed' ? true : cachedMode === 'notConfirmed' ? false : 'unknown',
        askForCachedModeConfirmation: true,
      };
    }
    case 'mac':
      // Outlook for Mac always keeps a local copy of the mailbox.
      return { kind, label, cachedMode: 'always', canEnterContinuityMode: true, askForCachedModeConfirmation: false };
    case 'newOutlookWindows':
    case 'web':
    case 'mobile':
      // No classic Cached Exchange Mode: these clients stop when Exchange does.
      return { kind, label, cachedMode: 'notApplicable', canEnterContinuityMode: false, askForCachedModeConfirmation: false };
    case 'unknown':
      return { kind, label, cachedMode: 'unknown', canEnterContinuityMode: 'unknown', askForCachedModeConfirmation: false };
  }
}
