/**
 * The two checks of a window, each run until the window's deadline:
 *
 *  - outbound: Graph `POST /users/{probe}/sendMail` (Mail.Send) from the probe mailbox to the
 *    monitor's own address; the test message names its probe id in the subject and in an
 *    X-Lifeboat-Probe header; Lifeboat's SMTP receiver records its arrival (latency = received − sent);
 *  - inbound: a uniquely identified message sent by SMTP to each primary route, its arrival
 *    confirmed in the probe mailbox through Graph (`GET /users/{probe}/messages?$filter=
 *    internetMessageId eq '…'`, Mail.ReadBasic.All); latency = receivedDateTime − sent.
 */
import { randomBytes } from 'node:crypto';
import nodemailer from 'nodemailer';
import type { GraphApi } from '../directory/graph/client';
import { ANY_TARGET, PrivateTargetError, type TargetGuard } from '../http/private-target';
import { sanitisedReply, type SmtpError } from '../mail/delivery';
import type { ServerAddress } from '../mail/model';
import type { LogRecord, MonitorModels, MonitorRecord, Outcome } from './model';

/** One check's result, as the detection log records it. */
export type CheckRow = Pick<LogRecord, 'check' | 'route' | 'probeId' | 'address' | 'latencyMs' | 'outcome' | 'error'> & { check: 'outbound' | 'inbound' };

export interface CheckDeps {
  models: MonitorModels;
  now: () => Date;
  /** How often arrival is looked for (the database for outbound, Graph for inbound). */
  pollMs: number;
  hostname: string;
  /**
   * The SSRF guard (server/http/private-target.ts): a primary server is resolved and refused at probe
   * time when private or this server itself (a name may resolve elsewhere since it was saved).
   */
  guard?: TargetGuard;
  /** Lifeboat's own SMTP listeners (server/mail/own-listener.ts): probing one would loop back into the receiver. */
  isOwnListener?: (address: string, port: number) => boolean;
}

export const newProbeId = () => randomBytes(12).toString('hex');
export const PROBE_HEADER = 'X-Lifeboat-Probe';
const PROBE_IN_HEADER = /^x-lifeboat-probe:[ \t]*([0-9a-f]{24})\s*$/im;
const PROBE_IN_SUBJECT = /^subject:.*Lifeboat probe ([0-9a-f]{24})/im;

/** The probe id a received test message names (header first, then subject), or null. */
export function probeIdOf(raw: Buffer): string | null {
  const head =
    raw
      .subarray(0, 64 * 1024)
      .toString('utf8')
      .split(/\r?\n\r?\n/)[0] ?? '';
  const unfolded = head.replace(/\r?\n[ \t]+/g, ' ');
  return PROBE_IN_HEADER.exec(unfolded)?.[1] ?? PROBE_IN_SUBJECT.exec(unfolded)?.[1] ?? null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
const message = (err: unknown) => ((err as Error)?.message ?? String(err)).replace(/\s+/g, ' ').slice(0, 500);

function judge(latencyMs: number, thresholdSeconds: number): Outcome {
  return latencyMs > thresholdSeconds * 1000 ? 'slow' : 'ok';
}

/** A direction's own latency threshold, else the monitor's shared one. */
export function latencyThreshold(m: Pick<MonitorRecord, 'latencyThresholdSeconds' | 'inbound' | 'outbound'>, check: 'inbound' | 'outbound'): number {
  return m[check].latencyThresholdSeconds ?? m.latencyThresholdSeconds;
}

export function createChecks(deps: CheckDeps) {
  const { models, now, pollMs } = deps;
  const guard = deps.guard ?? ANY_TARGET;

  /** The checked address to connect to (what was checked is what is used); throws PrivateTargetError. */
  async function checkedAddress(route: ServerAddress): Promise<string> {
    const address = await guard.resolveForConnect(route.host);
    if (deps.isOwnListener?.(address, route.port)) {
      throw new PrivateTargetError(`${route.host}:${route.port} is Lifeboat's own SMTP listener (a loop)`);
    }
    return address;
  }

  async function outbound(m: MonitorRecord, api: GraphApi, deadline: number): Promise<CheckRow> {
    const probeId = newProbeId();
    const row: CheckRow = {
      check: 'outbound',
      route: `Graph sendMail from ${m.probeMailbox}`,
      probeId,
      address: m.address,
      latencyMs: null,
      outcome: 'failed',
      error: null,
    };
    const sentAt = now();
    await models.probes.create({
      _id: probeId,
      tenantId: m.tenantId,
      monitorId: m._id,
      check: 'outbound',
      route: row.route,
      address: m.address,
      sentAt,
      receivedAt: null,
    });
    try {
      await api.post(`/users/${encodeURIComponent(m.probeMailbox)}/sendMail`, {
        message: {
          subject: `Lifeboat probe ${probeId}`,
          body: { contentType: 'Text', content: `Continuity monitor "${m.name}" outbound test message ${probeId}, sent ${sentAt.toISOString()}.` },
          toRecipients: [{ emailAddress: { address: m.address } }],
          internetMessageHeaders: [{ name: PROBE_HEADER, value: probeId }],
        },
        saveToSentItems: false,
      });
    } catch (err) {
      row.error = message(err);
      return row;
    }
    while (now().getTime() < deadline) {
      const probe = await models.probes.findById(probeId).lean();
      if (probe?.receivedAt) {
        row.latencyMs = Math.max(0, probe.receivedAt.getTime() - sentAt.getTime());
        row.outcome = judge(row.latencyMs, latencyThreshold(m, 'outbound'));
        if (row.outcome === 'slow') row.error = `latency above ${latencyThreshold(m, 'outbound')} s`;
        return row;
      }
      await sleep(Math.min(pollMs, deadline - now().getTime()));
    }
    row.error = 'the test message did not arrive at the monitor address within the window';
    return row;
  }

  async function inboundRoute(m: MonitorRecord, api: GraphApi, probeAddress: string, route: ServerAddress, deadline: number): Promise<CheckRow> {
    const probeId = newProbeId();
    const name = `${route.host}:${route.port}`;
    const row: CheckRow = { check: 'inbound', route: name, probeId, address: probeAddress, latencyMs: null, outcome: 'failed', error: null };
    const remaining = () => Math.max(1, deadline - now().getTime());
    const sentAt = now();
    await models.probes.create({
      _id: probeId,
      tenantId: m.tenantId,
      monitorId: m._id,
      check: 'inbound',
      route: name,
      address: probeAddress,
      sentAt,
      receivedAt: null,
    });
    let address: string;
    try {
      address = await checkedAddress(route);
    } catch (err) {
      // Refused or unresolvable: one short reason, never which (no oracle for what is where).
      row.error = `SMTP to ${name}: ${sanitisedReply(err as SmtpError)}`;
      return row;
    }
    const transport = nodemailer.createTransport({
      host: address,
      port: route.port,
      secure: false,
      name: deps.hostname,
      connectionTimeout: remaining(),
      greetingTimeout: remaining(),
      socketTimeout: remaining(),
      // The probe checks the route, not its certificate; the name is still the configured one (SNI).
      tls: { rejectUnauthorized: false, servername: route.host.replace(/^\[|\]$/g, '') },
      disableFileAccess: true,
      disableUrlAccess: true,
    });
    const internetMessageId = `<${probeId}@${deps.hostname}>`;
    try {
      await transport.sendMail({
        envelope: { from: m.address, to: [probeAddress] },
        from: m.address,
        to: probeAddress,
        subject: `Lifeboat probe ${probeId}`,
        messageId: internetMessageId,
        headers: { [PROBE_HEADER]: probeId },
        text: `Continuity monitor "${m.name}" inbound test message ${probeId} through ${name}, sent ${sentAt.toISOString()}.`,
      });
    } catch (err) {
      // The server's reply code and first line, or one generic reason (refused, timed out and reset look alike).
      row.error = `SMTP to ${name}: ${sanitisedReply(err as SmtpError)}`;
      return row;
    } finally {
      transport.close();
    }
    const filter = encodeURIComponent(`internetMessageId eq '${internetMessageId}'`);
    const path = `/users/${encodeURIComponent(m.probeMailbox)}/messages?$filter=${filter}&$select=id,internetMessageId,receivedDateTime&$top=1`;
    let lastError: string | null = null;
    while (now().getTime() < deadline) {
      try {
        const found = await api.get<{ value?: { receivedDateTime?: string }[] }>(path);
        const hit = found.value?.[0];
        if (hit) {
          const received = hit.receivedDateTime ? new Date(hit.receivedDateTime) : now();
          row.latencyMs = Math.max(0, received.getTime() - sentAt.getTime());
          row.outcome = judge(row.latencyMs, latencyThreshold(m, 'inbound'));
          if (row.outcome === 'slow') row.error = `latency above ${latencyThreshold(m, 'inbound')} s`;
          await models.probes.updateOne({ _id: probeId }, { $set: { receivedAt: received } });
          return row;
        }
        lastError = null;
      } catch (err) {
        lastError = message(err);
      }
      await sleep(Math.min(pollMs, deadline - now().getTime()));
    }
    row.error = lastError
      ? `accepted by ${name}, but the probe mailbox could not be read: ${lastError}`
      : `accepted by ${name}, but not in the probe mailbox within the window`;
    return row;
  }

  /** The probe mailbox's address (a UPN is used as it is; an object id is looked up). */
  async function probeAddress(m: MonitorRecord, api: GraphApi): Promise<string> {
    if (m.probeMailbox.includes('@')) return m.probeMailbox;
    const user = await api.get<{ mail?: string | null; userPrincipalName?: string }>(
      `/users/${encodeURIComponent(m.probeMailbox)}?$select=mail,userPrincipalName`,
    );
    const address = user.mail || user.userPrincipalName;
    if (!address) throw new Error('the probe mailbox has no mail address');
    return address;
  }

  async function inbound(m: MonitorRecord, api: GraphApi, routes: ServerAddress[], deadline: number): Promise<CheckRow[]> {
    let address: string;
    try {
      address = await probeAddress(m, api);
    } catch (err) {
      return [
        { check: 'inbound', route: null, probeId: null, address: m.probeMailbox, latencyMs: null, outcome: 'failed', error: `probe mailbox: ${message(err)}` },
      ];
    }
    return Promise.all(routes.map((route) => inboundRoute(m, api, address, route, deadline)));
  }

  return { outbound, inbound };
}
