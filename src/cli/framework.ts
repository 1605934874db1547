import { parseArgs } from "node:util";
import { apiConnectionFromEnv, apiSettingsFromEnv, ApiError, GatehouseApi } from "../binding/api-client.js";
import { BindingConfigError } from "../binding/errors.js";
import { Output, type Io } from "./output.js";

/**
 * The `gatehouse` command framework. A command is a plain object: a group has `subcommands`, a
 * leaf has `options` and `run`. Every command gets `--help` (generated from its specs), `--json`,
 * `--account` and `--zone`. Exit codes: 0 success, 1 the API (or the action) failed, 2 bad
 * usage or a missing setting.
 */

export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  multiple?: boolean;
  /** Shown in --help, e.g. "FILE" for `--cert FILE`. */
  placeholder?: string;
  description: string;
}

export interface Command {
  name: string;
  summary: string;
  /** Longer text for --help. */
  description?: string;
  options?: Record<string, OptionSpec>;
  subcommands?: Command[];
  /** Example command lines for --help. */
  examples?: string[];
  run?(ctx: RunContext): Promise<number | void>;
}

export type OptionValues = Record<string, string | boolean | string[] | undefined>;

/** CliError is a usage problem (exit 2) or a failed action (exit 1), printed as `gatehouse: message`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
    this.name = "CliError";
  }
}

/** GLOBAL_OPTIONS are accepted by every command. */
export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  json: { type: "boolean", description: "print JSON (the API's result) instead of tables" },
  account: { type: "string", placeholder: "ID", description: "account id (default: $GATEHOUSE_ACCOUNT_ID)" },
  help: { type: "boolean", short: "h", description: "show this help" },
};

/** RunContext is what a leaf command's run() gets: its parsed options, the output, and the API. */
export class RunContext {
  private client: GatehouseApi | undefined;

  constructor(
    readonly options: OptionValues,
    readonly positionals: string[],
    readonly out: Output,
    readonly io: Io,
    readonly commandPath: string,
  ) {}

  get json(): boolean {
    return this.options.json === true;
  }

  /** string returns a string option, or throws a usage error naming it when `required`. */
  string(name: string, required: true): string;
  string(name: string, required?: false): string | undefined;
  string(name: string, required = false): string | undefined {
    const v = this.options[name];
    if (typeof v === "string" && v !== "") return v;
    if (required) throw new CliError(`--${name} is required (see ${this.commandPath} --help)`);
    return undefined;
  }

  strings(name: string): string[] {
    const v = this.options[name];
    return Array.isArray(v) ? v : typeof v === "string" ? [v] : [];
  }

  flag(name: string): boolean {
    return this.options[name] === true;
  }

  /** accountId: --account, else GATEHOUSE_ACCOUNT_ID (the error names both). */
  accountId(): string {
    return apiConnectionFromEnv(this.io.env, { accountId: this.string("account") }).accountId;
  }

  /** zoneId: --zone, else GATEHOUSE_ZONE_ID. */
  zoneId(): string {
    const zone = this.string("zone") ?? this.io.env.GATEHOUSE_ZONE_ID;
    if (!zone) throw new CliError("no zone: pass --zone ZONE_ID or set GATEHOUSE_ZONE_ID");
    if (!/^[0-9a-f]{32}$/.test(zone)) throw new CliError("--zone / GATEHOUSE_ZONE_ID must be a zone id: 32 lowercase hex characters");
    return zone;
  }

  /** api is the REST client from GATEHOUSE_API_URL and GATEHOUSE_API_TOKEN (a missing one is named). */
  api(): GatehouseApi {
    if (!this.client) {
      this.client = new GatehouseApi(apiSettingsFromEnv(this.io.env));
    }
    return this.client;
  }
}

function allOptions(cmd: Command): Record<string, OptionSpec> {
  return { ...GLOBAL_OPTIONS, ...(cmd.options ?? {}) };
}

/** helpText renders --help for a command from its specs. */
export function helpText(cmd: Command, path: string): string {
  const lines: string[] = [];
  lines.push(`${path} — ${cmd.summary}`, "");
  if (cmd.subcommands?.length) {
    lines.push(`Usage: ${path} <command> [options]`, "", "Commands:");
    const width = Math.max(...cmd.subcommands.map((c) => c.name.length));
    for (const sub of cmd.subcommands) lines.push(`  ${sub.name.padEnd(width)}  ${sub.summary}`);
    lines.push("", `Run '${path} <command> --help' for a command's options.`);
  } else {
    lines.push(`Usage: ${path} [options]`);
  }
  if (cmd.description) lines.push("", ...cmd.description.split("\n"));
  const opts = cmd.subcommands?.length ? { help: GLOBAL_OPTIONS.help } : allOptions(cmd);
  const rendered = Object.entries(opts).map(([name, spec]) => {
    const flag = `${spec.short ? `-${spec.short}, ` : ""}--${name}${spec.type === "string" ? ` ${spec.placeholder ?? "VALUE"}` : ""}`;
    return [flag, spec.description + (spec.multiple ? " (repeatable)" : "")] as const;
  });
  const w = Math.max(...rendered.map(([f]) => f.length));
  lines.push("", "Options:", ...rendered.map(([f, d]) => `  ${f.padEnd(w)}  ${d}`));
  if (cmd.examples?.length) lines.push("", "Examples:", ...cmd.examples.map((e) => `  ${e}`));
  return lines.join("\n") + "\n";
}

/** find walks argv down the command tree; it returns the command reached and the remaining args. */
function find(root: Command, argv: string[]): { cmd: Command; path: string; rest: string[] } {
  let cmd = root;
  let path = root.name;
  let i = 0;
  while (cmd.subcommands?.length && i < argv.length && !argv[i].startsWith("-")) {
    const next = cmd.subcommands.find((c) => c.name === argv[i]);
    if (!next) throw new CliError(`unknown command '${argv[i]}' for ${path}: run '${path} --help'`);
    cmd = next;
    path += ` ${next.name}`;
    i++;
  }
  return { cmd, path, rest: argv.slice(i) };
}

/**
 * runCli runs one command line and returns the exit code; it never throws. API errors print
 * their code and message (as JSON with --json), settings errors name the variable to set.
 */
export async function runCli(root: Command, argv: string[], io: Io): Promise<number> {
  const out = new Output(io);
  let json = argv.includes("--json");
  try {
    const { cmd, path, rest } = find(root, argv);
    let parsed;
    try {
      parsed = parseArgs({ args: rest, options: allOptions(cmd), allowPositionals: true, strict: true });
    } catch (err) {
      throw new CliError(`${(err as Error).message.replace(/\. To specify a positional argument.*$/s, "")} (see ${path} --help)`);
    }
    const options = parsed.values as OptionValues;
    json = options.json === true;
    if (options.help || (!cmd.run && !cmd.subcommands?.length)) {
      out.write(helpText(cmd, path));
      return 0;
    }
    if (!cmd.run) {
      if (parsed.positionals.length === 0) {
        out.error(helpText(cmd, path));
        return 2;
      }
      throw new CliError(`unknown command '${parsed.positionals[0]}' for ${path}: run '${path} --help'`);
    }
    const code = await cmd.run(new RunContext(options, parsed.positionals, out, io, path));
    return code ?? 0;
  } catch (err) {
    return report(err, out, json);
  }
}

function report(err: unknown, out: Output, json: boolean): number {
  if (err instanceof ApiError) {
    if (json) out.json({ success: false, errors: err.errors.length ? err.errors : [{ code: 0, message: err.message }], messages: [], result: null });
    else if (err.code !== undefined) for (const e of err.errors) out.error(`error ${e.code}: ${e.message}\n`);
    else out.error(`error: ${err.message}\n`);
    return 1;
  }
  if (err instanceof BindingConfigError || err instanceof CliError) {
    const code = err instanceof CliError ? err.exitCode : 2;
    if (json) out.json({ success: false, errors: [{ code: err instanceof BindingConfigError ? err.code : 0, message: err.message }], messages: [], result: null });
    else out.error(`gatehouse: ${err.message}\n`);
    return code;
  }
  out.error(`gatehouse: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`);
  return 1;
}
