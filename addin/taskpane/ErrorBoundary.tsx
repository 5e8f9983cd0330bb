import { Button, MessageBar, MessageBarActions, MessageBarBody, MessageBarTitle } from '@fluentui/react-components';
import { Component, type ReactNode } from 'react';

/** A pane that hit a bug says so (with a way out) instead of going blank. */
export class ErrorBoundary extends Component<{ children: ReactNode }, { error: Error | null }> {
  override state: { error: Error | null } = { error: null };

  static getDerivedStateFromError(error: Error) {
    return { error };
  }

  override render() {
    if (!this.state.error) return this.props.children;
    return (
      <div style={{ padding: 12 }}>
        <MessageBar intent="error" layout="multiline" data-testid="pane-crashed">
          <MessageBarBody>
            <MessageBarTitle>Lifeboat ran into a problem</MessageBarTitle>
            <span style={{ display: 'block' }}>{this.state.error.message}</span>
          </MessageBarBody>
          <MessageBarActions>
            <Button size="small" onClick={() => window.location.reload()}>
              Reload
            </Button>
          </MessageBarActions>
        </MessageBar>
      </div>
    );
  }
}
