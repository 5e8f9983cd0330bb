/** Readiness figures the admin page cannot compute from other APIs: how many users can sign in without Entra. */
import type { DirectoryService } from '../directory/service';
import type { UserAuthService } from '../user-auth/service';

export function createReadinessService(deps: { directory: DirectoryService; userAuth: UserAuthService }) {
  return {
    async users(tenantId: string) {
      const users = await deps.directory.allUserIds(tenantId);
      const known = new Set(users);
      // Credentials of users no longer in the directory do not count.
      const withPassword = new Set((await deps.userAuth.cloudPasswordUserIds(tenantId)).filter((id) => known.has(id))).size;
      return {
        users: users.length,
        cloudPassword: { users: withPassword, percent: users.length ? Math.round((withPassword / users.length) * 1000) / 10 : null },
        /** SMS consent is not recorded by this server yet: unknown, not zero. */
        smsOptIn: null as { users: number; percent: number | null } | null,
      };
    },
  };
}
export type ReadinessService = ReturnType<typeof createReadinessService>;
