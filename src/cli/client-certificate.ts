import { CliError, type Command, type OptionSpec, type RunContext } from "./framework.js";
import { idOf, readTextFile, when, writeTextFile } from "./io-helpers.js";

/** ClientCertificate: the API's view (reference §2.1). */
interface ClientCertificate {
  id: string;
  certificate: string;
  common_name: string;
  serial_number: string;
  status: string;
  issued_on: string;
  expires_on: string;
  fingerprint_sha256: string;
  validity_days: number;
  certificate_authority: { id: string; name: string };
  revoked_on?: string | null;
  revocation_reason?: string | null;
}

export const ZONE: Record<string, OptionSpec> = {
  zone: { type: "string", placeholder: "ZONE_ID", description: "zone id (default: $GATEHOUSE_ZONE_ID)" },
};
const ID: Record<string, OptionSpec> = {
  id: { type: "string", placeholder: "ID", description: "the certificate's id (or give it as the argument)" },
};

const base = (ctx: RunContext) => `/zones/${ctx.zoneId()}/client_certificates`;

function describe(ctx: RunContext, c: ClientCertificate): void {
  ctx.out.fields([
    ["ID", c.id],
    ["Common name", c.common_name || "-"],
    ["Status", c.status + (c.revocation_reason ? ` (${c.revocation_reason})` : "")],
    ["Serial", c.serial_number],
    ["Issued on", when(c.issued_on)],
    ["Expires on", when(c.expires_on)],
    ["SHA-256", c.fingerprint_sha256],
    ["CA", c.certificate_authority?.name ?? "-"],
  ]);
}

const create: Command = {
  name: "create",
  summary: "issue a client certificate from a CSR with the account's managed CA",
  options: {
    ...ZONE,
    csr: { type: "string", placeholder: "FILE", description: "PEM certificate signing request" },
    "validity-days": { type: "string", placeholder: "N", description: "days of validity (default 3650)" },
    out: { type: "string", placeholder: "FILE", description: "write the certificate PEM to FILE (default: print it)" },
  },
  examples: ["gatehouse client-certificate create --zone 023e105f4ecef8ad9ca31a8372d0c353 --csr device.csr --validity-days 365 --out device.pem"],
  async run(ctx) {
    const body: Record<string, unknown> = { csr: readTextFile(ctx.string("csr", true), "--csr") };
    const days = ctx.string("validity-days");
    if (days !== undefined) {
      if (!/^\d{1,5}$/.test(days)) throw new CliError("--validity-days must be a whole number of days");
      body.validity_days = Number(days);
    }
    const { result, messages } = await ctx.api().call<ClientCertificate>("POST", base(ctx), { body });
    const out = ctx.string("out");
    if (out) writeTextFile(out, result.certificate.endsWith("\n") ? result.certificate : result.certificate + "\n", "--out");
    if (ctx.json) return ctx.out.json(result);
    ctx.out.write("Issued client certificate\n");
    describe(ctx, result);
    for (const m of messages) ctx.out.error(`note: ${m.message}\n`);
    if (out) ctx.out.write(`Certificate written to ${out}\n`);
    else ctx.out.write("\n" + result.certificate + (result.certificate.endsWith("\n") ? "" : "\n"));
  },
};

const list: Command = {
  name: "list",
  summary: "list a zone's client certificates",
  options: {
    ...ZONE,
    status: { type: "string", placeholder: "STATUS", description: "all (default), active, revoked, pending_revocation, pending_reactivation" },
    page: { type: "string", placeholder: "N", description: "page number (default: every page)" },
    "per-page": { type: "string", placeholder: "N", description: "certificates per page, 5 to 50 (default 50)" },
  },
  async run(ctx) {
    const perPage = ctx.string("per-page") ?? "50";
    const onePage = ctx.string("page");
    const rows: ClientCertificate[] = [];
    for (let page = Number(onePage ?? 1); ; page++) {
      const { result, resultInfo } = await ctx.api().call<ClientCertificate[]>("GET", base(ctx), {
        query: { status: ctx.string("status"), page, per_page: perPage },
      });
      rows.push(...result);
      if (onePage || !resultInfo || result.length === 0 || page * resultInfo.per_page >= resultInfo.total_count) break;
    }
    if (ctx.json) return ctx.out.json(rows);
    ctx.out.table(
      rows,
      [
        { header: "id", value: (c) => c.id, keep: true },
        { header: "common name", value: (c) => c.common_name || "-" },
        { header: "status", value: (c) => c.status },
        { header: "serial", value: (c) => c.serial_number },
        { header: "expires on", value: (c) => when(c.expires_on) },
      ],
      "No client certificates.",
    );
  },
};

const get: Command = {
  name: "get",
  summary: "show one client certificate",
  options: { ...ZONE, ...ID, pem: { type: "boolean", description: "print only the certificate PEM" } },
  async run(ctx) {
    const { result } = await ctx.api().call<ClientCertificate>("GET", `${base(ctx)}/${encodeURIComponent(idOf(ctx, "certificate"))}`);
    if (ctx.json) return ctx.out.json(result);
    if (ctx.flag("pem")) return ctx.out.write(result.certificate.endsWith("\n") ? result.certificate : result.certificate + "\n");
    describe(ctx, result);
  },
};

const revoke: Command = {
  name: "revoke",
  summary: "revoke a client certificate (no reason: on hold, reactivatable; a reason is final)",
  options: {
    ...ZONE,
    ...ID,
    reason: { type: "string", placeholder: "REASON", description: "keyCompromise, superseded, cessationOfOperation, affiliationChanged, cACompromise, unspecified, certificateHold" },
  },
  async run(ctx) {
    const id = idOf(ctx, "certificate");
    const reason = ctx.string("reason");
    const { result } = await ctx.api().call<ClientCertificate>("DELETE", `${base(ctx)}/${encodeURIComponent(id)}`, { query: { reason } });
    if (ctx.json) return ctx.out.json(result);
    ctx.out.write(`Revoked client certificate ${result.id}\n`);
    describe(ctx, result);
  },
};

const reactivate: Command = {
  name: "reactivate",
  summary: "reactivate a certificate on hold",
  options: { ...ZONE, ...ID },
  async run(ctx) {
    const id = idOf(ctx, "certificate");
    const { result } = await ctx.api().call<ClientCertificate>("PATCH", `${base(ctx)}/${encodeURIComponent(id)}`, { body: { reactivate: true } });
    if (ctx.json) return ctx.out.json(result);
    ctx.out.write(`Reactivated client certificate ${result.id}\n`);
    describe(ctx, result);
  },
};

/** clientCertificateCommand: `gatehouse client-certificate …` (zone client certificates, managed CA). */
export const clientCertificateCommand: Command = {
  name: "client-certificate",
  summary: "client certificates issued by the account's managed CA",
  subcommands: [create, list, get, revoke, reactivate],
};
