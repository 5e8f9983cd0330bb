/**
 * The error summary at the top of a refused form: it takes focus (so a keyboard or screen-reader
 * user lands on it, not 1,600 px below) and lists each field as a link that focuses the field,
 * where its message is shown (the summary names fields only, so no message is said twice). Fields
 * are found by their wrapper's data-field attribute.
 */
import { Link, MessageBar, MessageBarBody, MessageBarTitle } from '@fluentui/react-components';
import { useEffect, useRef } from 'react';
import type { FieldError } from '../contract';

export function ErrorSummary({ errors, labels, title, focusKey }: { errors: FieldError[]; labels: Record<string, string>; title: string; focusKey: number }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (focusKey > 0) ref.current?.focus();
  }, [focusKey]);
  const focusField = (path: string) => {
    const base = path.replace(/Local$/, '');
    const root = ref.current?.closest('form');
    const wrapper = root?.querySelector(`[data-field="${base}"]`) ?? root?.querySelector(`[data-field^="${base.split('.')[0]}"]`);
    const control = wrapper?.querySelector<HTMLElement>('input:not([readonly]), select, textarea, button') ?? wrapper?.querySelector<HTMLElement>('input');
    control?.scrollIntoView({ block: 'center' });
    control?.focus();
  };
  return (
    <div ref={ref} tabIndex={-1} data-testid="error-summary" aria-labelledby="error-summary-title" style={{ outline: 'none' }}>
      <MessageBar intent="error" role="alert" layout="multiline">
        <MessageBarBody>
          <MessageBarTitle id="error-summary-title">{title}</MessageBarTitle>
          {errors.length > 0 && (
            <ul style={{ margin: '4px 0 0', paddingLeft: 20 }}>
              {[...new Set(errors.map((e) => e.path.replace(/Local$/, '')))].map((base) => (
                <li key={base}>
                  <Link as="button" onClick={() => focusField(base)}>
                    {labels[base] ?? base}
                  </Link>
                </li>
              ))}
            </ul>
          )}
        </MessageBarBody>
      </MessageBar>
    </div>
  );
}
