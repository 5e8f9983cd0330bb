/**
 * Revoking Outlook users' tokens, cheaply. Each user has a token generation (a document per user that
 * has ever been revoked); Lifeboat tokens carry the generation they were issued under, Entra tokens are
 * judged by their `iat` against the time of the last revocation. Checking a token reads no database: a
 * tenant's generations and its set of directory users are loaded once into memory, and dropped when
 * something changes (a revocation here, or the tenant's directory being re-read).
 *
 * Revoked by: a cloud password changed or reset, the user gone from the directory, an administrator's
 * "sign out everywhere". A revocation is the `user:tokens-revoked` reaction (../reactions/catalogue.ts):
 * every node forgets the tenant's state (`forget`) and checks its own sockets again. A node whose state is
 * behind (the message not there yet) never refuses a token issued since: a generation newer than the
 * one it holds makes it read the tenant's state again, and a new token's generation is read from the
 * database, not from this cache.
 */
import { Schema, type Connection } from 'mongoose';
import { defineModel } from '../db/connection';
import type { DirectoryService } from '../directory/service';

export interface TokenGenerationRecord {
  _id: string;
  tenantId: string;
  userId: string;
  generation: number;
  revokedAt: Date;
}

const generationSchema = new Schema<TokenGenerationRecord>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    userId: { type: String, required: true },
    generation: { type: Number, required: true },
    revokedAt: { type: Date, required: true },
  },
  { versionKey: false },
);
generationSchema.index({ tenantId: 1 });

export const tokenGenerationModel = (conn: Connection) => defineModel(conn, 'TokenGeneration', generationSchema);
export type TokenGenerationModel = ReturnType<typeof tokenGenerationModel>;

interface TenantState {
  users: Set<string>;
  revoked: Map<string, { generation: number; revokedAt: number }>;
}

/** A user's tokens were revoked (emitted once, on the node that revoked them). */
export type RevocationListener = (tenantId: string, userId: string) => Promise<void> | void;

export function createRevocation(deps: { generations: TokenGenerationModel; directory: DirectoryService; now: () => Date }) {
  const { generations, directory, now } = deps;
  const states = new Map<string, Promise<TenantState>>();
  // Bumped by every change of a tenant: a load that started before one is not kept (it may be stale).
  const versions = new Map<string, number>();
  const listeners: RevocationListener[] = [];

  function state(tenantId: string): Promise<TenantState> {
    let loading = states.get(tenantId);
    if (!loading) {
      const version = versions.get(tenantId) ?? 0;
      loading = (async () => {
        const [users, rows] = await Promise.all([directory.allUserIds(tenantId), generations.find({ tenantId }).lean<TokenGenerationRecord[]>()]);
        return { users: new Set(users), revoked: new Map(rows.map((r) => [r.userId, { generation: r.generation, revokedAt: r.revokedAt.getTime() }])) };
      })();
      states.set(tenantId, loading);
      loading.then(
        () => (versions.get(tenantId) ?? 0) !== version && states.get(tenantId) === loading && states.delete(tenantId),
        () => states.get(tenantId) === loading && states.delete(tenantId),
      );
    }
    return loading;
  }

  function forget(tenantId: string): void {
    versions.set(tenantId, (versions.get(tenantId) ?? 0) + 1);
    states.delete(tenantId);
  }

  return {
    /** The tenant's generations and directory users are read again at the next check (a change here or on another node). */
    forget,

    onRevoked(listener: RevocationListener): void {
      listeners.push(listener);
    },

    /** The generation a new Lifeboat token of this user is issued under. */
    async generation(tenantId: string, userId: string): Promise<number> {
      // From the database: this node's cache may not have heard of another node's revocation yet.
      const row = await generations.findById(`${tenantId}:${userId}`).lean<TokenGenerationRecord>();
      return row?.generation ?? 0;
    },

    /** Why the token is no longer good, or null when it is. `issuedAt` in ms (Entra tokens' iat). */
    async refusal(tenantId: string, userId: string, token: { generation?: number; issuedAt?: number }): Promise<string | null> {
      let s = await state(tenantId);
      // A token newer than what this node knows (issued after a revocation another node made): read again.
      if (token.generation !== undefined && token.generation > (s.revoked.get(userId)?.generation ?? 0)) {
        forget(tenantId);
        s = await state(tenantId);
      }
      if (!s.users.has(userId)) return 'the user is no longer in the directory';
      const revoked = s.revoked.get(userId);
      if (!revoked) return null;
      if (token.generation !== undefined) return token.generation === revoked.generation ? null : 'the token was revoked';
      return token.issuedAt !== undefined && token.issuedAt >= revoked.revokedAt ? null : 'the token was revoked';
    },

    /** Every token of the user issued until now is refused from now on; their sockets are disconnected. */
    async revoke(tenantId: string, userId: string): Promise<void> {
      // Not atomic under concurrency (FerretDB v1), and need not be: any bump changes the generation.
      // iat has second precision: revokedAt is rounded up to the next second so a token of this very second is refused too.
      const revokedAt = new Date(Math.ceil((now().getTime() + 1) / 1000) * 1000);
      await generations.updateOne({ _id: `${tenantId}:${userId}` }, { $inc: { generation: 1 }, $set: { tenantId, userId, revokedAt } }, { upsert: true });
      forget(tenantId);
      for (const listener of listeners) await listener(tenantId, userId);
    },
  };
}
export type Revocation = ReturnType<typeof createRevocation>;
