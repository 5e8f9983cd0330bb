/** Small pieces the notification cards share: a field's server errors, and the result note under a form. */
import { MessageBar, MessageBarBody } from '@fluentui/react-components';
import type { FieldError } from '../contract';

export const errorFor = (errors: FieldError[], ...paths: string[]) =>
  errors
    .filter((x) => paths.some((p) => x.path === p))
    .map((x) => x.message)
    .join('; ') || undefined;

export function Note({ message, testId }: { message: { intent: 'success' | 'error'; text: string } | null; testId: string }) {
  if (!message) return null;
  return (
    <MessageBar intent={message.intent} role={message.intent === 'error' ? 'alert' : 'status'} data-testid={testId}>
      <MessageBarBody>{message.text}</MessageBarBody>
    </MessageBar>
  );
}
