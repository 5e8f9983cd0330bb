/** Contract of the Sent Items write-back (server/sent-items/). */
import { z } from 'zod';
import type { Contract } from './contract';

const Run = z
  .object({
    state: z.enum(['never', 'running', 'done', 'unavailable', 'failed']),
    total: z.number().int().optional(),
    copied: z.number().int().optional(),
    skipped: z.number().int().optional(),
    failed: z.number().int().optional(),
    withoutAttachments: z.number().int().optional(),
    trigger: z.enum(['admin', 'eventEnded']).optional().describe('Who started the run: an administrator, or the end of a continuity event (once per event).'),
    lastError: z.string().nullable().optional(),
    reason: z.string().nullable().optional(),
    startedAt: z.string().optional(),
    finishedAt: z.string().nullable().optional(),
  })
  .meta({ id: 'SentItemsWriteBack' });
const Mine = z.object({
  copied: z.number().int(),
  lastCopiedAt: z.string().nullable(),
  state: z.string(),
  unavailableReason: z.string().nullable(),
});

export function registerSentItems(c: Contract): void {
  c.operation({
    method: 'get',
    path: '/api/sent-items/write-back',
    summary: 'Progress of copying what users sent through Lifeboat into their Exchange Sent Items',
    access: 'reader',
    ok: { status: 200, schema: Run },
  });
  c.operation({
    method: 'post',
    path: '/api/sent-items/write-back',
    summary: 'Copy what users sent through Lifeboat into their Exchange Sent Items (once per message)',
    access: 'basic',
    ok: { status: 202, schema: Run },
    errors: [409],
  });
  c.operation({
    method: 'get',
    path: '/api/me/sent-items',
    summary: 'How many of the user’s sent messages are in their Exchange Sent Items',
    access: 'user',
    ok: { status: 200, schema: Mine },
  });
}
