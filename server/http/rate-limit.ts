/**
 * API rate limits per client address and per identity (the credential presented: a session cookie or
 * bearer token, hashed), answered 429 problem+json with Retry-After.
 *
 * Store: with REDIS_URL (several nodes), rate-limiter-flexible's Redis store, so every node counts
 * against one budget (atomic INCR with expiry in Redis); while Redis cannot be reached each node counts
 * in memory (the insurance limiter) rather than letting requests wait or fail. Without REDIS_URL (one
 * node) the memory store. Its Mongo store is not used: it counts with findOneAndUpdate/$inc filtered
 * on `key`, a collection scan per request on FerretDB v1 and not atomic under concurrency
 * (docs/ARCHITECTURE.md). The budgets that guard secrets (sign-in, reset codes) are the insert-claimed
 * ones of server/auth/throttle.ts, in the database, shared by every node with or without Redis.
 */
import { createHash } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { tooManyRequests } from './problem';

export interface RateLimitOptions {
  perAddressPerMinute?: number;
  perIdentityPerMinute?: number;
  /** Several nodes: the Redis connection every node counts on (cluster/redis.ts); unset: this process's memory. */
  redis?: Redis;
}

function limiter(points: number, name: string, redis: Redis | undefined): RateLimiterAbstract {
  const memory = new RateLimiterMemory({ points, duration: 60, keyPrefix: name });
  if (!redis) return memory;
  return new RateLimiterRedis({
    storeClient: redis,
    points,
    duration: 60,
    keyPrefix: `lifeboat:rate:${name}`,
    insuranceLimiter: memory,
    rejectIfRedisNotReady: true,
  });
}

function credentialOf(headers: { authorization?: string; cookie?: string }): string | null {
  const bearer = /^Bearer\s+(\S+)$/i.exec(headers.authorization ?? '')?.[1];
  const session = /(?:^|;\s*)lifeboat_session=([^;]+)/.exec(headers.cookie ?? '')?.[1];
  const credential = bearer ?? session;
  return credential ? createHash('sha256').update(credential).digest('hex').slice(0, 32) : null;
}

export function apiRateLimit(options: RateLimitOptions = {}): RequestHandler {
  const byAddress = limiter(options.perAddressPerMinute ?? 3000, 'address', options.redis);
  const byIdentity = limiter(options.perIdentityPerMinute ?? 1200, 'identity', options.redis);
  return async (req, res, next) => {
    try {
      await byAddress.consume(req.ip ?? 'unknown');
      const identity = credentialOf(req.headers);
      if (identity) await byIdentity.consume(identity);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      throw tooManyRequests(Math.max(1, Math.ceil(err.msBeforeNext / 1000)), 'Too many requests. Slow down and try again shortly.');
    }
    next();
  };
}
