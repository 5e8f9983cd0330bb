import { rmSync } from 'node:fs';

export default async function globalTeardown(): Promise<void> {
  const handle = globalThis.__LIFEBOAT_TEST_DB__;
  if (!handle) return;
  await handle.dns.close();
  await handle.db.stop();
  rmSync(handle.dir, { recursive: true, force: true });
}
