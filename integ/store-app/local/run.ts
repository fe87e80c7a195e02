/*
 * The store app on real local tiers, tested end to end:
 *   MariaDB + moto (Secrets Manager, S3) -> 2 API processes -> NGINX (the library's rendered config)
 * and the Python example API (examples/python-api) from the unit the library renders, behind its own NGINX.
 * Usage (from the repository root):
 *   npx ts-node --transpile-only integ/store-app/local/run.ts [--grep <text>] [--keep-logs]
 * Exits non-zero when a test fails. Everything started is stopped at the end, on failure and on Ctrl-C.
 */
import { execFileSync } from 'child_process';
import { join } from 'path';
import { runTests, TestCase } from './harness';
import { PythonApi } from './python';
import { LocalStack, STORE_APP_DIR } from './stack';
import { agentLogTests } from './tests/agent-logs';
import { apiTests } from './tests/api';
import { browserTests } from './tests/browser';
import { CONCURRENCY_DB, concurrencyTests } from './tests/concurrency';
import { databaseUserTests } from './tests/database-user';
import { pythonApiTests } from './tests/python-api';
import { resilienceTests } from './tests/resilience';

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<number> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const started = Date.now();
  const grep = argValue('--grep');
  const keepLogs = process.argv.includes('--keep-logs');

  console.log('bundling the API (bundle.mjs)');
  execFileSync(process.execPath, [join(STORE_APP_DIR, 'bundle.mjs')], { stdio: 'inherit' });

  console.log('starting the local tiers');
  const stack = await LocalStack.start({ appCount: 2, extraDatabases: [CONCURRENCY_DB] });
  // The Python API's venv and dependencies install in the background while the first tests run (after
  // the start, which is I/O-bound like pip); its tests come late and wait for it.
  console.log('preparing the Python API in the background (venv, pip install)');
  let python: PythonApi;
  try {
    python = PythonApi.prepare((m) => console.log(m));
  } catch (err) {
    await stack.stop();
    throw err;
  }

  let summary;
  try {
    const tests: TestCase[] = [
      ...apiTests(stack),
      ...agentLogTests(stack),
      ...databaseUserTests(stack),
      ...browserTests(stack),
      ...concurrencyTests(stack),
      // Late: its venv and dependencies install in the background until then.
      ...pythonApiTests(stack, python),
      // Last: it kills one of the two API processes behind NGINX.
      ...resilienceTests(stack),
    ];
    console.log(`running ${tests.length} tests${grep ? ` matching '${grep}'` : ''}`);
    summary = await runTests(tests, grep);
    if (summary.failed > 0) {
      await stack.printLogTails();
      python.printLogTails();
    }
  } finally {
    if (keepLogs) console.log(`logs kept in ${stack.logDir} and ${python.logDir}`);
    await python.stop(keepLogs);
    await stack.stop(keepLogs);
  }

  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const skipped = summary.skipped ? `, ${summary.skipped} skipped` : '';
  console.log(`\n${summary.passed} passed, ${summary.failed} failed${skipped} (${seconds} s)`);
  if (summary.failed > 0) console.log(`failed: ${summary.failures.join('; ')}`);
  return summary.failed > 0 || summary.passed === 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? err.stack : err);
    console.log('\n0 passed, 1 failed (the local tiers did not start)');
    process.exit(1);
  },
);
