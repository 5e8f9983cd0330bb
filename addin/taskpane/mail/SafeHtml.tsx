/**
 * A message body in a sandboxed iframe: no scripts, no same-origin access, no forms; links open in a
 * new window (popups may escape the sandbox so the linked site works normally). A Content-Security-
 * Policy inside the frame also refuses scripts and remote content (tracking images), on top of the
 * server's sanitising.
 */
import { makeStyles, tokens } from '@fluentui/react-components';

const CSP = "default-src 'none'; img-src data: cid:; style-src 'unsafe-inline'; font-src data:";

export function frameDocument(html: string): string {
  return (
    '<!doctype html><html><head><meta charset="utf-8">' +
    `<meta http-equiv="Content-Security-Policy" content="${CSP}">` +
    '<base target="_blank">' +
    '<style>body{font-family:"Segoe UI",system-ui,sans-serif;font-size:14px;line-height:1.45;margin:8px;overflow-wrap:anywhere;color:#242424}img{max-width:100%;height:auto}table{max-width:100%}blockquote{margin:0 0 0 .8ex;border-left:1px solid #ccc;padding-left:1ex}</style>' +
    `</head><body>${html}</body></html>`
  );
}

const useStyles = makeStyles({
  frame: {
    width: '100%',
    border: `1px solid ${tokens.colorNeutralStroke2}`,
    borderRadius: tokens.borderRadiusMedium,
    backgroundColor: tokens.colorNeutralBackground1,
    resize: 'vertical',
    boxSizing: 'border-box',
  },
});

export function SafeHtml({ html, title, height = 320, testId }: { html: string; title: string; height?: number; testId?: string }) {
  const styles = useStyles();
  return (
    <iframe
      className={styles.frame}
      style={{ height }}
      title={title}
      sandbox="allow-popups allow-popups-to-escape-sandbox"
      referrerPolicy="no-referrer"
      srcDoc={frameDocument(html)}
      data-testid={testId}
    />
  );
}
