/**
 * Tells the backend which Outlook client this is (and the user's Cached Exchange Mode answer) once
 * signed in, and again whenever that changes; a failed report is retried on the next change or mount.
 */
import { useEffect, useRef } from 'react';
import type { Api, ClientReport } from '../../lib/api';
import type { ClientClassification, ClientFacts } from '../../office/client';

export function useClientReport(deps: { enabled: boolean; api: Pick<Api, 'reportClient'>; client: ClientClassification; facts: ClientFacts }): void {
  const { enabled, api, client, facts } = deps;
  const reported = useRef<string | null>(null);
  useEffect(() => {
    if (!enabled) return;
    const report: ClientReport = {
      kind: client.kind,
      hostName: facts.hostName ?? 'unknown',
      platform: facts.platform ?? 'unknown',
      accountType: facts.accountType ?? 'unknown',
      hostVersion: facts.hostVersion ?? 'unknown',
      cachedMode: client.cachedMode,
    };
    const key = JSON.stringify(report);
    if (reported.current === key) return;
    reported.current = key;
    api.reportClient(report).catch(() => {
      reported.current = null; // try again on the next change or mount
    });
  }, [enabled, api, client, facts]);
}
