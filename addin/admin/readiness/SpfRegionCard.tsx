/** Which outbound relay the tenant's SPF records must include: a region from LIFEBOAT_SPF_REGIONS, or a custom include. */
import { Button, Card, Field, Input, Select, Subtitle2, Text, makeStyles, tokens } from '@fluentui/react-components';
import { useState, type FormEvent } from 'react';
import { AdminApiError, denied } from '../api';
import { readiness } from '../client';
import type { Me, ReadinessSettings } from '../contract';
import { Hint } from '../common';

export type { ReadinessSettings };

const useStyles = makeStyles({
  form: { display: 'flex', flexWrap: 'wrap', gap: '8px 12px', alignItems: 'flex-end', marginTop: '8px' },
  field: { minWidth: '200px', flex: '1 1 220px' },
  note: { color: tokens.colorNeutralForeground2, display: 'block' },
});

export function SpfRegionCard({ me, settings, onSaved }: { me: Me; settings: ReadinessSettings; onSaved: () => void }) {
  const c = useStyles();
  const cannot = denied(me, 'fullAdministrator');
  const [region, setRegion] = useState(settings.region ?? '');
  const [custom, setCustom] = useState(settings.customInclude ?? '');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const source =
    settings.spfIncludeSource === 'custom'
      ? 'a custom include'
      : settings.spfIncludeSource === 'region'
        ? `region ${settings.region}`
        : 'the server default (LIFEBOAT_SPF_INCLUDE)';

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    setMessage(null);
    try {
      await readiness.saveSettings({ region: region || null, customInclude: custom.trim() || null });
      setMessage('Saved. The SPF checks below now use this include.');
      onSaved();
    } catch (err) {
      const fields = err instanceof AdminApiError ? err.fieldErrors : [];
      setErrors(Object.fromEntries(fields.map((f) => [f.path, f.message])));
      if (!fields.length) setMessage((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Card data-testid="spf-region">
      <Subtitle2 as="h2">Outbound relay for the SPF checks</Subtitle2>
      <Text data-testid="spf-include">
        {settings.spfInclude
          ? `SPF records must include ${settings.spfInclude} (from ${source}).`
          : 'No outbound include is configured: pick a region or enter your relay’s include.'}
      </Text>
      {cannot && <Hint>{cannot}</Hint>}
      <form noValidate onSubmit={submit} className={c.form} aria-label="Outbound relay region">
        <Field label="Region" className={c.field} validationMessage={errors.region}>
          <Select value={region} disabled={Boolean(cannot) || busy} onChange={(_, d) => setRegion(d.value)}>
            <option value="">Default{settings.defaultInclude ? ` (${settings.defaultInclude})` : ' (none configured)'}</option>
            {settings.regions.map((r) => (
              <option key={r.id} value={r.id}>
                {r.id.toUpperCase()} ({r.include})
              </option>
            ))}
          </Select>
        </Field>
        <Field label="Custom include (optional, overrides the region)" className={c.field} validationMessage={errors.customInclude}>
          <Input value={custom} disabled={Boolean(cannot) || busy} placeholder="spf.relay.example" onChange={(_, d) => setCustom(d.value)} />
        </Field>
        <Button type="submit" appearance="primary" disabled={Boolean(cannot) || busy}>
          Save region
        </Button>
      </form>
      {settings.regions.length === 0 && (
        <Text className={c.note}>This server lists no regions (LIFEBOAT_SPF_REGIONS); only the default or a custom include applies.</Text>
      )}
      {message && (
        <Text role="status" className={c.note} data-testid="spf-region-message">
          {message}
        </Text>
      )}
    </Card>
  );
}
