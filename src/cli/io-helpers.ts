import { readFileSync, writeFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { CliError, type RunContext } from "./framework.js";

/** readTextFile reads a file named by an option; errors name the option and the file (never its content). */
export function readTextFile(path: string, option: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new CliError(`cannot read ${option} ${path}: ${(err as NodeJS.ErrnoException).code ?? "read error"}`);
  }
}

export function writeTextFile(path: string, text: string, option: string): void {
  try {
    writeFileSync(path, text, { flag: "w" });
  } catch (err) {
    throw new CliError(`cannot write ${option} ${path}: ${(err as NodeJS.ErrnoException).code ?? "write error"}`, 1);
  }
}

/** idOf: `--id ID`, or the one positional argument. */
export function idOf(ctx: RunContext, what: string): string {
  const id = ctx.string("id") ?? ctx.positionals[0];
  if (!id) throw new CliError(`give the ${what} id: --id ID (see ${ctx.commandPath} --help)`);
  if (ctx.positionals.length > (ctx.string("id") ? 0 : 1)) throw new CliError(`unexpected argument '${ctx.positionals.at(-1)}' (see ${ctx.commandPath} --help)`);
  return id;
}

/**
 * confirm asks a yes/no question on a terminal; without a terminal it refuses, so a script never
 * deletes by accident: pass --yes there.
 */
export async function confirm(ctx: RunContext, question: string): Promise<boolean> {
  if (ctx.flag("yes")) return true;
  if (!ctx.io.stdin.isTTY) throw new CliError(`not asking on a non-interactive input: pass --yes to confirm (${question})`);
  const rl = createInterface({ input: ctx.io.stdin, output: ctx.io.stderr as NodeJS.WritableStream, terminal: true });
  try {
    const answer = await new Promise<string>((resolve) => {
      rl.question(`${question} [y/N] `, resolve);
      rl.once("close", () => resolve(""));
    });
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

/** day renders an RFC 3339 time as the API gives it; absent → "-". */
export const when = (value: string | null | undefined): string => value ?? "-";
