/**
 * One embedded FerretDB for the whole test run, on a free loopback port, in a temporary directory; and
 * one empty DNS stand-in (every name: NXDOMAIN at once) for server processes, so sender authentication
 * never waits on whatever resolver the machine has (a CI sandbox's may never answer).
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedDatabase, type EmbeddedDatabase } from '../../server/db/embedded/ferretdb';
import { startDnsStandIn, type DnsStandIn } from '../stand-ins/dns';
import { ensurePaneBuilt } from './pane-build';

declare global {
  var __LIFEBOAT_TEST_DB__: { db: EmbeddedDatabase; dir: string; dns: DnsStandIn } | undefined;
}

export default async function globalSetup(): Promise<void> {
  // Built once here, before any worker starts: two test files rebuilding at once would clobber it.
  ensurePaneBuilt();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-test-db-'));
  const db = await startEmbeddedDatabase({ dataDir: dir, log: (line) => process.stdout.write(`${line}\n`) });
  const dns = await startDnsStandIn({});
  globalThis.__LIFEBOAT_TEST_DB__ = { db, dir, dns };
  process.env.LIFEBOAT_TEST_MONGODB_URI = db.uri;
  process.env.LIFEBOAT_TEST_DNS_SERVERS = dns.server;
}
