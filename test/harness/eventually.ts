/** Retries an assertion until it passes (or the wait ends, when its last failure is thrown). */
export async function eventually(assertion: () => unknown | Promise<unknown>, timeoutMs = 15_000, intervalMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await assertion();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}
