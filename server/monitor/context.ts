/**
 * What the parts of the monitor share: its models, its clock and its time unit. Built once by the facade
 * (./service.ts) and handed to each part; no part keeps state another part relies on.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { MonitorModels, MonitorRecord } from './model';

export interface MonitorContext {
  models: MonitorModels;
  logger: Logger;
  now: () => Date;
  /** Milliseconds per configured minute (tests use short windows). */
  minuteMs: number;
}

export const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);
export const newId = (prefix: string) => `${prefix}${randomBytes(8).toString('hex')}`;
export const windowMsOf = (ctx: MonitorContext, m: Pick<MonitorRecord, 'windowMinutes'>) => m.windowMinutes * ctx.minuteMs;
