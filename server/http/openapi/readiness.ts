/** Contract of the readiness checks: DNS (SPF/DMARC), the SPF region setting, users' cloud-password coverage (server/readiness/). */
import { z } from 'zod';
import { exchangeQuery, settingsBody } from '../../readiness/routes';
import type { Contract } from './contract';

const Finding = z.object({ status: z.enum(['pass', 'warn', 'fail', 'unknown']), record: z.string().nullable(), detail: z.string() }).loose();
const Dns = z.object({
  checkedAt: z.string(),
  spfInclude: z.string().nullable(),
  spfIncludeSource: z.string(),
  domains: z.array(z.object({ domain: z.string(), spf: Finding, dmarc: Finding }).loose()),
  /** Lifeboat's signing key: the selector record per domain (published or not) and Exchange Online's ARC trust line. */
  signing: z
    .object({
      selector: z.string(),
      sealerDomain: z.string().nullable(),
      exchangeOnline: z.string().nullable(),
      records: z.array(
        z
          .object({ domain: z.string(), name: z.string(), type: z.literal('TXT'), value: z.string() })
          .extend(Finding.shape)
          .loose(),
      ),
    })
    .nullable(),
});
const Settings = z
  .object({
    region: z.string().nullable(),
    customInclude: z.string().nullable(),
    spfInclude: z.string().nullable(),
    spfIncludeSource: z.string(),
    defaultInclude: z.string().nullable(),
    regions: z.array(z.object({ id: z.string(), include: z.string() })),
  })
  .meta({ id: 'ReadinessSettings' });
const Share = z.object({ users: z.number().int(), percent: z.number().nullable() });
const Users = z.object({ users: z.number().int(), cloudPassword: Share, smsOptIn: Share });

export function registerReadiness(c: Contract): void {
  c.operation({
    method: 'get',
    path: '/api/readiness/dns',
    summary: 'SPF, DMARC and Lifeboat’s DKIM/ARC selector records of the tenant’s domains, looked up now',
    access: 'reader',
    ok: { status: 200, schema: Dns },
  });
  c.operation({
    method: 'get',
    path: '/api/readiness/exchange',
    summary:
      'The Exchange Online set-up as far as it can be verified from outside: MX and SPF looked up now, Lifeboat’s ARC seal on the latest probe mail; what only Exchange knows, with the Get- command',
    access: 'reader',
    query: exchangeQuery,
    ok: {
      status: 200,
      schema: z.object({
        checkedAt: z.string(),
        lifeboatHost: z.string(),
        checks: z.array(
          z
            .object({
              id: z.string(),
              title: z.string(),
              state: z.enum(['verified', 'notVerified', 'cannotVerify']),
              detail: z.string(),
              command: z.string().nullable(),
            })
            .loose(),
        ),
      }),
    },
    errors: [422],
  });
  c.operation({
    method: 'get',
    path: '/api/readiness/settings',
    summary: 'The outbound relay region the SPF records must include',
    access: 'reader',
    ok: { status: 200, schema: Settings },
  });
  c.operation({
    method: 'put',
    path: '/api/readiness/settings',
    summary: 'Choose the relay region or a custom SPF include',
    access: 'full',
    body: settingsBody,
    ok: { status: 200, schema: Settings },
  });
  c.operation({
    method: 'get',
    path: '/api/readiness/users',
    summary: 'Users with a cloud password and SMS consent',
    access: 'reader',
    ok: { status: 200, schema: Users },
  });
}
