/** Typed, defensive access to the Office.js host: readiness, client facts, requirement sets, item events. */
import type { ClientFacts } from './client';

export interface HostInfo {
  /** True when the pane runs inside Outlook (Office.onReady reported the Outlook host). */
  inOutlook: boolean;
  facts: ClientFacts;
  /** The signed-in mailbox's address, when Outlook tells it. */
  emailAddress: string | null;
}

function office(): typeof Office | undefined {
  return typeof Office === 'undefined' ? undefined : Office;
}

function str(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/** Resolves once Office.js is ready (or at once when office.js is missing: the pane opened outside Outlook). */
export async function waitForOffice(timeoutMs = 10_000): Promise<HostInfo> {
  const o = office();
  if (!o) return { inOutlook: false, facts: emptyFacts(), emailAddress: null };
  let host: string | null = null;
  await Promise.race([
    o.onReady().then((info) => {
      host = str(info?.host);
    }),
    new Promise((resolve) => setTimeout(resolve, timeoutMs)),
  ]);
  return { inOutlook: host === 'Outlook', facts: readClientFacts(), emailAddress: readEmailAddress() };
}

export function emptyFacts(): ClientFacts {
  return { hostName: null, platform: null, accountType: null, hostVersion: null };
}

/** Reads the facts client classification needs; each is null when Office.js does not have it. */
export function readClientFacts(): ClientFacts {
  const o = office();
  const mailbox = o?.context?.mailbox;
  if (!mailbox) return emptyFacts();
  let accountType: string | null = null;
  try {
    accountType = str(mailbox.userProfile?.accountType);
  } catch {
    // Mailbox < 1.6: the property is missing or throws
  }
  return {
    hostName: str(mailbox.diagnostics?.hostName),
    platform: str(o?.context?.diagnostics?.platform),
    accountType,
    hostVersion: str(mailbox.diagnostics?.hostVersion) ?? str(o?.context?.diagnostics?.version),
  };
}

function readEmailAddress(): string | null {
  try {
    return str(office()?.context?.mailbox?.userProfile?.emailAddress);
  } catch {
    return null;
  }
}

/** `Office.context.requirements.isSetSupported`, false when the host cannot tell. */
export function isSetSupported(name: string, minVersion: string): boolean {
  try {
    return Boolean(office()?.context?.requirements?.isSetSupported(name, minVersion));
  } catch {
    return false;
  }
}

/** The item open in Outlook (read or compose), or null (no item, or outside Outlook). */
export function currentItem(): Office.Item | null {
  try {
    return (office()?.context?.mailbox?.item as Office.Item | null | undefined) ?? null;
  } catch {
    return null;
  }
}

/**
 * Calls `onChange` when the user selects another item while the pane is pinned (Mailbox 1.5).
 * Returns a function that removes the handler.
 */
export function onItemChanged(onChange: () => void): () => void {
  const o = office();
  const mailbox = o?.context?.mailbox;
  if (!o || !mailbox || !isSetSupported('Mailbox', '1.5')) return () => {};
  try {
    mailbox.addHandlerAsync(o.EventType.ItemChanged, onChange);
  } catch {
    return () => {};
  }
  return () => {
    try {
      mailbox.removeHandlerAsync(o.EventType.ItemChanged);
    } catch {
      // the host is gone
    }
  };
}
