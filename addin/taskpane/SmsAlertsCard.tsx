/**
 * SMS alerts: the signed-in user sees the number Lifeboat has for them (the tenant's phone
 * attribute) and opts in or out of event SMS (`GET/PUT /api/me/sms-consent`).
 */
import { Button, Card, MessageBar, MessageBarBody, Spinner, Subtitle2, Text, makeStyles, tokens } from '@fluentui/react-components';
import { useCallback, useEffect, useState } from 'react';
import { ApiError, type Api, type SmsConsent } from '../lib/api';

const useStyles = makeStyles({
  card: { rowGap: '8px' },
  meta: { color: tokens.colorNeutralForeground3 },
  buttons: { display: 'flex', columnGap: '8px', flexWrap: 'wrap' },
});

const SOURCE: Record<string, string> = { user: 'by you', admin: 'by an administrator', sms: 'by an SMS reply' };

function when(iso: string, timeZone?: string): string {
  try {
    return new Date(iso).toLocaleString('en-GB', {
      timeZone,
      day: 'numeric',
      month: 'short',
      year: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      timeZoneName: 'short',
    });
  } catch {
    return new Date(iso).toISOString();
  }
}

export function SmsAlertsCard({ api, timeZone, onUnauthorized }: { api: Api; timeZone?: string; onUnauthorized: () => void }) {
  const styles = useStyles();
  const [consent, setConsent] = useState<SmsConsent | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  /** A server without notifications (or a user outside the directory) answers 404: no card. */
  const [absent, setAbsent] = useState(false);

  const fail = useCallback(
    (err: unknown) => {
      if (err instanceof ApiError && err.unauthorized) onUnauthorized();
      else if (err instanceof ApiError && err.status === 404) setAbsent(true);
      else setError((err as Error).message);
    },
    [onUnauthorized],
  );

  useEffect(() => {
    api.smsConsent().then(setConsent, fail);
  }, [api, fail]);

  const change = async (optedIn: boolean) => {
    setBusy(true);
    setError(null);
    try {
      setConsent(await api.setSmsConsent(optedIn));
    } catch (err) {
      fail(err);
    } finally {
      setBusy(false);
    }
  };

  if (absent) return null;
  const state = !consent ? 'loading' : !consent.phone ? 'no-number' : consent.optedIn ? 'opted-in' : 'opted-out';
  return (
    <Card className={styles.card} data-testid="sms-alerts" data-state={state}>
      <Subtitle2 as="h2">SMS alerts</Subtitle2>
      {error ? (
        <MessageBar intent="error" data-testid="sms-error">
          <MessageBarBody>{error}</MessageBarBody>
        </MessageBar>
      ) : null}
      {!consent ? (
        error ? null : (
          <Spinner size="tiny" label="Getting your SMS settings…" />
        )
      ) : !consent.phone ? (
        <Text size={200} data-testid="sms-no-number">
          Lifeboat has no mobile number for you, so it can't text you when email is down. Ask your IT team to add one to your directory profile (
          {consent.phoneAttribute}).
        </Text>
      ) : (
        <>
          <Text size={200}>
            When email is down, Lifeboat can text you at <strong data-testid="sms-phone">{consent.phone}</strong>.
          </Text>
          <Text size={200} data-testid="sms-state">
            {consent.optedIn
              ? `You get SMS alerts: opted in${consent.source ? ` ${SOURCE[consent.source] ?? ''}` : ''}${consent.at ? ` on ${when(consent.at, timeZone)}` : ''}.`
              : consent.at
                ? `You don't get SMS alerts: opted out${consent.source ? ` ${SOURCE[consent.source] ?? ''}` : ''} on ${when(consent.at, timeZone)}.`
                : "You don't get SMS alerts yet."}
          </Text>
          {consent.optedIn ? (
            <Text size={200} className={styles.meta}>
              Reply STOP to any Lifeboat SMS to stop them too.
            </Text>
          ) : null}
          <div className={styles.buttons}>
            {consent.optedIn ? (
              <Button size="small" disabled={busy} onClick={() => void change(false)} data-testid="sms-opt-out">
                Stop SMS alerts
              </Button>
            ) : (
              <Button size="small" appearance="primary" disabled={busy} onClick={() => void change(true)} data-testid="sms-opt-in">
                Text me when email is down
              </Button>
            )}
          </div>
        </>
      )}
    </Card>
  );
}
