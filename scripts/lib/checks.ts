/** One verified expectation. */
export interface CheckResult {
  readonly example: string;
  readonly name: string;
  readonly status: 'pass' | 'fail' | 'skip';
  readonly detail?: string;
}

/** Collects and prints check results as they come. */
export class Checks {
  public readonly results: CheckResult[] = [];

  constructor(private readonly example: string) {}

  public pass(name: string, detail?: string): void {
    this.add({ example: this.example, name, status: 'pass', detail });
  }

  public fail(name: string, detail: string): void {
    this.add({ example: this.example, name, status: 'fail', detail });
  }

  /** Something the emulator does not model: reported, not counted as passed or failed. */
  public skip(name: string, reason: string): void {
    this.add({ example: this.example, name, status: 'skip', detail: reason });
  }

  /** Passes when `problems` is empty, fails listing them otherwise. */
  public expect(name: string, problems: string[], okDetail?: string): void {
    if (problems.length === 0) this.pass(name, okDetail);
    else this.fail(name, problems.join('\n'));
  }

  /** Runs a check that may throw: a thrown error fails it. */
  public async run(name: string, fn: () => Promise<string[] | void>): Promise<void> {
    try {
      const problems = await fn();
      this.expect(name, problems ?? []);
    } catch (e) {
      this.fail(name, (e as Error).message);
    }
  }

  private add(r: CheckResult): void {
    this.results.push(r);
    const mark = r.status === 'pass' ? 'ok  ' : r.status === 'fail' ? 'FAIL' : 'skip';
    const detail = r.detail ? (r.status === 'pass' ? ` (${r.detail})` : `: ${r.detail.split('\n').join('\n         ')}`) : '';
    console.log(`    ${mark} ${r.name}${detail}`);
  }
}
