// Runs jest with the arguments given and prints the summary reporter's closing line after everything jest printed
// (its own summary included), so the log's last line is the plain "N passed, N failed" count. Exits with jest's code.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
mkdirSync('.cache', { recursive: true });
const summaryFile = `.cache/jest-summary-${process.pid}.txt`;
const jest = spawn(process.execPath, [require.resolve('jest/bin/jest'), ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, LIFEBOAT_TEST_SUMMARY_FILE: summaryFile },
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => jest.kill(signal));
jest.on('exit', (code, signal) => {
  let summary = '';
  try {
    summary = readFileSync(summaryFile, 'utf8');
    rmSync(summaryFile);
  } catch {
    // jest stopped before its reporters ran: its exit code says why.
  }
  // On both streams: whether a log keeps them merged or puts one after the other, the line closes it.
  process.stderr.write(summary);
  process.stdout.write(summary);
  process.exit(code ?? (signal ? 1 : 0));
});
