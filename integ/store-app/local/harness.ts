/** A minimal sequential test runner: named tests with timeouts, a summary line, a result for the exit code. */
export interface TestCase {
  readonly name: string;
  readonly fn: () => Promise<void>;
  /** @default 60_000 */
  readonly timeoutMs?: number;
}

export interface TestSummary {
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  readonly failures: string[];
}

export function test(name: string, fn: () => Promise<void>, timeoutMs?: number): TestCase {
  return { name, fn, timeoutMs };
}

async function withTimeout(fn: () => Promise<void>, ms: number, name: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      fn(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${name}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs the tests in order; `filter` (substring, case-insensitive) selects some by name. */
export async function runTests(tests: TestCase[], filter?: string, out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<TestSummary> {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  const failures: string[] = [];
  for (const t of tests) {
    if (filter && !t.name.toLowerCase().includes(filter.toLowerCase())) {
      skipped++;
      continue;
    }
    const start = Date.now();
    try {
      await withTimeout(t.fn, t.timeoutMs ?? 60_000, t.name);
      passed++;
      out(`  ok    ${t.name} (${Date.now() - start} ms)`);
    } catch (err) {
      failed++;
      failures.push(t.name);
      const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
      out(`  FAIL  ${t.name} (${Date.now() - start} ms)\n${detail.split('\n').map((l) => `        ${l}`).join('\n')}`);
    }
  }
  return { passed, failed, skipped, failures };
}
