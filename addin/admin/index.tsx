import { createRoot } from 'react-dom/client';
import { FluentProvider, webLightTheme } from '@fluentui/react-components';
import { AdminApp } from './App';

createRoot(document.getElementById('root')!).render(
  <FluentProvider theme={webLightTheme} style={{ minHeight: '100vh' }}>
    <AdminApp />
  </FluentProvider>,
);
