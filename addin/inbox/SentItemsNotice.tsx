/**
 * Tells a user what became of the mail they sent through Lifeboat once Exchange is back: copied into
 * their Outlook Sent Items (how many, when), or that it cannot be (no Graph connection). Says nothing
 * before a copy ran, and nothing when its answer cannot be had (the rest of the inbox says that).
 * Either notice can be dismissed; a dismissed one stays away on this device until its news changes.
 */
import { Button, MessageBar, MessageBarActions, MessageBarBody, MessageBarTitle } from '@fluentui/react-components';
import { useEffect, useState } from 'react';
import type { Api, SentItemsCopy } from '../lib/api';
import { formatFull } from '../lib/compose';

const DISMISSED = 'lifeboat.inbox.sentItemsNotice';
const storage = () => {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
};

export function SentItemsNotice({ api, timeZone }: { api: Pick<Api, 'sentItems'>; timeZone?: string }) {
  const [copy, setCopy] = useState<SentItemsCopy | null>(null);
  const [dismissed, setDismissed] = useState(() => storage()?.getItem(DISMISSED) ?? null);
  useEffect(() => {
    let live = true;
    api.sentItems().then(
      (c) => live && setCopy(c),
      () => {},
    );
    return () => {
      live = false;
    };
  }, [api]);
  // What the notice says: a new copy (or a change of state) shows it again.
  const news = copy ? `${copy.state}:${copy.copied}` : '';
  if (!copy || dismissed === news) return null;
  const dismiss = (
    <MessageBarActions>
      <Button
        size="small"
        onClick={() => {
          storage()?.setItem(DISMISSED, news);
          setDismissed(news);
        }}
      >
        Dismiss
      </Button>
    </MessageBarActions>
  );
  if (copy.copied) {
    return (
      <MessageBar intent="success" layout="multiline" data-testid="sent-items-copied">
        <MessageBarBody>
          <MessageBarTitle>Your sent mail is in Outlook</MessageBarTitle>
          {copy.copied === 1 ? '1 message' : `${copy.copied} messages`} you sent through Lifeboat {copy.copied === 1 ? 'is' : 'are'} now in your Outlook Sent
          Items{copy.lastCopiedAt ? ` (copied ${formatFull(copy.lastCopiedAt, timeZone)})` : ''}. You can find and reply to {copy.copied === 1 ? 'it' : 'them'}{' '}
          there.
        </MessageBarBody>
        {dismiss}
      </MessageBar>
    );
  }
  if (copy.state === 'unavailable') {
    return (
      <MessageBar intent="info" layout="multiline" data-testid="sent-items-unavailable">
        <MessageBarBody>
          <MessageBarTitle>Sent mail stays here</MessageBarTitle>
          What you send through Lifeboat cannot be copied into your Outlook Sent Items for your organisation: find it under Sent here while it is kept. Ask your
          IT administrator if you need it in Outlook.
        </MessageBarBody>
        {dismiss}
      </MessageBar>
    );
  }
  return null;
}
