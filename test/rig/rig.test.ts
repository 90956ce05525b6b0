import { afterAll, beforeAll, expect, it } from 'vitest';
import pg from 'pg';
import { describeWithComponents, POSTGRES_COMPONENTS } from './components.js';
import { createDatabase, startPostgres } from './postgres.js';
import type { PostgresInstance } from './postgres.js';

describeWithComponents(POSTGRES_COMPONENTS, 'rig: postgres', () => {
  let server: PostgresInstance;
  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('answers select 1 and creates fresh databases', async () => {
    const fresh = await createDatabase(server.url, 'rig_fresh');
    for (const url of [server.url, fresh]) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const res = await client.query<{ one: number; fsync: string }>("select 1 as one, current_setting('fsync') as fsync");
        expect(res.rows[0]).toEqual({ one: 1, fsync: 'on' });
      } finally {
        await client.end();
      }
    }
  });
});
