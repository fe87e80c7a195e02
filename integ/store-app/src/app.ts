import { S3Client } from '@aws-sdk/client-s3';
import type { FastifyInstance } from 'fastify';
import { EnvConfig, resolveDbSettings } from './config';
import { Database } from './db';
import { buildServer } from './server';
import { ObjectStore } from './storage';

/** A running store: the HTTP server plus the resources it owns. */
export interface Store {
  readonly server: FastifyInstance;
  readonly db: Database;
  /** Resolves once the database is open and migrated (it retries until then, or until `close`). */
  readonly ready: Promise<void>;
  /** Stops accepting requests, waits for in-flight ones, closes the pool. */
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Reads the database secret, builds the server and opens the database in the background (with
 * retries), so `/healthz` answers at once and `/readyz` turns 200 when the database is usable.
 */
export async function createStore(config: EnvConfig): Promise<Store> {
  const settings = await resolveDbSettings(config);
  const db = new Database(settings);
  // The SDK reads AWS_ENDPOINT_URL (a local emulator) and the credentials chain from the environment.
  const s3 = new S3Client({ region: config.region, forcePathStyle: config.s3ForcePathStyle });
  const store = new ObjectStore(s3, config.bucket);
  const server = buildServer({
    db,
    store,
    maxUploadBytes: config.maxUploadBytes,
    logger: { level: config.logLevel },
  });

  let closing = false;
  const ready = (async () => {
    for (let attempt = 0; !closing; attempt++) {
      try {
        await db.open(server.log);
        return;
      } catch (err) {
        server.log.warn({ err, attempt }, 'database not usable yet, retrying');
        await sleep(Math.min(1000 * 2 ** attempt, 10_000));
      }
    }
  })();

  return {
    server,
    db,
    ready,
    close: async () => {
      closing = true;
      await server.close();
      await db.close();
      store.destroy();
    },
  };
}
