/** The web continuity inbox's entry: renders the app and registers the service worker (the PWA shell). */
import { createRoot } from 'react-dom/client';
import { FluentProvider, webLightTheme } from '@fluentui/react-components';
import { ErrorBoundary } from '../taskpane/ErrorBoundary';
import { InboxApp } from './InboxApp';

createRoot(document.getElementById('root')!).render(
  <FluentProvider theme={webLightTheme}>
    <ErrorBoundary>
      <InboxApp baseUrl={window.location.origin} />
    </ErrorBoundary>
  </FluentProvider>,
);

if ('serviceWorker' in navigator && window.isSecureContext) {
  window.addEventListener('load', () => {
    navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => {
      // without it the inbox works; it just does not open offline
    });
  });
}
