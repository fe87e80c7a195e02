import { createStore } from './app';
import { configFromEnv, ConfigError } from './config';

const SHUTDOWN_GRACE_MS = 15_000;

async function main(): Promise<void> {
  const config = configFromEnv(process.env);
  const store = await createStore(config);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    store.server.log.info({ signal }, 'shutting down');
    setTimeout(() => {
      store.server.log.error('shutdown took too long, exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS).unref();
    store.close().then(
      () => process.exit(0),
      (err) => {
        store.server.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));

  await store.server.listen({ port: config.port, host: config.host });
  store.ready.catch((err) => store.server.log.error({ err }, 'database setup stopped'));
}

main().catch((err) => {
  const message = err instanceof ConfigError ? `configuration error: ${err.message}` : `failed to start: ${err instanceof Error ? err.stack : String(err)}`;
  process.stderr.write(`${message}\n`);
  process.exit(1);
});
