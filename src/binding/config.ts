import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parse as parseJsonc, printParseErrorCode, type ParseError } from "jsonc-parser";
import { parse as parseToml } from "smol-toml";
import { BindingConfigError, BindingErrors } from "./errors.js";

/** MtlsCertificateBinding is one entry of wrangler's `mtls_certificates` list. */
export interface MtlsCertificateBinding {
  /** The property name the Fetcher gets (`env.MY_CERT`). */
  binding: string;
  /** The id `mtls-certificate upload` printed (a UUID). */
  certificate_id: string;
  /** Accepted for wrangler compatibility and ignored: a Gatehouse binding is always "remote". */
  remote?: boolean;
}

/**
 * BindingConfig is the Workers shape, as in wrangler.jsonc / wrangler.toml:
 * `{ mtls_certificates: [{ binding, certificate_id }] }`, optionally with named environments
 * (`env.<name>.mtls_certificates`), which, as in wrangler, do not inherit the top-level list.
 */
export interface BindingConfig {
  mtls_certificates?: MtlsCertificateBinding[];
  env?: Record<string, { mtls_certificates?: MtlsCertificateBinding[] }>;
  [key: string]: unknown;
}

/** CONFIG_FILES are looked for, in this order, when createBindings gets no configuration. */
export const CONFIG_FILES = ["gatehouse.jsonc", "gatehouse.json", "gatehouse.toml"] as const;

/** Names the returned `env` object uses itself; a binding cannot take them. */
export const RESERVED_NAMES = new Set(["close", "refresh", "then", "constructor", "__proto__", "prototype", "toString"]);

const BINDING_NAME = /^[A-Za-z_$][A-Za-z0-9_$]{0,63}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const bad = (message: string) => new BindingConfigError(BindingErrors.badConfig, message);

/** findConfigFile returns the first of CONFIG_FILES present in `dir`, if any. */
export function findConfigFile(dir: string = process.cwd()): string | undefined {
  return CONFIG_FILES.map((name) => join(dir, name)).find((path) => existsSync(path));
}

/**
 * readConfigFile parses a `.jsonc`/`.json` (comments and trailing commas allowed, as wrangler
 * allows them) or `.toml` file. Errors name the file and the position, never the content.
 */
export function readConfigFile(path: string): BindingConfig {
  const full = resolve(path);
  let text: string;
  try {
    text = readFileSync(full, "utf8");
  } catch (err) {
    throw bad(`cannot read ${full}: ${(err as NodeJS.ErrnoException).code ?? "read error"}`);
  }
  let parsed: unknown;
  if (/\.toml$/i.test(full)) {
    try {
      parsed = parseToml(text);
    } catch (err) {
      const e = err as { line?: number; column?: number };
      throw bad(`${full} is not valid TOML${e.line ? ` (line ${e.line}, column ${e.column})` : ""}`);
    }
  } else if (/\.jsonc?$/i.test(full)) {
    const errors: ParseError[] = [];
    parsed = parseJsonc(text, errors, { allowTrailingComma: true, disallowComments: false });
    if (errors.length > 0) {
      const first = errors[0];
      const line = text.slice(0, first.offset).split("\n").length;
      throw bad(`${full} is not valid JSONC (${printParseErrorCode(first.error)} on line ${line})`);
    }
  } else {
    throw bad(`${full}: the configuration file must end in .jsonc, .json or .toml`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw bad(`${full} must hold an object at the top level`);
  return parsed as BindingConfig;
}

/**
 * bindingsOf validates a configuration and returns its binding list (for `environment`, the
 * list of `env.<environment>`). Binding names are JavaScript identifiers, unique, and not one of
 * RESERVED_NAMES; certificate ids are UUIDs (lower-cased here).
 */
export function bindingsOf(config: unknown, environment?: string): MtlsCertificateBinding[] {
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    throw bad("the configuration must be an object like { mtls_certificates: [{ binding, certificate_id }] }");
  }
  const c = config as BindingConfig;
  let list: unknown = c.mtls_certificates;
  let where = "mtls_certificates";
  if (environment !== undefined) {
    const env = c.env?.[environment];
    if (typeof env !== "object" || env === null) throw bad(`the configuration has no environment "env.${environment}"`);
    list = env.mtls_certificates;
    where = `env.${environment}.mtls_certificates`;
  }
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw bad(`${where} must be a list of { binding, certificate_id }`);
  const seen = new Set<string>();
  return list.map((entry: unknown, i) => {
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) throw bad(`${where}[${i}] must be an object { binding, certificate_id }`);
    const e = entry as Record<string, unknown>;
    if (typeof e.binding !== "string" || !BINDING_NAME.test(e.binding)) {
      throw bad(`${where}[${i}].binding must be a JavaScript identifier of at most 64 characters (like MY_CERT)`);
    }
    if (RESERVED_NAMES.has(e.binding)) throw bad(`${where}[${i}].binding may not be "${e.binding}": the bindings object uses that name`);
    if (seen.has(e.binding)) throw bad(`${where}[${i}].binding: ${e.binding} appears twice`);
    seen.add(e.binding);
    if (typeof e.certificate_id !== "string" || !UUID.test(e.certificate_id)) {
      throw bad(`${where}[${i}].certificate_id must be the certificate's id (a UUID, as "mtls-certificate list" prints it)`);
    }
    if (e.remote !== undefined && typeof e.remote !== "boolean") throw bad(`${where}[${i}].remote, when present, must be true or false`);
    return { binding: e.binding, certificate_id: e.certificate_id.toLowerCase(), ...(e.remote !== undefined ? { remote: e.remote } : {}) };
  });
}
