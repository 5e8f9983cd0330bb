/**
 * The readiness row for the Exchange Online set-up: each part verified from outside (MX and SPF by DNS,
 * Lifeboat's ARC seal on the monitor's latest probe mail), or said to be unverifiable from here with the
 * Exchange Online PowerShell `Get-` command that shows it. Data through the typed client only.
 */
import { useCallback, useEffect, useState } from 'react';
import { Badge, Button, Card, Checkbox, Field, Input, Subtitle2, Text, makeStyles } from '@fluentui/react-components';
import { readiness } from '../client';
import { CommandBlock, ErrorBar } from '../common';
import type { ExchangeReadiness } from '../contract';

const useStyles = makeStyles({
  head: { display: 'flex', justifyContent: 'space-between', gap: '8px', alignItems: 'baseline', flexWrap: 'wrap' },
  row: { display: 'flex', flexWrap: 'wrap', gap: '12px', alignItems: 'flex-end' },
  list: { listStyle: 'none', margin: 0, padding: 0, display: 'flex', flexDirection: 'column', rowGap: '10px' },
  item: { display: 'flex', flexDirection: 'column', gap: '2px' },
  title: { display: 'flex', gap: '8px', alignItems: 'center', flexWrap: 'wrap' },
});

const STATES = {
  verified: { color: 'success', label: 'Verified' },
  notVerified: { color: 'warning', label: 'Not verified' },
  cannotVerify: { color: 'informative', label: 'Cannot be verified from outside' },
} as const;

export function ExchangeReadinessCard() {
  const s = useStyles();
  const [host, setHost] = useState('');
  const [route, setRoute] = useState(false);
  const [result, setResult] = useState<ExchangeReadiness | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const check = useCallback(async (lifeboatHost: string, routeThroughLifeboat: boolean) => {
    setError(null);
    try {
      const next = await readiness.exchange(lifeboatHost.trim() || null, routeThroughLifeboat);
      setResult(next);
      setHost(next.lifeboatHost);
    } catch (err) {
      setError(err as Error);
    }
  }, []);
  useEffect(() => void check('', false), [check]);
  const missing = result?.checks.filter((c) => c.state === 'notVerified').length ?? 0;
  return (
    <Card data-testid="exchange-readiness">
      <div className={s.head}>
        <Subtitle2 as="h2">Exchange Online set-up, verified from outside</Subtitle2>
        {result && (
          <Badge appearance="filled" color={missing ? 'warning' : 'success'}>
            {missing ? `${missing} not verified` : 'Verified'}
          </Badge>
        )}
      </div>
      <Text>DNS and the ARC seal on the continuity monitor’s probe mail are checked now; connectors and transport rules only Exchange can show.</Text>
      <div className={s.row}>
        <Field label="Lifeboat's SMTP host name">
          <Input value={host} onChange={(_, d) => setHost(d.value)} />
        </Field>
        <Checkbox checked={route} onChange={(_, d) => setRoute(!!d.checked)} label="Inbound mail is routed through Lifeboat" />
        <Button onClick={() => void check(host, route)}>Check again</Button>
      </div>
      {error && <ErrorBar error={error} title="Could not check the Exchange Online set-up" />}
      {result && (
        <ul className={s.list} aria-label="Exchange Online set-up checks">
          {result.checks.map((c) => (
            <li key={c.id} className={s.item} data-testid="exchange-check" data-check={c.id} data-state={c.state}>
              <span className={s.title}>
                <Text weight="semibold">{c.title}</Text>
                <Badge appearance="tint" color={STATES[c.state].color}>
                  {STATES[c.state].label}
                </Badge>
              </span>
              <Text size={200}>{c.detail}</Text>
              {c.command && <CommandBlock>{c.command}</CommandBlock>}
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}
