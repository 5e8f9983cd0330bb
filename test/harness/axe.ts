/** Runs axe-core (WCAG 2 A/AA rules) in a page and returns its violations, one line each. */
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';

const AXE = require.resolve('axe-core/axe.min.js');
// Evaluated through the browser's devtools channel, not as an inline <script>: the pages' CSP forbids those.
let source: string | undefined;

export async function axeViolations(page: Page): Promise<string[]> {
  // A dialog fading in is half transparent: its contrast is measured once every finite animation and
  // transition has ended (spinners loop forever and are not waited for).
  await page.evaluate(() =>
    Promise.all(
      document
        .getAnimations()
        .filter((a) => Number.isFinite(a.effect?.getComputedTiming().endTime ?? Infinity))
        .map((a) => a.finished.catch(() => undefined)),
    ),
  );
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate((code) => (0, eval)(code), (source ??= readFileSync(AXE, 'utf8')));
  const violations = await page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: { run: (ctx: unknown, opts: unknown) => Promise<{ violations: { id: string; help: string; nodes: { target: string[] }[] }[] }> };
      }
    ).axe;
    // Fluent UI's focus manager (tabster) puts aria-hidden, focusable <i data-tabster-dummy> sentinels
    // around focus groups; they hand focus on at once and are never read, so they are left out.
    const result = await axe.run({ exclude: [['[data-tabster-dummy]']] }, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
  });
  return violations;
}
