/**
 * identities.ts loads the edge's own server certificates: a default pair (EDGE_TLS_CERT /
 * EDGE_TLS_KEY) and any number of per-hostname pairs in EDGE_TLS_DIR, named `<hostname>.crt` and
 * `<hostname>.key` (a wildcard as `*.example.com.crt` or `_wildcard.example.com.crt`). Each pair is
 * checked once at start-up by building a TLS context from it, so a bad file fails the start with
 * its name rather than a handshake later.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createSecureContext } from "node:tls";
import { ConfigError } from "../config.js";

/** ServerIdentity: one certificate chain and key the edge presents, PEM. */
export interface ServerIdentity {
  /** The hostname pattern it was loaded for, or "default". */
  name: string;
  cert: Buffer;
  key: Buffer;
}

/** EdgeTlsConfigError: a certificate setting of the edge is unusable; the process entry prints its message. */
export class EdgeTlsConfigError extends ConfigError {
  override name = "EdgeTlsConfigError";
}

function loadPair(name: string, certFile: string, keyFile: string): ServerIdentity {
  let cert: Buffer;
  let key: Buffer;
  try {
    cert = readFileSync(certFile);
    key = readFileSync(keyFile);
  } catch (err) {
    throw new EdgeTlsConfigError(`cannot read the edge certificate or key (${certFile}, ${keyFile}): ${(err as Error).message}`);
  }
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    throw new EdgeTlsConfigError(`the edge certificate ${certFile} and key ${keyFile} do not form a usable pair: ${(err as Error).message}`);
  }
  return { name, cert, key };
}

/** ServerIdentities picks the certificate to present for an SNI: exact name, then one-label wildcard, then the default. */
export class ServerIdentities {
  private readonly byName = new Map<string, ServerIdentity>();

  constructor(
    readonly fallback: ServerIdentity | undefined,
    named: ServerIdentity[] = [],
  ) {
    for (const id of named) this.byName.set(id.name, id);
    if (!fallback && named.length === 0) {
      throw new EdgeTlsConfigError("the edge needs a server certificate: set EDGE_TLS_CERT and EDGE_TLS_KEY, or EDGE_TLS_DIR");
    }
  }

  /** load reads the default pair and the directory (either may be absent, not both). */
  static load(opts: { certFile?: string; keyFile?: string; dir?: string }): ServerIdentities {
    if (Boolean(opts.certFile) !== Boolean(opts.keyFile)) {
      throw new EdgeTlsConfigError("EDGE_TLS_CERT and EDGE_TLS_KEY must be set together");
    }
    const fallback = opts.certFile && opts.keyFile ? loadPair("default", opts.certFile, opts.keyFile) : undefined;
    const named: ServerIdentity[] = [];
    if (opts.dir) {
      let files: string[];
      try {
        files = readdirSync(opts.dir);
      } catch (err) {
        throw new EdgeTlsConfigError(`cannot read EDGE_TLS_DIR ${opts.dir}: ${(err as Error).message}`);
      }
      for (const file of files.filter((f) => f.endsWith(".crt")).sort()) {
        const base = file.slice(0, -4);
        if (!files.includes(`${base}.key`)) throw new EdgeTlsConfigError(`EDGE_TLS_DIR has ${file} but no ${base}.key`);
        const name = (base.startsWith("_wildcard.") ? "*." + base.slice("_wildcard.".length) : base).toLowerCase();
        named.push(loadPair(name, join(opts.dir, file), join(opts.dir, `${base}.key`)));
      }
    }
    return new ServerIdentities(fallback, named);
  }

  /** forHostname picks the certificate for an SNI (undefined: no SNI). */
  forHostname(hostname: string | undefined): ServerIdentity {
    if (hostname !== undefined) {
      const exact = this.byName.get(hostname);
      if (exact) return exact;
      const dot = hostname.indexOf(".");
      if (dot > 0) {
        const wild = this.byName.get("*" + hostname.slice(dot));
        if (wild) return wild;
      }
    }
    return this.fallback ?? this.byName.values().next().value!;
  }
}
