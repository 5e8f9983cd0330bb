import { createRoot } from 'react-dom/client';
import { FluentProvider, Spinner, webLightTheme } from '@fluentui/react-components';
import { waitForOffice } from '../office/host';
import { loadAddinConfig } from '../lib/auth';
import { App } from './App';
import { ErrorBoundary } from './ErrorBoundary';

const root = createRoot(document.getElementById('root')!);
root.render(
  <FluentProvider theme={webLightTheme}>
    <Spinner style={{ padding: 24 }} label="Starting Lifeboat…" data-testid="loading" />
  </FluentProvider>,
);

// The backend is the origin that serves the pane.
const baseUrl = window.location.origin;
void Promise.all([waitForOffice(), loadAddinConfig(baseUrl)]).then(([host, config]) => {
  root.render(
    <FluentProvider theme={webLightTheme}>
      <ErrorBoundary>
        <App env={{ baseUrl, host, config }} />
      </ErrorBoundary>
    </FluentProvider>,
  );
});
