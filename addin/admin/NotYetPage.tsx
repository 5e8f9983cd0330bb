/** A section whose server capability has not landed: say so plainly instead of showing empty controls. */
import { MessageBar, MessageBarBody, MessageBarTitle } from '@fluentui/react-components';
import { PageHead } from './common';

export function NotYetPage({ title, what }: { title: string; what: string }) {
  return (
    <section aria-labelledby="page-title">
      <PageHead title={title} />
      <MessageBar intent="info" data-testid="not-available">
        <MessageBarBody>
          <MessageBarTitle>Not available yet</MessageBarTitle>
          {what} is not part of this Lifeboat server yet. This page lights up when the server offers it; nothing here needs setting up now.
        </MessageBarBody>
      </MessageBar>
    </section>
  );
}
