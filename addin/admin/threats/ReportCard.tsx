/**
 * A finished or ended scan's report: counts per verdict, the threats (a table, and the CSV), the
 * mailboxes skipped with their reasons, and Remove Threats: move to the Lifeboat Quarantine folder
 * (soft, the default) or Junk Email, or delete for good after a confirmation; progress arrives over the
 * admin socket (`threat-scan:remediation`) and a moved message can be put back (Undo).
 */
import { useCallback, useState } from 'react';
import {
  Button,
  Card,
  CardHeader,
  Dialog,
  DialogActions,
  DialogBody,
  DialogContent,
  DialogSurface,
  DialogTitle,
  Link,
  MessageBar,
  MessageBarBody,
  ProgressBar,
  Radio,
  RadioGroup,
  Field,
  Text,
} from '@fluentui/react-components';
import { threatScans } from '../client';
import { Empty, ErrorBar, Guard, ScrollTable, Show, useLoad } from '../common';
import type { RemediationInput, RemediationView, ThreatScanReport } from '../contract';
import { useAdminEvents } from '../live';
import { showInstant } from '../time';

type Threat = ThreatScanReport['threats'][number];
type Action = RemediationInput['action'];
const ACTIONS: { value: Action; label: string }[] = [
  { value: 'softDelete', label: 'Move to the Lifeboat Quarantine folder (can be undone)' },
  { value: 'junk', label: 'Move to Junk Email (can be undone)' },
  { value: 'hardDelete', label: 'Delete permanently (cannot be undone)' },
];

const BREAK_ANYWHERE = { overflowWrap: 'anywhere' } as const;

export function ReportCard({ scanId, refreshKey, denied }: { scanId: string; refreshKey: number; denied: string | null }) {
  const load = useCallback(() => threatScans.report(scanId), [scanId]);
  const [report, reload] = useLoad(load, refreshKey);
  const [action, setAction] = useState<Action>('softDelete');
  const [confirming, setConfirming] = useState(false);
  const [run, setRun] = useState<RemediationView | null>(null);
  const [error, setError] = useState<Error | null>(null);
  useAdminEvents(
    {
      'threat-scan:remediation': (body) => {
        const view = body as RemediationView;
        if (view.scanId !== scanId) return;
        setRun(view);
        if (view.state === 'finished') void reload();
      },
    },
    () =>
      void threatScans.remediations(scanId).then(
        (r) => setRun(r.items[0] ?? null),
        () => undefined,
      ),
  );

  const launch = async (work: () => Promise<RemediationView>) => {
    setError(null);
    setConfirming(false);
    try {
      setRun(await work());
    } catch (err) {
      setError(err as Error);
    }
  };
  const remove = () => {
    if (action === 'hardDelete') return setConfirming(true);
    void launch(() => threatScans.remediate(scanId, { verdicts: ['spam', 'phishing', 'malware', 'spoof', 'impersonation'], action }));
  };

  return (
    <Card data-testid="scan-report">
      <CardHeader
        header={<Text weight="semibold">Report</Text>}
        action={
          <Link href={threatScans.csvUrl(scanId)} download>
            Download CSV
          </Link>
        }
      />
      <Show value={report} label="Loading the report…">
        {(r) => (
          <>
            <Text>
              {Object.entries(r.counts)
                .map(([verdict, n]) => `${verdict}: ${n}`)
                .join(' · ') || 'No message was scanned.'}
            </Text>
            {r.threats.length === 0 ? (
              <Empty>No threats were found.</Empty>
            ) : (
              <ScrollTable<Threat>
                label="Threats found"
                testId="threats"
                rowTestId="threat"
                rows={r.threats}
                rowKey={(t) => t.id}
                minWidth={980}
                columns={[
                  { header: 'Received', cell: (t) => (t.receivedAt ? showInstant(t.receivedAt) : '—') },
                  // Addresses have no spaces: they break anywhere rather than run into the next column.
                  { header: 'Recipient', cell: (t) => <span style={BREAK_ANYWHERE}>{t.recipient}</span> },
                  { header: 'Sender', cell: (t) => <span style={BREAK_ANYWHERE}>{t.sender}</span> },
                  { header: 'Subject', cell: (t) => t.subject },
                  { header: 'Verdict', cell: (t) => t.verdict },
                  { header: 'Where', cell: (t) => t.location },
                ]}
              />
            )}
            {r.mailboxes.skipped.map((m) => (
              <MessageBar key={m.address} intent="warning">
                <MessageBarBody>
                  {m.address} was skipped: {m.reason}
                </MessageBarBody>
              </MessageBar>
            ))}
            {r.threats.length > 0 && (
              <Field label="Remove Threats">
                <RadioGroup value={action} onChange={(_, d) => setAction(d.value as Action)}>
                  {ACTIONS.map((a) => (
                    <Radio key={a.value} value={a.value} label={a.label} />
                  ))}
                </RadioGroup>
              </Field>
            )}
            {r.threats.length > 0 && (
              <div style={{ display: 'flex', flexWrap: 'wrap', gap: 8 }}>
                <Guard reason={denied}>
                  <Button appearance="primary" disabled={!!denied || run?.state === 'running'} onClick={remove}>
                    Remove Threats
                  </Button>
                </Guard>
                <Guard reason={denied}>
                  <Button disabled={!!denied || run?.state === 'running'} onClick={() => void launch(() => threatScans.undo(scanId))}>
                    Undo
                  </Button>
                </Guard>
              </div>
            )}
          </>
        )}
      </Show>
      {error && <ErrorBar error={error} title="Remove Threats could not start" />}
      {run && (
        <div data-testid="remediation" role="status">
          <Text>
            {run.action === 'undo' ? 'Undo' : `Remove Threats (${run.action})`}: {run.done} done, {run.failed} failed of {run.total}
            {run.state === 'finished' ? ' — finished.' : '…'}
          </Text>
          <ProgressBar value={run.total ? (run.done + run.failed) / run.total : 1} aria-label="Remove Threats progress" />
        </div>
      )}
      <Dialog open={confirming} onOpenChange={(_, d) => setConfirming(d.open)}>
        <DialogSurface>
          <DialogBody>
            <DialogTitle>Delete the threats permanently?</DialogTitle>
            <DialogContent>
              Permanently deleted messages cannot be recovered by anyone, and Undo cannot bring them back. Moving them to the Lifeboat Quarantine folder removes
              them from users as well, and can be undone.
            </DialogContent>
            <DialogActions>
              <Button onClick={() => setConfirming(false)}>Cancel</Button>
              <Button
                appearance="primary"
                onClick={() =>
                  void launch(() =>
                    threatScans.remediate(scanId, { verdicts: ['spam', 'phishing', 'malware', 'spoof', 'impersonation'], action: 'hardDelete', confirm: true }),
                  )
                }
              >
                Delete permanently
              </Button>
            </DialogActions>
          </DialogBody>
        </DialogSurface>
      </Dialog>
    </Card>
  );
}
