/**
 * The Threat Scan section: start a scan (days, all mailboxes or chosen groups and users), its live
 * progress (pushed over the admin socket as `threat-scan:progress`), End Scan and Resume, the report
 * with its CSV, Remove Threats with progress and undo (hard delete only after a confirmation), continuous
 * protection's state, and the Exchange Online set-up PowerShell. Data comes through the typed client only.
 */
import { useCallback, useState } from 'react';
import { Button, Card, CardHeader, Field, Input, MessageBar, MessageBarBody, ProgressBar, Text, makeStyles, tokens } from '@fluentui/react-components';
import { threatScans } from '../client';
import { ErrorBar, Guard, Hint, PageHead } from '../common';
import type { Me, ThreatScanView } from '../contract';
import { useAdminEvents } from '../live';
import { ContinuousCard } from './ContinuousCard';
import { ExchangeSetupCard } from './ExchangeSetupCard';
import { ReportCard } from './ReportCard';

const useStyles = makeStyles({
  stack: { display: 'flex', flexDirection: 'column', gap: '16px', maxWidth: '1100px' },
  row: { display: 'flex', flexWrap: 'wrap', gap: '12px', alignItems: 'flex-end' },
  figures: { display: 'grid', gridTemplateColumns: 'repeat(auto-fit, minmax(140px, 1fr))', gap: '8px', margin: 0 },
  figure: { margin: 0, '& dd': { margin: 0, fontSize: tokens.fontSizeBase500, fontWeight: tokens.fontWeightSemibold } },
});

const list = (text: string) =>
  text
    .split(/[\s,;]+/)
    .map((s) => s.trim())
    .filter(Boolean);

function eta(seconds: number | null): string {
  if (seconds === null) return '—';
  if (seconds < 90) return `${seconds} s`;
  return seconds < 5400 ? `${Math.round(seconds / 60)} min` : `${(seconds / 3600).toFixed(1)} h`;
}

export function ThreatScanPage({ me }: { me: Me }) {
  const s = useStyles();
  const [scan, setScan] = useState<ThreatScanView | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const [days, setDays] = useState('30');
  const [groups, setGroups] = useState('');
  const [users, setUsers] = useState('');
  const [reportKey, setReportKey] = useState(0);
  const full = me.role === 'fullAdministrator' ? null : 'Only full administrators run scans and remove threats.';

  const refresh = useCallback(async () => {
    try {
      const { items } = await threatScans.list();
      setScan(items[0] ?? null);
    } catch (err) {
      setError(err as Error);
    }
  }, []);
  const live = useAdminEvents(
    {
      'threat-scan:progress': (body) => {
        const next = body as ThreatScanView;
        setScan((current) => (!current || current.id === next.id || next.state === 'running' ? next : current));
        if (next.state !== 'running') setReportKey((k) => k + 1);
      },
    },
    () => void refresh(),
  );

  const act = async (work: () => Promise<ThreatScanView>) => {
    setBusy(true);
    setError(null);
    try {
      setScan(await work());
      setReportKey((k) => k + 1);
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };
  const start = () => {
    const groupIds = list(groups);
    const userIds = list(users);
    return act(() => threatScans.start({ days: Number(days), ...(groupIds.length || userIds.length ? { targets: { groupIds, userIds } } : {}) }));
  };

  const p = scan?.progress;
  const share = p && p.mailboxesTotal ? (p.mailboxesDone + p.mailboxesSkipped) / p.mailboxesTotal : 0;
  return (
    <div className={s.stack}>
      <PageHead title="Threat Scan">
        <Text size={200}>Updates: {live}</Text>
      </PageHead>
      <Hint>
        Reads the mail delivered in the last days through Microsoft Graph (needs Mail.Read) and judges every message with the same checks as inbound mail:
        sender authentication, spam, malware and impersonation. Removing threats needs Mail.ReadWrite.
      </Hint>
      {error && <ErrorBar error={error} title="The Threat Scan could not do that" />}
      <Card>
        <CardHeader header={<Text weight="semibold">Start a scan</Text>} />
        <div className={s.row}>
          <Field label="Days of mail (1–30)" style={{ width: 150 }}>
            <Input type="number" min={1} max={30} value={days} onChange={(_, d) => setDays(d.value)} />
          </Field>
          <Field label="Group ids (optional)" hint="Leave groups and users empty to scan every mailbox.">
            <Input value={groups} onChange={(_, d) => setGroups(d.value)} placeholder="e.g. g-sales" />
          </Field>
          <Field label="User ids (optional)">
            <Input value={users} onChange={(_, d) => setUsers(d.value)} placeholder="e.g. ana, ben" />
          </Field>
          <Guard reason={full ?? (scan?.state === 'running' ? 'A scan is running: end it first.' : null)}>
            <Button appearance="primary" disabled={busy || !!full || scan?.state === 'running'} onClick={start}>
              Start scan
            </Button>
          </Guard>
        </div>
      </Card>
      {scan && p && (
        <Card data-testid="scan-progress">
          <CardHeader
            header={<Text weight="semibold">Scan of the last {scan.days} days</Text>}
            description={<Text size={200}>State: {scan.state}</Text>}
            action={
              <div className={s.row}>
                {scan.state === 'running' && (
                  <Guard reason={full}>
                    <Button disabled={busy || !!full} onClick={() => void act(() => threatScans.end(scan.id))}>
                      End Scan
                    </Button>
                  </Guard>
                )}
                {scan.state === 'ended' && (
                  <Guard reason={full}>
                    <Button disabled={busy || !!full} onClick={() => void act(() => threatScans.resume(scan.id))}>
                      Resume
                    </Button>
                  </Guard>
                )}
              </div>
            }
          />
          <ProgressBar value={share} thickness="large" aria-label="Mailboxes scanned" />
          <dl className={s.figures}>
            {[
              ['Mailboxes', `${p.mailboxesDone + p.mailboxesSkipped} of ${p.mailboxesTotal}`],
              ['Messages scanned', String(p.messagesScanned)],
              ['Threats found', String(p.threats)],
              ['Throttled by Graph', String(p.throttled)],
              ['Time left', scan.state === 'running' ? eta(p.etaSeconds) : '—'],
            ].map(([label, value]) => (
              <div key={label} className={s.figure} data-testid={`scan-${label}`}>
                <dt>{label}</dt>
                <dd>{value}</dd>
              </div>
            ))}
          </dl>
          {p.mailboxesSkipped > 0 && (
            <MessageBar intent="warning">
              <MessageBarBody>{p.mailboxesSkipped} mailbox(es) were skipped: the report says why.</MessageBarBody>
            </MessageBar>
          )}
        </Card>
      )}
      {scan && scan.state !== 'running' && <ReportCard scanId={scan.id} refreshKey={reportKey} denied={full} />}
      <ContinuousCard denied={full ? 'Only full administrators switch continuous protection.' : null} />
      <ExchangeSetupCard />
    </div>
  );
}
