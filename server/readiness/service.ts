/** Readiness figures the admin page cannot compute from other APIs: how many users can sign in without Entra. */
import type { DirectoryService } from '../directory/service';
import type { UserAuthService } from '../user-auth/service';

/** Opted-in users among the given ids who have a number to receive SMS at (server/notify consents). */
type OptedInRecipients = (tenantId: string, userIds: string[]) => Promise<{ userId: string }[]>;

export function createReadinessService(deps: { directory: DirectoryService; userAuth: UserAuthService; smsOptedIn: OptedInRecipients }) {
  return {
    async users(tenantId: string) {
      const users = await deps.directory.allUserIds(tenantId);
      const known = new Set(users);
      // Credentials of users no longer in the directory do not count.
      const withPassword = new Set((await deps.userAuth.cloudPasswordUserIds(tenantId)).filter((id) => known.has(id))).size;
      const optedIn = (await deps.smsOptedIn(tenantId, users)).length;
      return {
        users: users.length,
        cloudPassword: { users: withPassword, percent: percentOf(withPassword, users.length) },
        smsOptIn: { users: optedIn, percent: percentOf(optedIn, users.length) },
      };
    },
  };
}
function percentOf(part: number, whole: number): number | null {
  return whole ? Math.round((part / whole) * 1000) / 10 : null;
}
export type ReadinessService = ReturnType<typeof createReadinessService>;
