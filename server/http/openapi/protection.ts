/** Contract of inbound protection's settings: policies, the scanning engines and the VIP list (server/protection/policy-routes.ts). */
import { z } from 'zod';
import { vipsBody } from '../../protection/policy-routes';
import { policyBody } from '../../protection/policy-schema';
import type { Contract } from './contract';

const Mode = z.enum(['threatScanOnly', 'protect', 'monitor', 'disabled']);
const Action = z.enum(['deliver', 'tag', 'quarantine']);
const Target = z.object({ type: z.enum(['address', 'domain', 'group']), value: z.string() });
const TargetSet = z.object({ include: z.array(Target), exclude: z.array(Target) });
const Policy = z
  .object({
    id: z.string(),
    tenantId: z.string(),
    name: z.string(),
    isDefault: z.boolean(),
    mode: Mode,
    priority: z.number().int(),
    matchOn: z.enum(['envelope', 'header', 'both']),
    senders: TargetSet,
    recipients: TargetSet,
    actions: z.object({
      spam: Action,
      phishing: Action,
      malware: Action,
      spoof: z.enum(['deliver', 'tag', 'quarantine', 'reject']),
      impersonation: Action,
    }),
    scannerDown: z.object({ action: z.enum(['hold', 'tag']), holdMinutes: z.number().int() }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'ProtectionPolicy' });
const Health = z.enum(['ok', 'down', 'unavailable', 'notConfigured']);
const Vips = z.object({ vips: z.array(z.object({ displayName: z.string(), address: z.string().nullable() })) });

export function registerProtection(c: Contract): void {
  c.operation({
    method: 'get',
    path: '/api/protection/policies',
    summary: 'The tenant’s protection mode and its policies (the default one included)',
    access: 'reader',
    ok: { status: 200, schema: z.object({ mode: Mode, policies: z.array(Policy) }) },
  });
  c.operation({
    method: 'get',
    path: '/api/protection/engines',
    summary: 'The scanning engines’ health (rspamd `unavailable` = scanning is off)',
    access: 'reader',
    ok: { status: 200, schema: z.object({ rspamd: Health, rspamdSource: z.enum(['external', 'embedded', 'unavailable', 'off']), clamd: Health }) },
  });
  c.operation({
    method: 'get',
    path: '/api/protection/vips',
    summary: 'Display names outsiders must not use (besides every directory user’s)',
    access: 'reader',
    ok: { status: 200, schema: Vips },
  });
  c.operation({
    method: 'put',
    path: '/api/protection/vips',
    summary: 'Replace the VIP list',
    access: 'full',
    body: vipsBody,
    ok: { status: 200, schema: Vips },
  });
  c.operation({
    method: 'post',
    path: '/api/protection/policies',
    summary: 'Add a policy (422 names an unknown group)',
    access: 'full',
    body: policyBody,
    ok: { status: 201, schema: Policy },
  });
  c.operation({ method: 'get', path: '/api/protection/policies/:id', summary: 'One policy', access: 'reader', ok: { status: 200, schema: Policy } });
  c.operation({
    method: 'put',
    path: '/api/protection/policies/:id',
    summary: 'Replace a policy',
    access: 'full',
    body: policyBody,
    ok: { status: 200, schema: Policy },
  });
  c.operation({
    method: 'delete',
    path: '/api/protection/policies/:id',
    summary: 'Delete a policy (409: the default policy)',
    access: 'full',
    ok: { status: 204, description: 'Deleted' },
    errors: [409],
  });
}
