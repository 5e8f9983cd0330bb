/** Continuity events: the list (current and pending by default), the form, End Now, Delete; live. */
import {
  Badge,
  Button,
  Card,
  Dialog,
  DialogActions,
  DialogBody,
  DialogContent,
  DialogSurface,
  DialogTitle,
  MessageBar,
  MessageBarBody,
  Text,
  makeStyles,
  tokens,
} from '@fluentui/react-components';
import { useCallback, useEffect, useState } from 'react';
import { EVENT_STATUS_LABELS as STATUS_LABELS } from '../../../server/shared/constants';
import { denied } from '../api';
import * as client from '../client';
import type { ContinuityEvent, Me } from '../contract';
import { Empty, ErrorBar, Guard, PageHead, Show, useLoad } from '../common';
import { useContinuityChanges } from '../live';
import { offsetOf, showLocal } from '../time';
import { ReportPage } from '../reports/ReportPage';
import { EventForm, type FormMode } from './EventForm';
import { SmsRuns } from './SmsRuns';

const useStyles = makeStyles({
  list: { listStyle: 'none', margin: 0, padding: 0, display: 'flex', flexDirection: 'column', rowGap: '12px' },
  top: { display: 'flex', justifyContent: 'space-between', gap: '8px', flexWrap: 'wrap', alignItems: 'baseline' },
  facts: { display: 'grid', gridTemplateColumns: 'repeat(auto-fit, minmax(180px, 1fr))', gap: '4px 16px', margin: 0 },
  term: { color: tokens.colorNeutralForeground3, fontSize: tokens.fontSizeBase200 },
  def: { margin: 0, overflowWrap: 'anywhere' },
  actions: { display: 'flex', gap: '8px', flexWrap: 'wrap' },
  badges: { display: 'flex', gap: '6px', flexWrap: 'wrap' },
  bar: { display: 'flex', justifyContent: 'space-between', alignItems: 'center', flexWrap: 'wrap', gap: '8px', marginBottom: '8px' },
});

/**
 * Status colours: Current is the outage in progress (danger red, never the readiness warning's
 * yellow), Pending is informative blue, Expired is history (grey, never success green).
 */
const BADGE: Record<ContinuityEvent['status'], 'danger' | 'subtle' | 'informative'> = { current: 'danger', pending: 'informative', expired: 'subtle' };

/** The event as people tell events apart: its description and the group it affects. */
export const named = (e: ContinuityEvent) => `“${e.description}” (group ${e.affectedGroup?.displayName ?? e.affectedGroupId})`;

/** Current first, then pending by start; expired last, newest first. */
const ORDER: Record<ContinuityEvent['status'], number> = { current: 0, pending: 1, expired: 2 };
function ordered(list: ContinuityEvent[]): ContinuityEvent[] {
  return [...list].sort((a, b) => {
    if (a.status !== b.status) return ORDER[a.status] - ORDER[b.status];
    if (a.status === 'expired') return (b.endedAt ?? b.end ?? b.start).localeCompare(a.endedAt ?? a.end ?? a.start);
    return a.start.localeCompare(b.start);
  });
}

type Confirm = { kind: 'end' | 'delete'; event: ContinuityEvent } | null;

/** An event's post-incident report is addressed as #events/report/<id>, so it can be linked and reloaded. */
const reportOfHash = (): string | null => /^#\/?events\/report\/([A-Za-z0-9]{1,64})$/.exec(window.location.hash)?.[1] ?? null;

export function EventsPage({ me }: { me: Me }) {
  const c = useStyles();
  const [showAll, setShowAll] = useState(false);
  const [mode, setMode] = useState<FormMode | null>(null);
  const [confirm, setConfirm] = useState<Confirm>(null);
  const [actionError, setActionError] = useState<Error | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [events, reload] = useLoad(useCallback(() => client.events.list(showAll), [showAll]));
  const live = useContinuityChanges(() => void reload());
  const cannot = denied(me, 'basicAdministrator');
  const [reportId, setReportId] = useState<string | null>(reportOfHash);

  useEffect(() => {
    const onHash = () => setReportId(reportOfHash());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  async function act() {
    if (!confirm) return;
    const { kind, event } = confirm;
    setConfirm(null);
    setActionError(null);
    try {
      if (kind === 'end') await client.events.end(event.id);
      else await client.events.remove(event.id);
      setNotice(kind === 'end' ? `${named(event)} has ended.` : `${named(event)} was deleted.`);
      await reload();
    } catch (err) {
      setActionError(err as Error);
    }
  }

  if (reportId) {
    return (
      <ReportPage
        eventId={reportId}
        onBack={() => {
          window.location.hash = 'events';
          setReportId(null);
        }}
      />
    );
  }

  if (mode) {
    return (
      <EventForm
        mode={mode}
        readOnlyReason={cannot}
        onCancel={() => setMode(null)}
        onDone={(saved) => {
          setMode(null);
          setNotice(`Saved ${named(saved)} (${STATUS_LABELS[saved.status]}).`);
          void reload();
        }}
      />
    );
  }

  return (
    <section aria-labelledby="page-title">
      <PageHead title="Continuity events">
        <Guard reason={cannot}>
          <Button appearance="primary" disabledFocusable={Boolean(cannot)} onClick={() => setMode({ kind: 'new' })}>
            New continuity event
          </Button>
        </Guard>
      </PageHead>
      <div className={c.bar}>
        {/* The button names what it does next, as in the events list admins know. */}
        <Button appearance="subtle" onClick={() => setShowAll(!showAll)} data-testid="show-all">
          {showAll ? 'Hide expired events' : 'Show all events'}
        </Button>
        <Text size={200} data-testid="live" data-state={live}>
          {live === 'live'
            ? 'Live: status changes appear here as they happen.'
            : live === 'connecting'
              ? 'Connecting for live updates…'
              : 'Live updates are offline; the list may be out of date.'}
        </Text>
      </div>
      {notice && (
        <MessageBar intent="success" style={{ marginBottom: 8 }}>
          <MessageBarBody>{notice}</MessageBarBody>
        </MessageBar>
      )}
      {actionError && <ErrorBar error={actionError} title="That did not work" />}
      <Show value={events} label="Loading events…">
        {(list) =>
          list.length === 0 ? (
            <Empty>{showAll ? 'No continuity events yet.' : 'No current or pending continuity events. Turn on “Show all events” to see expired ones.'}</Empty>
          ) : (
            <ul className={c.list} aria-label="Continuity events" data-testid="event-list">
              {ordered(list).map((e) => (
                <li key={e.id} data-testid="event" data-status={e.status}>
                  <Card>
                    <div className={c.top}>
                      <Text weight="semibold" size={400}>
                        {e.description}
                      </Text>
                      <span className={c.badges}>
                        {e.clonedFrom && list.some((o) => o.id === e.clonedFrom && o.description === e.description) && (
                          <Badge appearance="tint" color="warning" data-testid="copy-badge">
                            Copy: not yet edited
                          </Badge>
                        )}
                        <Badge appearance="filled" color={BADGE[e.status]} data-testid="event-status">
                          {STATUS_LABELS[e.status]}
                          {e.endedEarly ? ' (ended early)' : ''}
                        </Badge>
                      </span>
                    </div>
                    <dl className={c.facts}>
                      {[
                        ['Affected group', e.affectedGroup?.displayName ?? e.affectedGroupId],
                        ['Start', showLocal(e.startLocal)],
                        ['End', e.end === null ? 'Eternal (until ended)' : showLocal(e.endLocal)],
                        ['Time zone', `${e.timeZone} (${offsetOf(e.startLocal)})`],
                      ].map(([term, def]) => (
                        <div key={term}>
                          <dt className={c.term}>{term}</dt>
                          <dd className={c.def}>{def}</dd>
                        </div>
                      ))}
                    </dl>
                    {e.sms && e.status !== 'pending' && <SmsRuns eventId={e.id} />}
                    <div className={c.actions}>
                      {e.status !== 'expired' && (
                        <Guard reason={cannot}>
                          <Button disabledFocusable={Boolean(cannot)} onClick={() => setMode({ kind: 'edit', event: e })} aria-label={`Edit ${e.description}`}>
                            Edit
                          </Button>
                        </Guard>
                      )}
                      <Guard reason={cannot}>
                        <Button disabledFocusable={Boolean(cannot)} onClick={() => setMode({ kind: 'clone', event: e })} aria-label={`Clone ${e.description}`}>
                          Clone
                        </Button>
                      </Guard>
                      {e.status !== 'pending' && (
                        <Button
                          onClick={() => {
                            window.location.hash = `events/report/${e.id}`;
                            setReportId(e.id);
                          }}
                          aria-label={`Report for ${e.description}`}
                        >
                          Report
                        </Button>
                      )}
                      {e.status === 'current' && (
                        <Guard reason={cannot}>
                          <Button
                            appearance="primary"
                            disabledFocusable={Boolean(cannot)}
                            onClick={() => setConfirm({ kind: 'end', event: e })}
                            aria-label={`End Now ${e.description}`}
                          >
                            End Now
                          </Button>
                        </Guard>
                      )}
                      {e.status === 'pending' && (
                        <Guard reason={cannot}>
                          <Button
                            disabledFocusable={Boolean(cannot)}
                            onClick={() => setConfirm({ kind: 'delete', event: e })}
                            aria-label={`Delete ${e.description}`}
                          >
                            Delete
                          </Button>
                        </Guard>
                      )}
                    </div>
                  </Card>
                </li>
              ))}
            </ul>
          )
        }
      </Show>
      <Dialog open={confirm !== null} onOpenChange={(_, d) => !d.open && setConfirm(null)}>
        <DialogSurface>
          <DialogBody>
            <DialogTitle>{confirm?.kind === 'end' ? 'End this event now?' : 'Delete this event?'}</DialogTitle>
            <DialogContent>
              {confirm?.kind === 'end'
                ? `${named(confirm.event)} ends now: the users of that group return to normal mail and see its end message. This cannot be undone.`
                : confirm
                  ? `${named(confirm.event)} has not started; it will be removed.`
                  : ''}
            </DialogContent>
            <DialogActions>
              <Button appearance="primary" onClick={act}>
                {confirm?.kind === 'end' ? 'End Now' : 'Delete'}
              </Button>
              <Button onClick={() => setConfirm(null)}>Cancel</Button>
            </DialogActions>
          </DialogBody>
        </DialogSurface>
      </Dialog>
    </section>
  );
}
