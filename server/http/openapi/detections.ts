/** Contract of the detections log (verdicts and users' phishing reports), its CSV and series, and Report phishing (server/protection/detection-routes.ts). */
import { z } from 'zod';
import { detectionsQuery, exportQuery, reportPhishingBody, seriesQuery } from '../../protection/detection-routes';
import { VERDICTS } from '../../protection/verdict';
import type { Contract } from './contract';

const Detection = z
  .object({
    id: z.string(),
    kind: z.enum(['verdict', 'report']),
    at: z.string(),
    verdict: z.enum(VERDICTS).nullable(),
    actions: z.array(z.string()),
    mailFrom: z.string(),
    from: z.string(),
    subject: z.string(),
    recipients: z.array(z.string()),
    reasons: z.array(z.string()),
    score: z.number().nullable(),
    auth: z.object({ spf: z.string(), dkim: z.string(), dmarc: z.string(), arc: z.string() }).nullable(),
    reportedBy: z.string().nullable(),
    comment: z.string(),
  })
  .meta({ id: 'Detection' });
const Counts = z.object(Object.fromEntries(VERDICTS.map((v) => [v, z.number().int()])));
const Series = z.object({
  range: z.enum(['24h', '7d']),
  bucketHours: z.number().int(),
  points: z.array(z.object({ at: z.string(), counts: Counts })),
});

const PhishingReport = z.object({ id: z.string(), at: z.string(), alreadyReported: z.boolean() }).meta({ id: 'PhishingReport' });

export function registerDetections(c: Contract): void {
  c.operation({
    method: 'get',
    path: '/api/protection/detections',
    summary: 'The detections log: verdicts and users’ phishing reports, newest first (keyset pages)',
    access: 'reader',
    query: detectionsQuery,
    ok: { status: 200, schema: z.object({ items: z.array(Detection), nextCursor: z.string().nullable() }) },
  });
  c.operation({
    method: 'get',
    path: '/api/protection/detections/export.csv',
    summary: 'The detections log as CSV (formula-safe cells, UTF-8 with BOM)',
    access: 'reader',
    query: exportQuery,
    ok: { status: 200, contentType: 'text/csv' },
  });
  c.operation({
    method: 'get',
    path: '/api/protection/detections/series',
    summary: 'Verdicts per hour over 24 hours, or per 6 hours over 7 days',
    access: 'reader',
    query: seriesQuery,
    ok: { status: 200, schema: Series },
  });
  c.operation({
    method: 'post',
    path: '/api/me/mailbox/:id/report-phishing',
    summary: 'Report a message of the user’s mailbox as phishing (recorded once per user and message, shown to admins)',
    access: 'user',
    body: reportPhishingBody,
    ok: [
      { status: 201, description: 'Reported now', schema: PhishingReport },
      { status: 200, description: 'This user had already reported it: the first report stands', schema: PhishingReport },
    ],
    errors: [404],
  });
}
