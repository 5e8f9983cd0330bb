/** The pinned request body of /api/protection/policies (create and replace): every bad field is named. */
import { z } from 'zod';
import { isEmailAddress, isHostName } from '../http/addresses';

const target = z
  .object({
    type: z.enum(['address', 'domain', 'group']),
    value: z.string().trim().min(1, 'is required').max(320),
  })
  .superRefine((t, ctx) => {
    if (t.type === 'address' && !isEmailAddress(t.value)) ctx.addIssue({ code: 'custom', path: ['value'], message: 'must be an email address' });
    if (t.type === 'domain' && !isHostName(t.value)) ctx.addIssue({ code: 'custom', path: ['value'], message: 'must be a domain name' });
  })
  .transform((t) => (t.type === 'group' ? t : { ...t, value: t.value.toLowerCase() }));

const targetSet = z
  .object({ include: z.array(target).max(200).default([]), exclude: z.array(target).max(200).default([]) })
  .default({ include: [], exclude: [] });
const action = z.enum(['deliver', 'tag', 'quarantine']);

export const DEFAULT_ACTIONS = { spam: 'tag', phishing: 'quarantine', malware: 'quarantine', spoof: 'quarantine', impersonation: 'tag' } as const;
export const DEFAULT_SCANNER_DOWN = { action: 'hold', holdMinutes: 30 } as const;

export const policyBody = z.object({
  name: z.string().trim().min(1, 'is required').max(100),
  // threatScanOnly is a tenant mode: the default policy's only (422 on a targeted policy).
  mode: z.enum(['threatScanOnly', 'protect', 'monitor', 'disabled']),
  priority: z.number().int().min(1).max(1000).default(100),
  matchOn: z.enum(['envelope', 'header', 'both']).default('both'),
  senders: targetSet,
  recipients: targetSet,
  actions: z
    .object({
      spam: action.default(DEFAULT_ACTIONS.spam),
      phishing: action.default(DEFAULT_ACTIONS.phishing),
      malware: action.default(DEFAULT_ACTIONS.malware),
      // `reject`: refuse a DMARC p=reject failure at end of DATA (550 5.7.1), the one verdict known before the 250.
      spoof: z.enum(['deliver', 'tag', 'quarantine', 'reject']).default(DEFAULT_ACTIONS.spoof),
      impersonation: action.default(DEFAULT_ACTIONS.impersonation),
    })
    .strict()
    .default(DEFAULT_ACTIONS),
  scannerDown: z
    .object({ action: z.enum(['hold', 'tag']), holdMinutes: z.number().int().min(0).max(1440).default(30) })
    .refine((s) => s.action !== 'hold' || s.holdMinutes > 0, { path: ['holdMinutes'], message: 'must be at least 1 when holding' })
    .default(DEFAULT_SCANNER_DOWN),
});
export type PolicyBody = z.infer<typeof policyBody>;
