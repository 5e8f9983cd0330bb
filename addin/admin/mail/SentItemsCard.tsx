/**
 * The admin's line for the Sent Items write-back: how far the copy of what users sent through
 * Lifeboat into their Exchange Sent Items has got (polled while it runs), why it cannot happen
 * (no Graph connection, a permission missing), and the button that starts it when Exchange is back.
 */
import { Button, Card, MessageBar, MessageBarBody, ProgressBar, Subtitle2, Text } from '@fluentui/react-components';
import { useState } from 'react';
import { AdminApiError, denied } from '../api';
import { sentItems, type SentItemsRun } from '../client';
import type { Me } from '../contract';
import { ErrorBar, Guard, Hint, Show, useEvery, useLoad } from '../common';
import { showInstant } from '../time';

const POLL_RUNNING_MS = 1000;

function line(run: SentItemsRun): string {
  if (run.state === 'never') return 'Not run yet. It starts by itself when a continuity event ends, or start it here once Exchange Online is back.';
  const auto = run.trigger === 'eventEnded' ? 'Started by itself when the continuity event ended. ' : '';
  return auto + describe(run);
}

function describe(run: SentItemsRun): string {
  const counts = `${run.copied ?? 0} of ${run.total ?? 0} copied, ${run.skipped ?? 0} copied before, ${run.failed ?? 0} failed`;
  const attachments = run.withoutAttachments ? `, ${run.withoutAttachments} without their attachments (too large for Graph)` : '';
  if (run.state === 'running') return `Copying: ${counts}${attachments}.`;
  if (run.state === 'unavailable') return 'Cannot copy: no Microsoft Graph connection (this organisation has none).';
  const when = run.finishedAt ? ` (finished ${showInstant(run.finishedAt)})` : '';
  return `${run.state === 'done' ? 'Done' : 'Stopped'}: ${counts}${attachments}${when}.`;
}

export function SentItemsCard({ me, className }: { me: Me; className?: string }) {
  const [value, reload] = useLoad(sentItems.progress);
  const [error, setError] = useState<AdminApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const running = value.state === 'ready' && value.data.state === 'running';
  useEvery(reload, POLL_RUNNING_MS, running);
  const cannot = denied(me, 'basicAdministrator');

  async function start() {
    setBusy(true);
    setError(null);
    try {
      await sentItems.start();
      await reload();
    } catch (err) {
      setError(err instanceof AdminApiError ? err : new AdminApiError(String(err), 0));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Card className={className} aria-labelledby="sent-items-title" data-testid="sent-items-card">
      <Subtitle2 as="h2" id="sent-items-title">
        Copy to Exchange Sent Items
      </Subtitle2>
      <Hint>
        When Exchange Online is back, the mail users sent through Lifeboat is put into their Outlook Sent Items, once per message, as sent mail (not drafts). It
        starts by itself when a continuity event ends. Needs the Microsoft Graph application permission Mail.ReadWrite.
      </Hint>
      <Show value={value} label="Loading the Sent Items copy…">
        {(run) => (
          <>
            <Text data-testid="sent-items-line">{line(run)}</Text>
            {run.state === 'running' ? (
              <ProgressBar
                aria-label="Copy to Exchange Sent Items"
                value={run.total ? ((run.copied ?? 0) + (run.skipped ?? 0) + (run.failed ?? 0)) / run.total : undefined}
              />
            ) : null}
            {run.reason ? (
              <MessageBar intent="warning" layout="multiline">
                <MessageBarBody>{run.reason}</MessageBarBody>
              </MessageBar>
            ) : null}
            {run.lastError && !run.reason ? <Hint>Last error: {run.lastError}</Hint> : null}
          </>
        )}
      </Show>
      {error ? <ErrorBar error={error} title="Could not start the copy" /> : null}
      <div>
        <Guard reason={cannot}>
          <Button appearance="primary" disabledFocusable={Boolean(cannot) || running || busy} onClick={() => void start()} data-testid="sent-items-start">
            {running ? 'Copying…' : 'Copy sent mail to Exchange'}
          </Button>
        </Guard>
      </div>
    </Card>
  );
}
