import { formatDuration } from './tools';

/**
 * A progress display: one line rewritten in place when stdout is a terminal, plain lines otherwise
 * (printed when the count changes, and at most every 15 s while nothing changes).
 */
export class Progress {
  /** Plain lines even on a terminal (`--ci`). */
  public static plain = false;

  /** Ends every display still open (on Ctrl-C), so what follows starts on its own line. */
  public static interruptAll(): void {
    for (const p of Progress.open) p.finish('interrupted');
  }

  private static readonly open = new Set<Progress>();

  private readonly start = Date.now();
  private closed = false;
  private readonly tty = Boolean(process.stdout.isTTY) && process.env.CI === undefined && !Progress.plain;
  private lastLine = '';
  private lastPrintedAt = 0;
  private spinner = 0;

  constructor(private readonly label: string) {}

  /** Milliseconds since the display started. */
  public get elapsedMs(): number {
    return Date.now() - this.start;
  }

  public update(done: number, total: number, status: string): void {
    if (this.closed) return;
    Progress.open.add(this);
    const elapsed = formatDuration(this.elapsedMs);
    const line = `${this.label}: ${done}/${total} resources, ${status}`;
    if (this.tty) {
      const spin = '|/-\\'[this.spinner++ % 4];
      process.stdout.write(`\r\x1b[K${spin} ${line} (${elapsed})`);
      return;
    }
    const now = Date.now();
    if (line !== this.lastLine || now - this.lastPrintedAt >= 15_000) {
      console.log(`  ${line} (${elapsed})`);
      this.lastLine = line;
      this.lastPrintedAt = now;
    }
  }

  /** Ends the display with a final line. */
  public finish(message: string): void {
    if (this.closed) return;
    this.closed = true;
    Progress.open.delete(this);
    const text = `${this.label}: ${message} in ${formatDuration(this.elapsedMs)}`;
    if (this.tty) process.stdout.write(`\r\x1b[K${text}\n`);
    else console.log(`  ${text}`);
  }
}
