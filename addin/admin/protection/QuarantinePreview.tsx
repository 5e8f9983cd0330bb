/**
 * One quarantined message: why it was held (verdict, reasons, authentication results, score), its
 * headers and an inert preview in a fully sandboxed frame (no scripts, no links that open, no remote
 * content), the users' release requests, and release (with a reason; rescanned by the server first) or delete.
 */
import { Badge, Button, Caption1, Field, Input, Spinner, Text, makeStyles, tokens } from '@fluentui/react-components';
import { useCallback, useState } from 'react';
import { frameDocument } from '../../taskpane/mail/SafeHtml';
import { denied, type AdminApiError } from '../api';
import { quarantine } from '../client';
import { ErrorBar, Guard, Show, useLoad } from '../common';
import type { Me } from '../contract';
import { showInstant } from '../time';
import { VERDICT_LABELS } from './labels';

const useStyles = makeStyles({
  root: { display: 'flex', flexDirection: 'column', rowGap: '10px' },
  head: { display: 'grid', gridTemplateColumns: 'auto 1fr', columnGap: '8px', rowGap: '2px' },
  label: { color: tokens.colorNeutralForeground3 },
  value: { overflowWrap: 'anywhere' },
  frame: {
    width: '100%',
    height: '260px',
    border: `1px solid ${tokens.colorNeutralStroke2}`,
    borderRadius: tokens.borderRadiusMedium,
    boxSizing: 'border-box',
  },
  headers: {
    maxHeight: '160px',
    overflow: 'auto',
    fontFamily: tokens.fontFamilyMonospace,
    fontSize: tokens.fontSizeBase200,
    whiteSpace: 'pre-wrap',
    overflowWrap: 'anywhere',
    margin: 0,
  },
  row: { display: 'flex', flexWrap: 'wrap', gap: '8px', alignItems: 'end' },
});

const escape = (t: string) => t.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

export function QuarantinePreview({ me, entryId, onDone }: { me: Me; entryId: string; onDone: () => void }) {
  const s = useStyles();
  const load = useCallback(() => quarantine.get(entryId), [entryId]);
  const [detail] = useLoad(load);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AdminApiError | null>(null);
  const canRelease = denied(me, 'basicAdministrator');

  const act = async (what: 'release' | 'delete') => {
    setBusy(true);
    setError(null);
    try {
      if (what === 'release') await quarantine.release(entryId, reason);
      else await quarantine.remove(entryId);
      onDone();
    } catch (err) {
      setError(err as AdminApiError);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Show value={detail} label="Loading the message…">
      {(d) => {
        const auth = d.evidence?.auth;
        const rows: [string, string][] = [
          ['From', d.from || d.mailFrom || '(none)'],
          ['Envelope sender', d.mailFrom || '(null sender)'],
          ['To', d.recipient],
          ['Held', showInstant(d.at)],
          ['Why', d.reasons.join('; ') || VERDICT_LABELS[d.verdict]],
          ...(auth ? ([['Authentication', `SPF ${auth.spf} · DKIM ${auth.dkim} · DMARC ${auth.dmarc} · ARC ${auth.arc}`]] as [string, string][]) : []),
          ...(d.evidence?.rspamd ? ([['Spam score', `${d.evidence.rspamd.score} (reject at ${d.evidence.rspamd.requiredScore})`]] as [string, string][]) : []),
        ];
        const body = d.preview?.html ?? (d.preview ? `<pre style="white-space:pre-wrap">${escape(d.preview.text || '(no text)')}</pre>` : null);
        return (
          <div className={s.root} data-testid="quarantine-preview">
            <Text weight="semibold" className={s.value}>
              {d.subject || '(no subject)'} <Badge color="danger">{VERDICT_LABELS[d.verdict]}</Badge>
            </Text>
            <div className={s.head}>
              {rows.map(([k, v]) => (
                <span key={k} style={{ display: 'contents' }}>
                  <Caption1 className={s.label}>{k}</Caption1>
                  <Caption1 className={s.value}>{v}</Caption1>
                </span>
              ))}
            </div>
            {body ? (
              // sandbox="" : no scripts, no forms, no popups, no same-origin; the server already removed links and images.
              <iframe
                className={s.frame}
                sandbox=""
                title={`Preview of ${d.subject || 'the message'}`}
                srcDoc={frameDocument(body)}
                data-testid="quarantine-frame"
              />
            ) : (
              <Text>The message is no longer stored (retention); only its record remains.</Text>
            )}
            {d.preview?.attachments.length ? (
              <Caption1>Attachments (not opened): {d.preview.attachments.map((a) => `${a.filename} (${a.contentType}, ${a.size} bytes)`).join(', ')}</Caption1>
            ) : null}
            {d.preview && (
              <details>
                <summary>Headers</summary>
                <pre className={s.headers}>{d.preview.headers.map((h) => `${h.name}: ${h.value}`).join('\n')}</pre>
              </details>
            )}
            {d.releaseRequests.length > 0 && (
              <section aria-label="Release requests" data-testid="release-requests">
                <Text weight="semibold">Release requested by</Text>
                <ul style={{ margin: '4px 0', paddingLeft: 20 }}>
                  {d.releaseRequests.map((r) => (
                    <li key={r.userId}>
                      {r.email ?? r.userId}, {showInstant(r.at)}
                      {r.reason ? `: “${r.reason}”` : ''}
                    </li>
                  ))}
                </ul>
              </section>
            )}
            {error && <ErrorBar error={error} title="Not done" />}
            <div className={s.row}>
              <Field
                label="Reason for releasing (recorded in the audit trail)"
                style={{ flex: '1 1 240px' }}
                validationMessage={error?.fieldErrors.find((e) => e.path === 'reason')?.message}
              >
                <Input value={reason} onChange={(_, v) => setReason(v.value)} disabled={Boolean(canRelease)} data-testid="release-reason" />
              </Field>
              <Guard reason={canRelease}>
                <Button appearance="primary" disabled={Boolean(canRelease) || busy || !reason.trim()} onClick={() => void act('release')} data-testid="release">
                  {d.releaseRequests.length ? 'Approve and release' : 'Release'}
                </Button>
              </Guard>
              <Guard reason={canRelease}>
                <Button disabled={Boolean(canRelease) || busy} onClick={() => void act('delete')} data-testid="quarantine-delete">
                  Delete
                </Button>
              </Guard>
              <Button onClick={onDone}>Close</Button>
              {busy && <Spinner size="tiny" label="Working…" />}
            </div>
            <Caption1 className={s.label}>Releasing rescans the message first; it is delivered to the mailbox and onward once.</Caption1>
          </div>
        );
      }}
    </Show>
  );
}
