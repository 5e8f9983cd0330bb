/** Contract of administrators' two-factor sign-in: set-up, confirmation, turning it off, the tenant's requirement (server/auth/two-factor-routes.ts). */
import { z } from 'zod';
import { enableBody, twoFactorPolicyBody } from '../../auth/two-factor-routes';
import type { Contract } from './contract';

const State = z.object({ enabled: z.boolean(), required: z.boolean(), recoveryCodesLeft: z.number().int() });

export function registerTwoFactor(c: Contract): void {
  c.operation({
    method: 'get',
    path: '/api/auth/two-factor',
    summary: 'Whether the signed-in administrator has two-factor sign-in and whether the tenant requires it',
    access: 'reader',
    ok: { status: 200, schema: State },
  });
  c.operation({
    method: 'post',
    path: '/api/auth/two-factor/setup',
    summary: 'Start setting up TOTP: a new secret and its otpauth URI to scan',
    access: 'reader',
    ok: { status: 200, schema: z.object({ secret: z.string(), uri: z.string() }) },
  });
  c.operation({
    method: 'post',
    path: '/api/auth/two-factor/enable',
    summary: 'Confirm the set-up with a code; answers the recovery codes (shown once)',
    access: 'reader',
    body: enableBody,
    ok: { status: 200, schema: z.object({ recoveryCodes: z.array(z.string()) }) },
    errors: [409],
  });
  c.operation({
    method: 'delete',
    path: '/api/auth/two-factor',
    summary: 'Turn one’s own two-factor sign-in off (409 while the tenant requires it)',
    access: 'reader',
    ok: { status: 204, description: 'Turned off' },
    errors: [409],
  });
  c.operation({
    method: 'post',
    path: '/api/admins/:id/two-factor/reset',
    summary: 'Turn another administrator’s two-factor sign-in off (a lost device)',
    access: 'full',
    ok: { status: 204, description: 'Turned off' },
  });
  c.operation({
    method: 'put',
    path: '/api/auth/two-factor/policy',
    summary: 'Require two-factor sign-in for every administrator of the tenant (or not)',
    access: 'full',
    body: twoFactorPolicyBody,
    ok: { status: 200, schema: z.object({ required: z.boolean() }) },
    errors: [409],
  });
}
