/**
 * Cloud passwords from a spreadsheet (CSV or XLSX): a dry run shows every row's result with its row
 * number and changes nothing; Apply sets the good rows; passwords Lifeboat generated are offered as a
 * file that can be downloaded once. The page never shows a password it did not need to.
 */
import { Badge, Button, Card, Field, Link, MessageBar, MessageBarBody, MessageBarTitle, Subtitle2, Text, makeStyles } from '@fluentui/react-components';
import { useState } from 'react';
import { AdminApiError, denied } from '../api';
import { directory } from '../client';
import type { Me, PasswordImportResult, PasswordImportRow } from '../contract';
import { ErrorBar, Guard, Hint, ScrollTable } from '../common';

const useStyles = makeStyles({
  card: { display: 'flex', flexDirection: 'column', rowGap: '8px' },
  row: { display: 'flex', flexWrap: 'wrap', gap: '8px', alignItems: 'center' },
  file: { maxWidth: '100%' },
  // A long result may wrap in a narrow column: the badge grows with it instead of spilling out.
  badge: { height: 'auto', minHeight: '20px', whiteSpace: 'normal', textAlign: 'start' },
});

type Outcome = PasswordImportRow['outcome'];
/** What a row does (dry run) or did (applied), in the admin's words, and how it is coloured. */
const OUTCOMES: Record<Outcome, { planned: string; done: string; color: 'success' | 'informative' | 'danger' | 'warning' }> = {
  set: { planned: 'Sets this password', done: 'Password set', color: 'success' },
  generate: { planned: 'Gets a generated password', done: 'Password generated', color: 'informative' },
  unknownUser: { planned: 'Unknown user', done: 'Unknown user (skipped)', color: 'danger' },
  weakPassword: { planned: 'Weak password', done: 'Weak password (skipped)', color: 'danger' },
  duplicate: { planned: 'Duplicate', done: 'Duplicate (skipped)', color: 'warning' },
  invalid: { planned: 'Not an address', done: 'Not an address (skipped)', color: 'danger' },
};

const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

export function ImportCard({ me, onApplied }: { me: Me; onApplied: () => void }) {
  const c = useStyles();
  const cannot = denied(me, 'basicAdministrator');
  const [file, setFile] = useState<File | null>(null);
  const [result, setResult] = useState<PasswordImportResult | null>(null);
  const [error, setError] = useState<AdminApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const [downloaded, setDownloaded] = useState(false);

  async function run(apply: boolean) {
    if (!file) return;
    setBusy(true);
    setError(null);
    try {
      // Sent as the file's own type; an XLSX without one is still told by its content on the server.
      const body = file.type ? file : new Blob([file], { type: file.name.toLowerCase().endsWith('.xlsx') ? XLSX_TYPE : 'text/csv' });
      const next = await directory.importPasswords(body, apply);
      setResult(next);
      setDownloaded(false);
      if (apply) onApplied();
    } catch (err) {
      setError(err instanceof AdminApiError ? err : new AdminApiError(String(err), 0));
    } finally {
      setBusy(false);
    }
  }

  const fileError = error?.fieldErrors.find((e) => e.path === 'file');
  const usable = result ? result.summary.set + result.summary.generate : 0;

  return (
    <Card className={c.card} data-testid="password-import">
      <Subtitle2 as="h2">Import cloud passwords from a spreadsheet</Subtitle2>
      <Hint>
        A CSV or Excel (XLSX) file: the user&apos;s email address in the first column and the password in the second, or the word <b>generate</b> for Lifeboat
        to make one. A header row (email, password) is optional. Check the file first: nothing changes until you press Apply.
      </Hint>
      <Field label="Spreadsheet (CSV or XLSX)" validationMessage={fileError ? `The file ${fileError.message}` : undefined}>
        {(control) => (
          <input
            {...control}
            className={c.file}
            type="file"
            accept=".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            disabled={Boolean(cannot) || busy}
            onChange={(e) => {
              setFile(e.target.files?.[0] ?? null);
              setResult(null);
              setError(null);
            }}
          />
        )}
      </Field>
      <div className={c.row}>
        <Guard reason={cannot}>
          <Button disabledFocusable={Boolean(cannot)} disabled={!file || busy} onClick={() => void run(false)}>
            {busy && !result ? 'Checking…' : 'Check the file (dry run)'}
          </Button>
        </Guard>
        {result && !result.applied && (
          <Button appearance="primary" disabled={busy || usable === 0} onClick={() => void run(true)}>
            {busy ? 'Applying…' : `Apply: set ${usable} password${usable === 1 ? '' : 's'}`}
          </Button>
        )}
      </div>
      {error && !fileError && <ErrorBar error={error} title="The file was not imported" />}
      {result && <ImportSummary result={result} downloaded={downloaded} onDownload={() => setDownloaded(true)} />}
      {result && (
        <ScrollTable
          label={result.applied ? 'Import results' : 'Dry run results'}
          testId="import-rows"
          rowTestId="import-row"
          minWidth={640}
          rows={result.rows}
          rowKey={(r) => String(r.row)}
          columns={[
            { header: 'Row', cell: (r) => r.row },
            { header: 'Email', cell: (r) => r.email || '(empty)' },
            {
              header: 'Result',
              cell: (r) => (
                <Badge appearance="tint" className={c.badge} color={OUTCOMES[r.outcome].color} data-outcome={r.outcome}>
                  {result.applied ? OUTCOMES[r.outcome].done : OUTCOMES[r.outcome].planned}
                </Badge>
              ),
            },
            { header: 'Why', cell: (r) => r.message ?? '' },
          ]}
        />
      )}
    </Card>
  );
}

function ImportSummary({ result, downloaded, onDownload }: { result: PasswordImportResult; downloaded: boolean; onDownload: () => void }) {
  const { rows, set, generate, refused } = result.summary;
  const counts = `${rows} row${rows === 1 ? '' : 's'}: ${set} with a password, ${generate} to generate, ${refused} refused.`;
  if (!result.applied) {
    return (
      <MessageBar intent={refused ? 'warning' : 'info'} data-testid="import-summary">
        <MessageBarBody>
          <MessageBarTitle>Dry run: nothing has changed</MessageBarTitle>
          {counts} {refused ? 'Refused rows are skipped when you apply; fix them in the file and check it again, or apply the rest.' : ''}
        </MessageBarBody>
      </MessageBar>
    );
  }
  return (
    <MessageBar intent="success" layout="multiline" data-testid="import-summary">
      <MessageBarBody>
        <MessageBarTitle>Applied</MessageBarTitle>
        {counts}{' '}
        {result.download && !downloaded && (
          <>
            <Link href={result.download} download onClick={onDownload} data-testid="generated-download">
              Download the generated passwords (once)
            </Link>
            <Text block size={200}>
              The file can be downloaded once, within 30 minutes. Hand each password to its user through a channel that works during an outage, then delete the
              file.
            </Text>
          </>
        )}
        {result.download && downloaded && (
          <Text block data-testid="generated-downloaded">
            Downloaded. The file cannot be fetched again: keep it safe until the passwords are handed out, then delete it.
          </Text>
        )}
      </MessageBarBody>
    </MessageBar>
  );
}
