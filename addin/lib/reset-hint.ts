/**
 * The reset page's hint for administrators: when this browser holds an admin session (the admin
 * page's cookie) and self-service reset is off for everyone, say so and where it is turned on. Users
 * without an admin session get nothing (the policy endpoint answers 401), so the page still tells an
 * anonymous caller nothing about who may reset.
 */
interface ResetPolicy {
  off: boolean;
  decidedBy: 'monitor' | 'event' | 'tenant';
}

export async function adminResetHint(baseUrl: string): Promise<string | null> {
  try {
    const res = await fetch(`${baseUrl.replace(/\/+$/, '')}/api/notify/reset-policy`, {
      credentials: 'same-origin',
      cache: 'no-store',
      headers: { accept: 'application/json' },
    });
    if (!res.ok) return null;
    const policy = (await res.json()) as ResetPolicy;
    if (!policy.off) return null;
    const why =
      policy.decidedBy === 'monitor'
        ? 'a continuity monitor’s Allow Cloud Password Reset says Never (admin page › Monitor › Edit configuration)'
        : 'the tenant default is Never (admin page › Notifications › Cloud password reset) and no current event allows it (an event’s Cloud password reset can)';
    return `For administrators: self-service reset is off for everyone now, because ${why}. Users who ask here get no code. Turn it on there, or set a user’s password in the admin page › Directory › Users › Set cloud password.`;
  } catch {
    return null;
  }
}
