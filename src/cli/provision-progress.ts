/**
 * provision-progress.ts reports a batch's progress on stderr: on a terminal, one bar redrawn in
 * place with the rate and ETA; otherwise (a pipe, a CI log) a plain line at most once a second.
 * A failed device is always printed on a line of its own.
 */
export class Progress {
  private readonly started = performance.now();
  private lastDraw = 0;
  private done = 0;
  private failed = 0;
  private drawn = false;

  constructor(
    private readonly stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number },
    private readonly total: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  private get tty(): boolean {
    return this.stream.isTTY === true;
  }

  update(done: number, failed: number): void {
    this.done = done;
    this.failed = failed;
    const t = this.now();
    if (done < this.total && t - this.lastDraw < (this.tty ? 100 : 1000)) return;
    this.lastDraw = t;
    this.draw();
  }

  failure(device: string, reason: string): void {
    const line = `failed ${device}: ${reason.replace(/[\x00-\x1f\x7f]/g, " ")}\n`;
    this.stream.write(this.tty && this.drawn ? `\r\x1b[K${line}` : line);
    if (this.tty && this.drawn) this.draw();
  }

  finish(): void {
    if (this.tty && this.drawn) this.stream.write("\n");
  }

  /** line renders the status; exported through format() for tests. */
  format(): string {
    const elapsed = (this.now() - this.started) / 1000;
    const rate = elapsed > 0 ? this.done / elapsed : 0;
    const eta = rate > 0 ? (this.total - this.done) / rate : Infinity;
    const pct = Math.floor((this.done / this.total) * 100);
    const stats = `${this.done}/${this.total} ${String(pct).padStart(3)}%  ${rate.toFixed(1)} devices/s  ETA ${duration(eta)}${this.failed ? `  ${this.failed} failed` : ""}`;
    if (!this.tty) return `provision: ${stats}`;
    const width = Math.max(10, Math.min(40, (this.stream.columns ?? 80) - stats.length - 4));
    const filled = Math.round((this.done / this.total) * width);
    return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${stats}`;
  }

  private draw(): void {
    if (this.tty) {
      this.stream.write(`\r\x1b[K${this.format()}`);
      this.drawn = true;
    } else {
      this.stream.write(`${this.format()}\n`);
    }
  }
}

/** duration formats seconds as 42s, 3m07s or 1h02m; unknown as --. */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "--";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}
