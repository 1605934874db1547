/**
 * A throwaway PKI made by openssl for the edge tests: roots, intermediates and leaves with the
 * extensions, validity windows (`openssl ca -startdate/-enddate`, no faketime) and subjects each
 * case needs, PKITS-style. Every certificate is written as PEM files in the test's temp dir.
 */
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { openssl, type TempDir } from "../helpers/openssl.js";

export interface Issued {
  name: string;
  certFile: string;
  keyFile: string;
  pem: string;
  keyPem: string;
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

/** opensslTime writes a Date as openssl ca's -startdate/-enddate want it (YYYYMMDDHHMMSSZ). */
export function opensslTime(d: Date): string {
  return d.toISOString().replace(/[-:T]/g, "").slice(0, 14) + "Z";
}

const DAY = 86_400_000;

export class TestPki {
  constructor(private readonly dir: TempDir) {
    writeFileSync(
      join(dir.path, "ext.cnf"),
      [
        "[root]",
        "basicConstraints = critical, CA:TRUE",
        "keyUsage = critical, keyCertSign, cRLSign",
        "subjectKeyIdentifier = hash",
        "[server]",
        "basicConstraints = critical, CA:FALSE",
        "keyUsage = critical, digitalSignature",
        "extendedKeyUsage = serverAuth",
        "subjectKeyIdentifier = hash",
        "authorityKeyIdentifier = keyid",
        "",
      ].join("\n"),
    );
  }

  private read(name: string): Issued {
    const certFile = join(this.dir.path, `${name}.pem`);
    const keyFile = join(this.dir.path, `${name}.key`);
    return { name, certFile, keyFile, pem: readFileSync(certFile, "utf8"), keyPem: readFileSync(keyFile, "utf8") };
  }

  /** root makes a self-signed CA (optionally with a pathLen constraint). */
  root(name: string, opts: { pathlen?: number; subject?: string } = {}): Issued {
    const section = `root_${name}`;
    const bc = `basicConstraints = critical, CA:TRUE${opts.pathlen === undefined ? "" : `, pathlen:${opts.pathlen}`}`;
    writeFileSync(join(this.dir.path, `${section}.cnf`), `[req]\ndistinguished_name = dn\n[dn]\n[${section}]\n${bc}\nkeyUsage = critical, keyCertSign, cRLSign\nsubjectKeyIdentifier = hash\n`);
    openssl(["req", "-x509", ...EC, "-keyout", join(this.dir.path, `${name}.key`), "-out", join(this.dir.path, `${name}.pem`),
      "-days", "3650", "-sha256", "-subj", opts.subject ?? `/O=Edge Tests/CN=${name}`, "-config", join(this.dir.path, `${section}.cnf`), "-extensions", section]);
    return this.read(name);
  }

  /**
   * issue signs a new key with `issuer` through `openssl ca`, so the validity window can be set
   * exactly. kind "ca": an intermediate (pathLen optional); "client": clientAuth leaf (or the EKU
   * given, "none" for no EKU at all); "server": serverAuth leaf with SANs.
   */
  issue(
    name: string,
    issuer: Issued,
    opts: {
      kind: "ca" | "client" | "server";
      pathlen?: number;
      eku?: string;
      san?: string[];
      subject?: string;
      notBefore?: Date;
      notAfter?: Date;
    },
  ): Issued {
    const d = this.dir.path;
    const db = join(d, `db_${issuer.name}`);
    mkdirSync(join(db, "new"), { recursive: true });
    writeFileSync(join(db, "index.txt"), "", { flag: "a" });
    const section = `ext_${name}`;
    const lines: string[] = [];
    if (opts.kind === "ca") {
      lines.push(`basicConstraints = critical, CA:TRUE${opts.pathlen === undefined ? "" : `, pathlen:${opts.pathlen}`}`, "keyUsage = critical, keyCertSign, cRLSign");
    } else {
      lines.push("basicConstraints = critical, CA:FALSE", "keyUsage = critical, digitalSignature");
      const eku = opts.eku ?? (opts.kind === "server" ? "serverAuth" : "clientAuth");
      if (eku !== "none") lines.push(`extendedKeyUsage = ${eku}`);
      if (opts.san?.length) lines.push(`subjectAltName = ${opts.san.map((s) => (/^(IP|DNS|URI|email):/.test(s) ? s : `DNS:${s}`)).join(", ")}`);
    }
    lines.push("subjectKeyIdentifier = hash", "authorityKeyIdentifier = keyid");
    const cnf = join(d, `ca_${name}.cnf`);
    writeFileSync(
      cnf,
      [
        "[ca]",
        "default_ca = this",
        "[this]",
        `database = ${join(db, "index.txt")}`,
        `new_certs_dir = ${join(db, "new")}`,
        `serial = ${join(db, "serial")}`,
        "default_md = sha256",
        "policy = any",
        "unique_subject = no",
        "email_in_dn = no",
        "[any]",
        "commonName = optional",
        "organizationName = optional",
        `[${section}]`,
        ...lines,
        "",
      ].join("\n"),
    );
    const csr = join(d, `${name}.csr`);
    openssl(["req", "-new", ...EC, "-keyout", join(d, `${name}.key`), "-out", csr, "-subj", "/CN=placeholder"]);
    const notBefore = opts.notBefore ?? new Date(Date.now() - 60_000);
    const notAfter = opts.notAfter ?? new Date(Date.now() + 365 * DAY);
    openssl([
      "ca", "-batch", "-notext", "-utf8", "-preserveDN", "-rand_serial", "-config", cnf, "-extfile", cnf, "-extensions", section,
      "-cert", issuer.certFile, "-keyfile", issuer.keyFile, "-in", csr, "-out", join(d, `${name}.pem`),
      "-subj", opts.subject ?? `/O=Edge Tests/CN=${name}`, "-startdate", opensslTime(notBefore), "-enddate", opensslTime(notAfter),
    ]);
    // openssl ca prepends nothing with -notext, but keep only the PEM block to be safe.
    const pem = readFileSync(join(d, `${name}.pem`), "utf8");
    writeFileSync(join(d, `${name}.pem`), pem.slice(pem.indexOf("-----BEGIN CERTIFICATE-----")));
    return this.read(name);
  }

  /** bundle writes a leaf with the chain a client sends (leaf first) and returns a cert file for curl. */
  bundle(name: string, ...certs: Issued[]): Issued {
    const certFile = join(this.dir.path, `${name}.bundle.pem`);
    writeFileSync(certFile, certs.map((c) => c.pem).join(""));
    return { name, certFile, keyFile: certs[0].keyFile, pem: readFileSync(certFile, "utf8"), keyPem: certs[0].keyPem };
  }

  /** fromPem writes a certificate (e.g. one the API issued) and its key to files. */
  fromPem(name: string, pem: string, keyPem: string): Issued {
    writeFileSync(join(this.dir.path, `${name}.pem`), pem);
    writeFileSync(join(this.dir.path, `${name}.key`), keyPem);
    return this.read(name);
  }
}
