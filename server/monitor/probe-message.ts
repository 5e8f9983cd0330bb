/**
 * The continuity monitor's latest inbound probe message as the probe mailbox holds it (read through
 * Graph with its internetMessageHeaders): readiness checks on it that mail coming through Lifeboat carries
 * Lifeboat's ARC seal and that Exchange trusted it. Prefers a probe sent through the given route host
 * (Lifeboat's own), else the newest one that arrived. Reads only; a Graph failure is returned as text.
 */
import type { GraphApi } from '../directory/graph/client';
import type { ProbeMessage } from '../readiness/exchange';
import type { MonitorModels, MonitorRecord, ProbeRecord } from './model';

export function createProbeMessages(deps: { models: MonitorModels; graph: (tenantId: string) => Promise<GraphApi | null>; hostname: string }) {
  return async function latestInbound(tenantId: string, viaHost: string): Promise<ProbeMessage | null> {
    const arrived = await deps.models.probes
      .find({ tenantId, check: 'inbound', receivedAt: { $ne: null } })
      .sort({ receivedAt: -1 })
      .limit(50)
      .lean<ProbeRecord[]>();
    const host = viaHost.toLowerCase();
    const probe = arrived.find((p) => (p.route ?? '').toLowerCase().startsWith(`${host}:`)) ?? arrived[0];
    if (!probe) return null;
    const view = { probeId: probe._id, route: probe.route, receivedAt: probe.receivedAt!.toISOString() };
    const monitor = await deps.models.monitors.findById(probe.monitorId).lean<MonitorRecord>();
    const api = await deps.graph(tenantId);
    if (!monitor?.probeMailbox || !api) return { ...view, headers: null, error: 'the monitor or the Graph connection is gone' };
    // The same Message-ID the inbound check sent (server/monitor/checks.ts).
    const filter = encodeURIComponent(`internetMessageId eq '<${probe._id}@${deps.hostname}>'`);
    try {
      const found = await api.get<{ value?: { internetMessageHeaders?: { name: string; value: string }[] }[] }>(
        `/users/${encodeURIComponent(monitor.probeMailbox)}/messages?$filter=${filter}&$select=id,internetMessageHeaders&$top=1`,
      );
      const message = found.value?.[0];
      if (!message) return { ...view, headers: null, error: 'the probe message is no longer in the probe mailbox' };
      return { ...view, headers: message.internetMessageHeaders ?? [], error: null };
    } catch (err) {
      return { ...view, headers: null, error: (err as Error).message };
    }
  };
}
