import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { createApp } from '../../server/app';
import { DEMO_DIRECTORY_FILE } from '../../server/config';
import { openConnection } from '../../server/db/connection';
import { startEmbeddedDatabase } from '../../server/db/embedded/ferretdb';
import { createLogger } from '../../server/log';
import { createServices } from '../../server/services';
import { testAppSettings, testServiceOptions } from '../harness/context';

describe('GET /healthz', () => {
  it('reports the database going down with 503', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-health-'));
    const db = await startEmbeddedDatabase({ dataDir: dir });
    const conn = await openConnection(db.uri);
    try {
      const app = createApp({
        conn,
        services: createServices(conn, testServiceOptions()),
        logger: createLogger('silent'),
        directoryFile: DEMO_DIRECTORY_FILE,
        ...testAppSettings(),
      });
      expect((await request(app).get('/healthz').expect(200)).body).toEqual({ status: 'ok', db: 'ok' });
      await db.stop();
      const down = await request(app).get('/healthz').expect(503);
      expect(down.body).toEqual({ status: 'degraded', db: 'down' });
    } finally {
      await conn.close(true).catch(() => {});
      await db.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
