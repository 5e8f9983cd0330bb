/**
 * The continuity inbox's address for administrators to hand out (readiness page, users card): read
 * from /addin/config.json through the typed client, the same setting the Outlook pane links to
 * (LIFEBOAT_CONTINUITY_INBOX_URL, default the public URL's root).
 */
import { Button, Link, Text } from '@fluentui/react-components';
import { useEffect, useState } from 'react';
import * as client from './client';

export function ContinuityInboxLink() {
  const [url, setUrl] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  useEffect(() => {
    let live = true;
    const root = `${window.location.origin}/`;
    void client.addin.config().then(
      (c) => live && setUrl(c.continuityInboxUrl ?? root),
      () => live && setUrl(root),
    );
    return () => {
      live = false;
    };
  }, []);
  if (!url) return null;
  return (
    <Text block data-testid="continuity-inbox-link">
      Give users the <strong>continuity inbox</strong> (any browser or phone, installable as an app; they sign in with their Lifeboat cloud password):{' '}
      <Link href={url} target="_blank" rel="noreferrer">
        {url}
      </Link>{' '}
      <Button
        size="small"
        appearance="subtle"
        onClick={() =>
          void navigator.clipboard?.writeText(url).then(
            () => setCopied(true),
            () => setCopied(false),
          )
        }
      >
        {copied ? 'Copied' : 'Copy link'}
      </Button>
    </Text>
  );
}
