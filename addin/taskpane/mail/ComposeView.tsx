import {
  Button,
  Caption1,
  Field,
  Input,
  Link,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  Spinner,
  Subtitle2,
  Text,
  Textarea,
  makeStyles,
  tokens,
} from '@fluentui/react-components';
import { useMemo, useRef, useState } from 'react';
import type { Api, MailMessage, OutgoingMessage, Person } from '../../lib/api';
import { ApiError } from '../../lib/api';
import {
  composeHtml,
  newIdempotencyKey,
  parseMailboxList,
  prefixSubject,
  quoteOriginal,
  replyRecipients,
  uniqueAddresses,
  type ComposeMode,
} from '../../lib/compose';
import { RecipientInput } from './RecipientInput';
import { SafeHtml } from './SafeHtml';

const useStyles = makeStyles({
  root: { display: 'flex', flexDirection: 'column', rowGap: '8px' },
  actions: { display: 'flex', columnGap: '8px', alignItems: 'center' },
  quoted: { color: tokens.colorNeutralForeground3 },
});

const TITLES: Record<ComposeMode, string> = { new: 'New message', reply: 'Reply', replyAll: 'Reply all', forward: 'Forward' };

export async function blobToBase64(blob: Blob): Promise<string> {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

export function ComposeView(props: {
  api: Api;
  mode: ComposeMode;
  original: MailMessage | null;
  me: string | null;
  timeZone: string | undefined;
  onSent: (sent: MailMessage) => void;
  onCancel: () => void;
  /** Directory suggestions for the recipient fields (the web inbox); none: plain fields. */
  people?: (query: string) => Promise<Person[]>;
  /** Lets the user attach files from the device (the web inbox; the pane sends Outlook drafts instead). */
  attachFiles?: boolean;
}) {
  const styles = useStyles();
  const { mode, original, me, timeZone } = props;
  const initial = useMemo(() => (original ? replyRecipients(original, mode, me) : { to: [], cc: [] }), [original, mode, me]);
  const [to, setTo] = useState(initial.to.join(', '));
  const [cc, setCc] = useState(initial.cc.join(', '));
  const [bcc, setBcc] = useState('');
  const [subject, setSubject] = useState(original ? prefixSubject(original.subject, mode) : '');
  const [text, setText] = useState('');
  const [phase, setPhase] = useState<'editing' | 'sending'>('editing');
  const [error, setError] = useState<string | null>(null);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  // One key per draft: a retry after a lost answer sends the same message once.
  const key = useRef(newIdempotencyKey());
  const quoted = useMemo(() => (original ? quoteOriginal(original, mode, timeZone) : ''), [original, mode, timeZone]);
  const forwarded = mode === 'forward' && original ? original.attachments : [];
  const [files, setFiles] = useState<File[]>([]);

  const send = async () => {
    const lists = { to: parseMailboxList(to), cc: parseMailboxList(cc), bcc: parseMailboxList(bcc) };
    const errors: Record<string, string> = {};
    for (const [name, parsed] of Object.entries(lists)) if (parsed.invalid.length) errors[name] = `Not an email address: ${parsed.invalid.join(', ')}`;
    if (!Object.keys(errors).length && !lists.to.mailboxes.length && !lists.cc.mailboxes.length && !lists.bcc.mailboxes.length)
      errors.to = 'Add at least one recipient.';
    setFieldErrors(errors);
    if (Object.keys(errors).length) return;
    setPhase('sending');
    setError(null);
    try {
      const attachments: OutgoingMessage['attachments'] = [];
      for (const a of forwarded) {
        attachments.push({
          filename: a.filename,
          contentType: a.contentType || 'application/octet-stream',
          contentBase64: await blobToBase64(await props.api.attachment(original!.id, a.index)),
        });
      }
      for (const f of files) {
        attachments.push({ filename: f.name, contentType: f.type || 'application/octet-stream', contentBase64: await blobToBase64(f) });
      }
      const message: OutgoingMessage = {
        to: uniqueAddresses(lists.to.mailboxes),
        cc: uniqueAddresses(lists.cc.mailboxes),
        bcc: uniqueAddresses(lists.bcc.mailboxes),
        subject,
        html: composeHtml(text, quoted),
        attachments,
        // Replies stay in the original's conversation when Exchange is back (forwards start a new one).
        ...(original && (mode === 'reply' || mode === 'replyAll') ? { inReplyTo: original.id } : {}),
      };
      props.onSent(await props.api.send(message, key.current));
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError((err as Error).message, 0);
      setError(e.unreachable ? `${e.message} Your message was not lost: press Send again (it will be sent only once).` : e.message);
      setPhase('editing');
    }
  };

  const sending = phase === 'sending';
  return (
    <form
      className={styles.root}
      data-testid="compose"
      data-mode={mode}
      onSubmit={(e) => {
        e.preventDefault();
        void send();
      }}
    >
      <Link as="button" type="button" onClick={props.onCancel} data-testid="compose-cancel">
        ‹ Discard and go back
      </Link>
      <Subtitle2 as="h2">{TITLES[mode]}</Subtitle2>
      <Field label="To" validationMessage={fieldErrors.to}>
        <RecipientInput value={to} onChange={setTo} disabled={sending} people={props.people} testId="compose-to" />
      </Field>
      <Field label="Cc" validationMessage={fieldErrors.cc}>
        <RecipientInput value={cc} onChange={setCc} disabled={sending} people={props.people} testId="compose-cc" />
      </Field>
      <Field label="Bcc" validationMessage={fieldErrors.bcc}>
        <RecipientInput value={bcc} onChange={setBcc} disabled={sending} people={props.people} testId="compose-bcc" />
      </Field>
      <Field label="Subject">
        <Input value={subject} onChange={(_, d) => setSubject(d.value)} disabled={sending} data-testid="compose-subject" />
      </Field>
      <Field label="Message">
        <Textarea value={text} onChange={(_, d) => setText(d.value)} disabled={sending} resize="vertical" rows={6} data-testid="compose-body" />
      </Field>
      {props.attachFiles ? (
        <Field label="Attach files" hint={files.length ? files.map((f) => `${f.name} (${Math.ceil(f.size / 1024)} KB)`).join(', ') : 'Up to 25 MB in all.'}>
          <input
            type="file"
            multiple
            aria-label="Attach files"
            disabled={sending}
            data-testid="compose-files"
            onChange={(e) => setFiles(Array.from(e.currentTarget.files ?? []))}
          />
        </Field>
      ) : null}
      {forwarded.length ? (
        <Caption1 data-testid="compose-forwarded-attachments">Attachments forwarded: {forwarded.map((a) => a.filename).join(', ')}</Caption1>
      ) : null}
      {quoted ? (
        <>
          <Caption1 className={styles.quoted}>
            {mode === 'forward' ? 'The forwarded message follows your text:' : 'The original message is quoted below your text:'}
          </Caption1>
          <SafeHtml html={quoted} title="Quoted original" height={160} testId="compose-quoted" />
        </>
      ) : null}
      {error ? (
        <MessageBar intent="error" layout="multiline" data-testid="compose-error">
          <MessageBarBody>
            <MessageBarTitle>Not sent</MessageBarTitle>
            <span style={{ display: 'block' }}>{error}</span>
          </MessageBarBody>
        </MessageBar>
      ) : null}
      <div className={styles.actions}>
        <Button appearance="primary" type="submit" disabled={sending} data-testid="compose-send">
          {sending ? 'Sending…' : 'Send'}
        </Button>
        {sending ? <Spinner size="tiny" aria-label="Sending" label={files.length ? 'Uploading and sending…' : undefined} /> : null}
        <Text size={200}>From {me ?? 'your address'}, through Lifeboat</Text>
      </div>
    </form>
  );
}
