/**
 * Continuity events: the list (current and pending by default), the form, Start now, End Now, Delete;
 * live. The form is addressed by the URL (#events/new, #events/edit/<id>, #events/clone/<id>), so Back
 * leaves it and Forward or a reload brings it back (with its unsaved changes: see form-state.ts).
 */
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

type Confirm = { kind: 'start' | 'end' | 'delete'; event: ContinuityEvent } | null;

const CONFIRM: Record<NonNullable<Confirm>['kind'], { title: string; button: string; text: (e: ContinuityEvent) => string }> = {
  start: {
    title: 'Start this event now?',
    button: 'Start now',
    text: (e) =>
      `${named(e)} starts now instead of ${showLocal(e.startLocal)} (${e.timeZone}): the users of that group switch to continuity at once. Its end stays as planned.`,
  },
  end: {
    title: 'End this event now?',
    button: 'End Now',
    text: (e) => `${named(e)} ends now: the users of that group return to normal mail and see its end message. This cannot be undone.`,
  },
  delete: { title: 'Delete this event?', button: 'Delete', text: (e) => `${named(e)} has not started; it will be removed.` },
};

/** The form the URL asks for: #events/new, #events/edit/<id> or #events/clone/<id>. */
type FormRoute = { kind: 'new' } | { kind: 'edit' | 'clone'; id: string };
const formOfHash = (): FormRoute | null => {
  const hash = window.location.hash.replace(/^#\/?/, '');
  if (hash === 'events/new') return { kind: 'new' };
  const m = /^events\/(edit|clone)\/([A-Za-z0-9]{1,64})$/.exec(hash);
  return m ? { kind: m[1] as 'edit' | 'clone', id: m[2]! } : null;
};
const hashOfForm = (route: FormRoute) => (route.kind === 'new' ? 'events/new' : `events/${route.kind}/${route.id}`);
const sameRoute = (mode: FormMode | null, route: FormRoute | null) =>
  mode === null || route === null ? mode === route : mode.kind === route.kind && (mode.kind === 'new' || (route.kind !== 'new' && mode.event.id === route.id));

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
  const [route, setRoute] = useState<FormRoute | null>(formOfHash);

  useEffect(() => {
    const onHash = () => {
      setReportId(reportOfHash());
      setRoute(formOfHash());
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  // The form follows the URL: Back closes it, Forward and reload open it again (edit and clone fetch their event).
  useEffect(() => {
    if (sameRoute(mode, route)) return;
    if (route === null || route.kind === 'new') {
      setMode(route);
      return;
    }
    let live = true;
    client.events
      .get(route.id)
      .then((event) => live && setMode({ kind: route.kind, event }))
      .catch((err: Error) => {
        if (!live) return;
        setActionError(err);
        window.location.hash = 'events';
      });
    return () => {
      live = false;
    };
  }, [route, mode]);

  /** Opens a form and gives it its address. */
  const open = (next: FormMode) => {
    const to: FormRoute = next.kind === 'new' ? next : { kind: next.kind, id: next.event.id };
    setMode(next);
    setRoute(to);
    window.location.hash = hashOfForm(to);
  };
  /** Saved or cancelled: the form's history entry becomes the list, so Back does not reopen a finished form. */
  const close = () => {
    setMode(null);
    setRoute(null);
    window.history.replaceState(window.history.state, '', '#events');
  };

  async function act() {
    if (!confirm) return;
    const { kind, event } = confirm;
    setConfirm(null);
    setActionError(null);
    try {
      if (kind === 'start') await client.events.start(event.id);
      else if (kind === 'end') await client.events.end(event.id);
      else await client.events.remove(event.id);
      setNotice(`${named(event)} ${kind === 'start' ? 'has started' : kind === 'end' ? 'has ended' : 'was deleted'}.`);
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

  if (mode && route) {
    return (
      <EventForm
        key={hashOfForm(route)}
        mode={mode}
        draftKey={hashOfForm(route)}
        readOnlyReason={cannot}
        onCancel={close}
        onDone={(saved) => {
          close();
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
          <Button appearance="primary" disabledFocusable={Boolean(cannot)} onClick={() => open({ kind: 'new' })}>
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
                          <Button disabledFocusable={Boolean(cannot)} onClick={() => open({ kind: 'edit', event: e })} aria-label={`Edit ${e.description}`}>
                            Edit
                          </Button>
                        </Guard>
                      )}
                      <Guard reason={cannot}>
                        <Button disabledFocusable={Boolean(cannot)} onClick={() => open({ kind: 'clone', event: e })} aria-label={`Clone ${e.description}`}>
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
                            appearance="primary"
                            disabledFocusable={Boolean(cannot)}
                            onClick={() => setConfirm({ kind: 'start', event: e })}
                            aria-label={`Start now ${e.description}`}
                          >
                            Start now
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
            <DialogTitle>{confirm ? CONFIRM[confirm.kind].title : ''}</DialogTitle>
            <DialogContent>{confirm ? CONFIRM[confirm.kind].text(confirm.event) : ''}</DialogContent>
            <DialogActions>
              <Button appearance="primary" onClick={act}>
                {confirm ? CONFIRM[confirm.kind].button : ''}
              </Button>
              <Button onClick={() => setConfirm(null)}>Cancel</Button>
            </DialogActions>
          </DialogBody>
        </DialogSurface>
      </Dialog>
    </section>
  );
}
