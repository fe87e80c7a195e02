import { strict as assert } from 'assert';
import { readFileSync } from 'fs';
import autocannon from 'autocannon';
import type { RowDataPacket } from 'mysql2/promise';
import { test, TestCase } from '../harness';
import { assertClientError, http } from '../http';
import { freePort, waitFor } from '../processes';
import { LocalStack } from '../stack';

const LOAD_SECONDS = 20;
const KILL_AFTER_MS = 6_000;

/** Readiness without a database, TLS to the database, and failover of an API process under load. */
export function resilienceTests(stack: LocalStack): TestCase[] {
  return [
    test('readiness: database unreachable → /healthz 200, /readyz 503, API 503 (JSON)', async () => {
      const closedPort = await freePort();
      const app = await stack.startApp({ name: 'no-database', env: { DB_PORT: String(closedPort) }, wait: 'healthy' });
      try {
        assert.deepEqual((await http(`${app.url}/healthz`)).json, { status: 'ok' });
        assertClientError(await http(`${app.url}/readyz`), 503, '/readyz without database');
        assertClientError(await http(`${app.url}/api/products`), 503, '/api/products without database');
      } finally {
        assert.equal(await app.process.stop('SIGTERM'), 0, 'exits 0 on SIGTERM while still retrying');
      }
    }),

    test('TLS to the database: DB_TLS=preferred negotiates TLS, DB_TLS=required verifies the server', async () => {
      if (!stack.dbCaFile) throw new Error('MariaDB runs without TLS (no openssl CLI)');
      const [accepts] = await stack.sql<RowDataPacket[]>("SHOW GLOBAL STATUS LIKE 'Ssl_accepts'");
      assert.ok(Number(accepts!.Value) > 0, 'the API processes connected over TLS');
      const app = await stack.startApp({ name: 'tls-required', env: { DB_TLS: 'required', DB_TLS_CA_FILE: stack.dbCaFile } });
      assert.equal((await http(`${app.url}/api/products/red-mug`)).status, 200);
      assert.equal(await app.process.stop('SIGTERM'), 0);
      // Without the right CA, `required` refuses the self-signed server certificate (it trusts only the RDS CAs).
      const untrusted = await stack.startApp({ name: 'tls-untrusted', env: { DB_TLS: 'required' }, wait: 'healthy' });
      await waitFor('certificate rejection in the log', async () => /certificate/i.test(readFileSync(untrusted.process.logFile, 'utf8')), 20_000);
      assertClientError(await http(`${untrusted.url}/readyz`), 503, 'required TLS with an untrusted certificate');
      assert.equal(await untrusted.process.stop('SIGTERM'), 0);
    }),

    test(`failover: an API process is SIGKILLed during ${LOAD_SECONDS} s of load through NGINX, no request fails`, async () => {
      assert.ok(stack.apps.length >= 2 && stack.apps.every((a) => a.process.running), 'two API processes behind NGINX');
      const victim = stack.apps[stack.apps.length - 1]!;
      const killer = setTimeout(() => victim.process.kill('SIGKILL'), KILL_AFTER_MS);
      let result: autocannon.Result;
      try {
        result = await autocannon({
          url: `${stack.url}/api/products`,
          connections: 16,
          duration: LOAD_SECONDS,
          timeout: 10,
          // autocannon ignores `Connection: close`, which NGINX sends after keepalive_requests (1000) on a
          // connection; the next request on that socket then fails in the client. Reconnect earlier.
          reconnectRate: 500,
        });
      } finally {
        clearTimeout(killer);
      }
      await victim.process.exited;
      assert.equal(victim.process.signal, 'SIGKILL', 'the process was killed during the load');
      const summary = `${result.requests.total} requests, ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts, ` +
        `${Math.round(result.requests.average)} req/s, p99 ${result.latency.p99} ms`;
      process.stdout.write(`        ${summary}\n`);
      assert.ok(result.requests.total > 500, `enough load: ${summary}`);
      assert.equal(result.non2xx, 0, summary);
      assert.equal(result.errors, 0, summary);
      assert.equal(result.timeouts, 0, summary);
      // The surviving process still serves.
      assert.equal((await http(`${stack.url}/api/products`)).status, 200);
    }, (LOAD_SECONDS + 30) * 1000),
  ];
}
