/*
 * Benchmark of GET /api/products through NGINX on the local tiers (MariaDB, moto, 2 API processes, NGINX).
 * Usage (from the repository root):
 *   npx ts-node --transpile-only integ/store-app/local/bench.ts [--duration 10] [--connections 50]
 * Prints requests/second and latency percentiles; exits non-zero if any request failed.
 */
import { execFileSync } from 'child_process';
import { join } from 'path';
import autocannon from 'autocannon';
import { LocalStack, STORE_APP_DIR } from './stack';

function numberArg(name: string, fallback: number, max: number): number {
  const i = process.argv.indexOf(name);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1 || value > max) throw new Error(`${name} must be an integer between 1 and ${max}`);
  return value;
}

function load(url: string, connections: number, duration: number): Promise<autocannon.Result> {
  return autocannon({
    url,
    connections,
    duration,
    timeout: 10,
    // NGINX closes a client connection after 1000 requests and autocannon ignores `Connection: close`:
    // reconnect before that so the client does not count its own write-after-close as errors.
    reconnectRate: 500,
  });
}

async function main(): Promise<number> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const duration = numberArg('--duration', 10, 300);
  const connections = numberArg('--connections', 50, 1000);

  execFileSync(process.execPath, [join(STORE_APP_DIR, 'bundle.mjs')], { stdio: 'inherit' });
  console.log('starting the local tiers');
  const stack = await LocalStack.start({ appCount: 2 });
  try {
    const url = `${stack.url}/api/products`;
    await load(url, Math.min(connections, 10), 2); // warm-up: connection pools, JIT
    console.log(`GET ${url}: ${connections} connections, ${duration} s`);
    const r = await load(url, connections, duration);
    const ok = r.non2xx === 0 && r.errors === 0 && r.timeouts === 0;
    console.log([
      `requests/second: ${Math.round(r.requests.average)} (mean), ${r.requests.min}-${r.requests.max} (min-max per second)`,
      `latency: p50 ${r.latency.p50} ms, p90 ${r.latency.p90} ms, p99 ${r.latency.p99} ms, max ${r.latency.max} ms`,
      `requests: ${r.requests.total} total, ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts`,
      `throughput: ${(r.throughput.average / 1024 / 1024).toFixed(1)} MiB/s`,
    ].join('\n'));
    return ok ? 0 : 1;
  } finally {
    await stack.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exit(1);
  },
);
