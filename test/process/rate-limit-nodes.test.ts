/**
 * The API rate limits across processes: two server processes on one database and one Redis count a
 * client's requests against one budget (rate-limiter-flexible's Redis store), not one budget each.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { testDatabaseUri } from '../harness/context';
import { startRedis, type TestRedis } from '../harness/redis';
import { startServer, type ServerProcess } from '../harness/server-process';

const root = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-rate-'));
// Per identity 4 a minute, per client address 10 (2.5 times): the budget the two nodes share.
const PER_ADDRESS = 10;
let redis: TestRedis;
let a: ServerProcess;
let b: ServerProcess;

function mongodbUri(): string {
  const url = new URL(testDatabaseUri());
  url.pathname = `/rate_${randomBytes(5).toString('hex')}`;
  return url.toString();
}

beforeAll(async () => {
  redis = await startRedis();
  const env = (name: string, database: string) => ({
    LIFEBOAT_DATA_DIR: path.join(root, name),
    LIFEBOAT_SECRET: 'rate-limit-nodes-secret-0123456789abcdef',
    LIFEBOAT_API_RATE_LIMIT: '4',
    MONGODB_URI: database,
    REDIS_URL: redis.url,
  });
  const database = mongodbUri();
  a = await startServer(env('a', database));
  b = await startServer(env('b', database));
}, 120_000);

afterAll(async () => {
  await a?.stop();
  await b?.stop();
  await redis?.stop();
  rmSync(root, { recursive: true, force: true });
});

it('two nodes on one Redis share one budget per client address', async () => {
  const statuses: number[] = [];
  // Alternating between the nodes: each sees half the requests, the budget counts them all.
  for (let i = 0; i <= PER_ADDRESS; i++) statuses.push((await fetch(`${(i % 2 ? b : a).url}/api/auth/me`)).status);
  expect(statuses.slice(0, PER_ADDRESS)).toEqual(Array(PER_ADDRESS).fill(401));
  expect(statuses[PER_ADDRESS]).toBe(429);
  for (const node of [a, b]) {
    const refused = await fetch(`${node.url}/api/auth/me`);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.headers.get('content-type')).toMatch(/application\/problem\+json/);
  }
}, 60_000);
