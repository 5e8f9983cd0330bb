import { Body1, Title3 } from '@fluentui/react-components';

/** The task pane shell; continuity status, client detection and sign-in arrive with the add-in issue. */
export function App() {
  return (
    <main style={{ padding: 16 }}>
      <Title3 as="h1">Lifeboat</Title3>
      <Body1 as="p">Email continuity for your mailbox.</Body1>
    </main>
  );
}
