/**
 * API rate limits per client address and per identity (the credential presented: a session cookie or
 * bearer token, hashed), answered 429 problem+json with Retry-After.
 *
 * Store: rate-limiter-flexible's memory store, i.e. per process. Its Mongo store was not chosen: it
 * counts with findOneAndUpdate/$inc filtered on `key`, which on FerretDB v1 is a collection scan per
 * request and not atomic under concurrency (docs/ARCHITECTURE.md). With N processes a client gets up
 * to N times the budget; the budgets that guard secrets (sign-in, reset codes) are the cross-process,
 * insert-claimed ones of server/auth/throttle.ts. A Redis store is the cross-process option once
 * REDIS_URL exists.
 */
import { createHash } from 'node:crypto';
import type { RequestHandler } from 'express';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { tooManyRequests } from './problem';

export interface RateLimitOptions {
  perAddressPerMinute?: number;
  perIdentityPerMinute?: number;
}

function credentialOf(headers: { authorization?: string; cookie?: string }): string | null {
  const bearer = /^Bearer\s+(\S+)$/i.exec(headers.authorization ?? '')?.[1];
  const session = /(?:^|;\s*)lifeboat_session=([^;]+)/.exec(headers.cookie ?? '')?.[1];
  const credential = bearer ?? session;
  return credential ? createHash('sha256').update(credential).digest('hex').slice(0, 32) : null;
}

export function apiRateLimit(options: RateLimitOptions = {}): RequestHandler {
  const byAddress = new RateLimiterMemory({ points: options.perAddressPerMinute ?? 3000, duration: 60 });
  const byIdentity = new RateLimiterMemory({ points: options.perIdentityPerMinute ?? 1200, duration: 60 });
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
