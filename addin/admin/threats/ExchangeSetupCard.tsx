/**
 * The Exchange Online set-up: the reviewed PowerShell for this tenant (inbound connector, Enhanced
 * Filtering, the scoped routing rule when mail is routed through Lifeboat, trusted ARC sealers), each
 * line with what it does, and the lines that undo it. Graph cannot make these changes; an Exchange
 * administrator runs them.
 */
import { useState } from 'react';
import { Button, Card, CardHeader, Checkbox, Field, Input, Text, makeStyles } from '@fluentui/react-components';
import { exchangeSetup } from '../client';
import { CommandBlock, ErrorBar, Hint } from '../common';
import type { ExchangePowerShell, PowerShellLine } from '../contract';

const useStyles = makeStyles({
  row: { display: 'flex', flexWrap: 'wrap', gap: '12px', alignItems: 'flex-end' },
  list: { margin: 0, paddingLeft: '20px', display: 'flex', flexDirection: 'column', gap: '10px' },
});

function Lines({ title, lines, testId }: { title: string; lines: PowerShellLine[]; testId: string }) {
  const s = useStyles();
  return (
    <section aria-label={title}>
      <Text as="h2" weight="semibold" size={400}>
        {title}
      </Text>
      <ol className={s.list} data-testid={testId}>
        {lines.map((l) => (
          <li key={l.command}>
            <CommandBlock>{l.command}</CommandBlock>
            <Text size={200}>{l.explanation}</Text>
          </li>
        ))}
      </ol>
    </section>
  );
}

export function ExchangeSetupCard() {
  const s = useStyles();
  const [host, setHost] = useState(window.location.hostname);
  const [sealer, setSealer] = useState(window.location.hostname);
  const [route, setRoute] = useState(false);
  const [script, setScript] = useState<ExchangePowerShell | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const show = async () => {
    setError(null);
    try {
      setScript(await exchangeSetup.powershell(host, sealer, route));
    } catch (err) {
      setError(err as Error);
    }
  };
  return (
    <Card>
      <CardHeader header={<Text weight="semibold">Exchange Online set-up</Text>} />
      <Hint>
        Microsoft Graph cannot create connectors, transport rules or trusted ARC sealers: an Exchange administrator runs these lines in Exchange Online
        PowerShell. Your own transport rules keep their order.
      </Hint>
      <div className={s.row}>
        <Field label="Lifeboat's SMTP host name">
          <Input value={host} onChange={(_, d) => setHost(d.value)} />
        </Field>
        <Field label="ARC sealing domain">
          <Input value={sealer} onChange={(_, d) => setSealer(d.value)} />
        </Field>
        <Checkbox checked={route} onChange={(_, d) => setRoute(!!d.checked)} label="Inbound mail is routed through Lifeboat" />
        <Button onClick={() => void show()}>Show PowerShell</Button>
      </div>
      {error && <ErrorBar error={error} title="Could not build the PowerShell" />}
      {script && <Lines title="Apply" lines={script.apply} testId="powershell-apply" />}
      {script && <Lines title="Undo" lines={script.undo} testId="powershell-undo" />}
    </Card>
  );
}
