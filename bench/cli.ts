/** What every bench script shares at its edges: numeric options and how a failure ends the process. */

/** A numeric option `--name N` from the command line (the name with or without its dashes), or the fallback. */
export function numberArg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name.startsWith('--') ? name : `--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

/** Runs a bench: a failure prints its error and exits 1. */
export function runBench(main: () => Promise<void>): void {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
