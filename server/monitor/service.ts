/**
 * The continuity monitor's facade: composes its parts and is the only thing the rest of the server uses.
 *   configuration.ts  monitors as admins configure them, and their answers (suppress, cancel)
 *   addresses.ts      the monitors' own addresses (claims, the address book, mail interception)
 *   loop.ts           the window loop: claims each window once across processes, sweeps
 *   window.ts         one window: checks (checks.ts), decision (detector.ts), auto-activation
 *   alerting.ts       alerts and recovery notices with signed portal links (through alerts.ts)
 *   detection-log.ts  the detection log, its pages, CSV and series; the detection behind an event
 *   view.ts           a monitor as the API shows it
 */
import type { Logger } from 'pino';
import type { AuditService } from '../audit/service';
import type { Entra } from '../directory/graph/index';
import type { DirectoryService } from '../directory/service';
import type { EventService } from '../events/service';
import type { TargetGuard } from '../http/private-target';
import type { MailService } from '../mail/service';
import type { TenantService } from '../tenants/service';
import { createMonitorAddresses } from './addresses';
import { createAlerting } from './alerting';
import type { AlertSender } from './alerts';
import { createChecks } from './checks';
import { createMonitorConfiguration } from './configuration';
import type { MonitorContext } from './context';
import { createDetectionLog } from './detection-log';
import { createWindowLoop } from './loop';
import type { MonitorModels } from './model';
import { createMonitorView } from './view';
import { createWindowRunner } from './window';

export type { MonitorInput } from './configuration';
export type { LogFilter } from './detection-log';
export { LOG_CSV_COLUMNS } from './detection-log';

export interface MonitorOptions {
  models: MonitorModels;
  tenants: TenantService;
  directory: DirectoryService;
  events: EventService;
  /** Read only: the primary servers the inbound check sends to, and the receiver's own listeners (never probed). */
  mail: Pick<MailService, 'getSettings' | 'isOwnListener'>;
  /** The SSRF guard: the inbound check connects only to a primary server's checked address. */
  targets?: TargetGuard;
  entra: Entra;
  audit: AuditService;
  logger: Logger;
  secret: string;
  /** Where portal links point (LIFEBOAT_PUBLIC_URL). */
  publicUrl: string;
  /** The host name of the default monitor addresses and of inbound test messages. */
  hostname: string;
  /** More domains the server owns for monitor addresses (LIFEBOAT_MONITOR_DOMAINS). */
  monitorDomains?: string[];
  alerts: AlertSender;
  now?: () => Date;
  /** Milliseconds per configured minute (tests use short windows: 1000 makes a 2-minute window 2 s). */
  minuteMs?: number;
  /** How often the loop looks for windows to start. */
  tickMs?: number;
}

export function createMonitorService(options: MonitorOptions) {
  const ctx: MonitorContext = { models: options.models, logger: options.logger, now: options.now ?? (() => new Date()), minuteMs: options.minuteMs ?? 60_000 };
  const addresses = createMonitorAddresses(ctx);
  const view = createMonitorView(ctx, options.directory);
  const configuration = createMonitorConfiguration(ctx, { ...options, addresses, view });
  const alerting = createAlerting(ctx, options);
  const log = createDetectionLog(ctx, { load: configuration.load });
  const checks = createChecks({
    models: ctx.models,
    now: ctx.now,
    pollMs: Math.max(50, Math.min(2000, ctx.minuteMs / 30)),
    hostname: options.hostname,
    guard: options.targets,
    isOwnListener: options.mail.isOwnListener,
  });
  const window = createWindowRunner(ctx, { ...options, checks, alerting, log });
  const loop = createWindowLoop(ctx, { runWindow: window.runWindow, tickMs: options.tickMs ?? 1000 });

  return {
    /** Offered to mail by reactions/wiring.ts (the `mail:intercept` hook). */
    interceptor: addresses.interceptor,
    /** Told after this process claimed or released a monitor address (wired to `monitor:addresses-changed`). */
    onAddressesChanged: addresses.onChanged,
    /** The address book is read again at the next question (`monitor:addresses-changed` on any node). */
    forgetAddresses: addresses.forget,
    runWindow: window.runWindow,
    tick: loop.tick,
    sweep: loop.sweep,
    /** The notification channels (the notify capability plugs in here). */
    useAlertSender: alerting.useSender,
    start: loop.start,
    stop: loop.stop,

    list: configuration.list,
    get: configuration.get,
    /** For the portal and the alert flow: the record itself. */
    record: configuration.load,
    create: configuration.create,
    update: configuration.update,
    remove: configuration.remove,
    suppress: configuration.suppress,
    cancelAutoActivation: configuration.cancelAutoActivation,
    answered: configuration.answered,

    startEventFor: window.startEventFor,
    detectionOf: log.detectionOf,
    logDecision: log.logDecision,
    alert: alerting.get,
    log: log.log,
    exportCsv: log.exportCsv,
    series: log.series,
  };
}
export type MonitorService = ReturnType<typeof createMonitorService>;
