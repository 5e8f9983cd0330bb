/**
 * "Sign in with Microsoft" in the web inbox, browser side. The server does the whole OpenID Connect
 * flow (server/inbox/entra-sign-in.ts): this only asks whether it is offered for the address typed,
 * sends the browser to `/auth/entra/start`, and takes the Lifeboat token over once the browser is back
 * (`/?signed-in=microsoft`, from a one-time HttpOnly cookie). No Microsoft token ever reaches the page.
 */
import { useEffect, useState } from 'react';

export interface SignInOptions {
  microsoft: boolean;
  reason: string | null;
}

const LOOKS_LIKE_ADDRESS = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const ASK_AFTER_MS = 350;
export const SIGNED_IN_MARK = 'signed-in';
const TYPE_FIRST =
  'Use the Lifeboat password your administrator gave you. If your organisation lets you sign in with Microsoft here, a “Sign in with Microsoft” button appears once you type your work email address.';

/** Whether Microsoft sign-in is offered for the address being typed (asked a moment after typing stops). */
export function useMicrosoftSignIn(baseUrl: string) {
  const base = baseUrl.replace(/\/+$/, '');
  const [address, setAddress] = useState('');
  const [options, setOptions] = useState<SignInOptions | null>(null);

  useEffect(() => {
    const typed = address.trim();
    setOptions(null);
    if (!LOOKS_LIKE_ADDRESS.test(typed)) return;
    const abort = new AbortController();
    const timer = setTimeout(async () => {
      try {
        const res = await fetch(`${base}/api/inbox/sign-in-options?${new URLSearchParams({ address: typed })}`, { signal: abort.signal, cache: 'no-store' });
        if (res.ok) setOptions((await res.json()) as SignInOptions);
      } catch {
        // offline or aborted: the cloud password is still there
      }
    }, ASK_AFTER_MS);
    return () => {
      clearTimeout(timer);
      abort.abort();
    };
  }, [base, address]);

  const start = async () => {
    window.location.assign(`${base}/auth/entra/start?${new URLSearchParams({ address: address.trim() })}`);
    // The page is leaving: the button stays busy until it has.
    await new Promise(() => {});
  };

  return {
    onEmailChange: setAddress,
    onMicrosoft: options?.microsoft ? start : null,
    note: options ? options.reason : TYPE_FIRST,
  };
}

/** After the Microsoft sign-in: whether this load is the way back from it (and the mark taken off the URL). */
export function backFromMicrosoft(): boolean {
  const url = new URL(window.location.href);
  if (url.searchParams.get(SIGNED_IN_MARK) !== 'microsoft') return false;
  url.searchParams.delete(SIGNED_IN_MARK);
  window.history.replaceState(null, '', `${url.pathname}${url.search}${url.hash}`);
  return true;
}

/** The Lifeboat token of the finished sign-in, once (the server clears its hand-over); null when there is none. */
export async function takeOverMicrosoftSignIn(baseUrl: string): Promise<{ token: string; expiresAt: string; email: string } | null> {
  try {
    const res = await fetch(`${baseUrl.replace(/\/+$/, '')}/api/inbox/entra-session`, { method: 'POST', credentials: 'same-origin', cache: 'no-store' });
    if (!res.ok) return null;
    const body = (await res.json()) as { token?: unknown; expiresAt?: unknown; email?: unknown };
    return typeof body.token === 'string' && typeof body.expiresAt === 'string' && typeof body.email === 'string'
      ? { token: body.token, expiresAt: body.expiresAt, email: body.email }
      : null;
  } catch {
    return null;
  }
}
