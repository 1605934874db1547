/**
 * Output of the `gatehouse` command. Human output is a table (or aligned fields) by default; on a
 * terminal (stdout is a TTY, a pseudo-terminal included) headers are bold unless NO_COLOR is set
 * and tables are fitted to the terminal's width; otherwise plain aligned text, never truncated.
 * `--json` prints the API's result as JSON, for scripts.
 */

export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

export function processIo(): Io {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env };
}

export interface Column<T> {
  header: string;
  value(row: T): string;
  /** keep: never shortened to fit the terminal (ids, which people copy). */
  keep?: boolean;
}

const BOLD = "\x1b[1m";
const RESET = "\x1b[0m";

export class Output {
  constructor(private readonly io: Io) {}

  get isTerminal(): boolean {
    return this.io.stdout.isTTY === true;
  }

  private get color(): boolean {
    return this.isTerminal && !this.io.env.NO_COLOR && this.io.env.TERM !== "dumb";
  }

  write(text: string): void {
    this.io.stdout.write(text);
  }

  error(text: string): void {
    this.io.stderr.write(text);
  }

  json(value: unknown): void {
    this.write(JSON.stringify(value, null, 2) + "\n");
  }

  /** fields prints `Label: value` lines, labels aligned (wrangler's upload/list style). */
  fields(pairs: Array<[string, string]>): void {
    const w = Math.max(...pairs.map(([k]) => k.length));
    for (const [k, v] of pairs) this.write(`${this.bold((k + ":").padEnd(w + 1))} ${v}\n`);
  }

  /** table prints rows under headers; `empty` is printed instead when there is no row. */
  table<T>(rows: T[], columns: Array<Column<T>>, empty = "(none)"): void {
    if (rows.length === 0) {
      this.write(empty + "\n");
      return;
    }
    const cells = rows.map((r) => columns.map((c) => clean(c.value(r))));
    const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => row[i].length)));
    if (this.isTerminal) fit(widths, columns.map((c, i) => (c.keep ? widths[i] : c.header.length)), this.io.stdout.columns || 120);
    const line = (values: string[]) =>
      values
        .map((v, i) => (i === values.length - 1 ? cut(v, widths[i]) : cut(v, widths[i]).padEnd(widths[i])))
        .join("  ")
        .trimEnd();
    this.write(this.bold(line(columns.map((c) => c.header.toUpperCase()))) + "\n");
    for (const row of cells) this.write(line(row) + "\n");
  }

  private bold(text: string): string {
    return this.color ? BOLD + text + RESET : text;
  }
}

/** clean keeps a cell on one line: control characters (a hostile name) become spaces. */
function clean(value: string): string {
  return value.replace(/[\x00-\x1f\x7f]/g, " ");
}

function cut(value: string, width: number): string {
  return value.length <= width ? value : value.slice(0, Math.max(0, width - 1)) + "…";
}

/** fit shrinks the widest columns until the row fits the terminal (never below the header). */
function fit(widths: number[], minimums: number[], columns: number): void {
  const total = () => widths.reduce((a, b) => a + b, 0) + 2 * (widths.length - 1);
  while (total() > columns) {
    let widest = -1;
    for (let i = 0; i < widths.length; i++) if (widths[i] > Math.max(minimums[i], 8) && (widest < 0 || widths[i] > widths[widest])) widest = i;
    if (widest < 0) return;
    widths[widest]--;
  }
}
