/** The Threat Scan capability as the rest of Lifeboat sees it (composed in server/services.ts). */
import type { Connection } from 'mongoose';
import type { Logger } from 'pino';
import type { AdminService } from '../auth/admins';
import type { AuditService } from '../audit/service';
import type { Entra } from '../directory/graph/index';
import type { DirectoryService } from '../directory/service';
import type { PolicyService } from '../protection/policies';
import type { QuarantineService } from '../protection/quarantine';
import { createContinuousProtection, type ContinuousOptions } from './continuous';
import { continuousModels } from './continuous-model';
import { NO_JUDGE, type MessageJudge } from './judge';
import { threatScanModels } from './model';
import { createGraphRelease } from './release';
import { createRemediation } from './remediation';
import { buildReport, emailAdmins, reportCsv, reportText, type NotifyEmail } from './report';
import { createThreatScanRunner, type ThreatScanOptions } from './service';

export type { MessageJudge } from './judge';

export function createThreatScanService(
  conn: Connection,
  deps: {
    entra: Entra;
    directory: DirectoryService;
    audit: AuditService;
    admins: AdminService;
    notify: NotifyEmail;
    logger: Logger;
    /** The protection pipeline (server/protection); without one every message is `unscanned`. */
    judge?: MessageJudge;
    /** The protection policies and quarantine continuous protection applies (server/protection). */
    protection?: { policies: Pick<PolicyService, 'resolveFor' | 'tenantMode'>; quarantine: Pick<QuarantineService, 'hold'> };
    publicUrl?: string;
    now?: () => Date;
    options?: ThreatScanOptions & { continuous?: ContinuousOptions };
  },
) {
  const now = deps.now ?? (() => new Date());
  const models = threatScanModels(conn);
  const publicUrl = deps.publicUrl ?? 'http://localhost:3000';
  const runner = createThreatScanRunner({
    models,
    entra: deps.entra,
    directory: deps.directory,
    audit: deps.audit,
    logger: deps.logger,
    judge: deps.judge ?? NO_JUDGE,
    now,
    options: deps.options,
  });
  const mailer = { admins: deps.admins, notify: deps.notify, logger: deps.logger };
  const emails = new Set<Promise<void>>();
  const track = (p: Promise<void>) => {
    const t = p.catch((err) => deps.logger.error({ err }, 'threat scan: an admin email failed')).finally(() => emails.delete(t));
    emails.add(t);
  };
  runner.onFinished(async (scan) => {
    const { subject, text } = reportText(await buildReport(models, scan), publicUrl);
    track(emailAdmins(mailer, scan.tenantId, { subject, text, purpose: 'threatScan.report', key: `threat-scan:${scan._id}:${scan.run}` }));
  });
  const remediation = createRemediation({
    runner,
    audit: deps.audit,
    logger: deps.logger,
    now,
    onFinished: async (view, tenantId) => {
      const verb = view.action === 'undo' ? 'Undo of Remove Threats' : `Remove Threats (${view.action})`;
      track(
        emailAdmins(mailer, tenantId, {
          subject: `${verb} finished: ${view.done} of ${view.total} message(s)`,
          text: `${verb} for threat scan ${view.scanId} finished: ${view.done} done, ${view.failed} failed of ${view.total}.\n${view.errors.map((e) => `  ${e.id}: ${e.error}`).join('\n')}`,
          purpose: 'threatScan.remediation',
          key: `threat-scan-remediation:${view.id}`,
        }),
      );
    },
  });
  const cModels = continuousModels(conn);
  const continuous = deps.protection
    ? createContinuousProtection({
        models: cModels,
        runner,
        directory: deps.directory,
        policies: deps.protection.policies,
        quarantine: deps.protection.quarantine,
        connections: deps.entra.connections,
        judge: deps.judge ?? NO_JUDGE,
        audit: deps.audit,
        logger: deps.logger,
        now,
        options: deps.options?.continuous,
      })
    : null;
  return {
    ...runner,
    remediation,
    /** Continuous protection through Graph delta (null when no protection service was composed). */
    continuous,
    /** What the quarantine uses to read and release a message held in a mailbox (moved back to its folder). */
    mailboxRelease: createGraphRelease({ runner, models: cModels }),
    async report(tenantId: string, id: string) {
      return buildReport(models, await runner.getScan(tenantId, id));
    },
    async reportCsv(tenantId: string, id: string) {
      return reportCsv(await buildReport(models, await runner.getScan(tenantId, id)));
    },
    start(): void {
      runner.start();
      void remediation.resumePending().catch((err) => deps.logger.error({ err }, 'threat scan: resuming remediations failed'));
    },
    async stop(): Promise<void> {
      await runner.stop();
      await continuous?.stop();
      await remediation.settled();
      await Promise.all([...emails]);
    },
  };
}
export type ThreatScanService = ReturnType<typeof createThreatScanService>;
