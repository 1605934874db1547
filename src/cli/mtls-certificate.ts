import { CliError, type Command, type RunContext } from "./framework.js";
import { confirm, readTextFile, when } from "./io-helpers.js";

/** MtlsCertificate: the API's view (reference §3.1). */
interface MtlsCertificate {
  id: string;
  name: string;
  ca: boolean;
  issuer: string;
  serial_number: string;
  signature: string;
  expires_on: string;
  uploaded_on: string;
  certificates: string;
}

const base = (ctx: RunContext) => `/accounts/${ctx.accountId()}/mtls_certificates`;

const COLUMNS = [
  { header: "id", value: (c: MtlsCertificate) => c.id, keep: true },
  { header: "name", value: (c: MtlsCertificate) => c.name || "-" },
  { header: "ca", value: (c: MtlsCertificate) => (c.ca ? "yes" : "no") },
  { header: "issuer", value: (c: MtlsCertificate) => c.issuer },
  { header: "uploaded on", value: (c: MtlsCertificate) => when(c.uploaded_on) },
  { header: "expires on", value: (c: MtlsCertificate) => when(c.expires_on) },
];

function describe(ctx: RunContext, c: MtlsCertificate): void {
  ctx.out.fields([
    ["ID", c.id],
    ["Name", c.name || "-"],
    ["CA", c.ca ? "yes" : "no"],
    ["Issuer", c.issuer],
    ["Serial", c.serial_number],
    ["Expires on", when(c.expires_on)],
  ]);
}

/** resolveTarget: exactly one of --id / --name (wrangler's rule and messages); a name must match exactly one certificate. */
async function resolveTarget(ctx: RunContext): Promise<MtlsCertificate> {
  const id = ctx.string("id");
  const name = ctx.string("name");
  if (id && name) throw new CliError("can't provide both --id and --name.");
  if (!id && !name) throw new CliError("must provide --id or --name.");
  if (id) return (await ctx.api().call<MtlsCertificate>("GET", `${base(ctx)}/${encodeURIComponent(id)}`)).result;
  const { result } = await ctx.api().call<MtlsCertificate[]>("GET", base(ctx), { query: { name } });
  const matches = result.filter((c) => c.name === name);
  if (matches.length === 0) throw new CliError(`certificate not found with name "${name}"`, 1);
  if (matches.length > 1) throw new CliError(`multiple certificates found with name "${name}": delete by --id (${matches.map((c) => c.id).join(", ")})`, 1);
  return matches[0];
}

const upload: Command = {
  name: "upload",
  summary: "upload a client certificate and its key (or, with --ca, a CA certificate)",
  description:
    "--cert is a PEM file: the certificate first, then any intermediates. For a client certificate,\n" +
    "--key is its private key in a separate PEM file (PKCS#8, SEC1 or PKCS#1, unencrypted); it is\n" +
    "stored encrypted and only ever returned to a token with the mtls_certificates:use scope.",
  options: {
    cert: { type: "string", placeholder: "FILE", description: "PEM certificate (chain)" },
    key: { type: "string", placeholder: "FILE", description: "PEM private key of the first certificate (not with --ca)" },
    name: { type: "string", placeholder: "NAME", description: "a name to find it by" },
    ca: { type: "boolean", description: "upload a CA certificate (BYOCA) instead of a client certificate" },
  },
  examples: ["gatehouse mtls-certificate upload --cert cert.pem --key key.pem --name my-client-cert", "gatehouse mtls-certificate upload --ca --cert ca.pem --name corp-root"],
  async run(ctx) {
    const ca = ctx.flag("ca");
    const certificates = readTextFile(ctx.string("cert", true), "--cert");
    const keyPath = ctx.string("key");
    if (!ca && !keyPath) throw new CliError("--key is required for a client certificate (or pass --ca to upload a CA certificate)");
    if (ca && keyPath) throw new CliError("--key is not accepted with --ca: a CA upload carries no private key");
    const body: Record<string, unknown> = { ca, certificates };
    const name = ctx.string("name");
    if (name !== undefined) body.name = name;
    if (keyPath) body.private_key = readTextFile(keyPath, "--key");
    const { result } = await ctx.api().call<MtlsCertificate>("POST", base(ctx), { body });
    if (ctx.json) return ctx.out.json(result);
    ctx.out.write(`Uploaded mTLS certificate ${result.name || result.id}\n`);
    describe(ctx, result);
  },
};

const list: Command = {
  name: "list",
  summary: "list the account's mTLS certificates",
  options: {
    ca: { type: "boolean", description: "only CA certificates" },
    leaf: { type: "boolean", description: "only client certificates (what wrangler lists)" },
    name: { type: "string", placeholder: "NAME", description: "only certificates with this exact name" },
  },
  async run(ctx) {
    if (ctx.flag("ca") && ctx.flag("leaf")) throw new CliError("--ca and --leaf exclude each other");
    const query = { ca: ctx.flag("ca") ? "true" : ctx.flag("leaf") ? "false" : undefined, name: ctx.string("name") };
    const { result } = await ctx.api().call<MtlsCertificate[]>("GET", base(ctx), { query });
    if (ctx.json) return ctx.out.json(result);
    ctx.out.table(result, COLUMNS, "No mTLS certificates.");
  },
};

const get: Command = {
  name: "get",
  summary: "show one mTLS certificate",
  options: {
    id: { type: "string", placeholder: "ID", description: "the certificate's id" },
    name: { type: "string", placeholder: "NAME", description: "or its name" },
    pem: { type: "boolean", description: "print only the PEM chain" },
  },
  async run(ctx) {
    const cert = await resolveTarget(ctx);
    if (ctx.json) return ctx.out.json(cert);
    if (ctx.flag("pem")) return ctx.out.write(cert.certificates.endsWith("\n") ? cert.certificates : cert.certificates + "\n");
    describe(ctx, cert);
  },
};

const remove: Command = {
  name: "delete",
  summary: "delete an mTLS certificate (asks first on a terminal)",
  description:
    "A certificate that hostnames trust, or that a running binding uses, is not deleted: the API\n" +
    "answers with the reason. --force deletes it from under running bindings (their fetches then fail).",
  options: {
    id: { type: "string", placeholder: "ID", description: "the certificate's id" },
    name: { type: "string", placeholder: "NAME", description: "or its name (must match exactly one)" },
    force: { type: "boolean", description: "delete even while a binding uses it" },
    yes: { type: "boolean", short: "y", description: "do not ask for confirmation (required without a terminal)" },
  },
  examples: ["gatehouse mtls-certificate delete --name my-client-cert", "gatehouse mtls-certificate delete --id 99f5fef1-6cc1-46b8-bd79-44a0d5082b8d --yes"],
  async run(ctx) {
    const cert = await resolveTarget(ctx);
    const label = `${cert.id}${cert.name ? ` (${cert.name})` : ""}`;
    if (!(await confirm(ctx, `Delete mTLS certificate ${label}?`))) {
      ctx.out.error("Not deleted.\n");
      return 1;
    }
    const { result } = await ctx.api().call<MtlsCertificate>("DELETE", `${base(ctx)}/${cert.id}`, {
      query: { force: ctx.flag("force") ? "true" : undefined },
    });
    if (ctx.json) return ctx.out.json(result);
    ctx.out.write(`Deleted mTLS certificate ${label}\n`);
  },
};

const associations: Command = {
  name: "associations",
  summary: "list what uses an mTLS certificate (hostname associations, running bindings)",
  options: {
    id: { type: "string", placeholder: "ID", description: "the certificate's id" },
    name: { type: "string", placeholder: "NAME", description: "or its name" },
  },
  async run(ctx) {
    const cert = await resolveTarget(ctx);
    const { result } = await ctx.api().call<Array<{ service: string; status: string }>>("GET", `${base(ctx)}/${cert.id}/associations`);
    if (ctx.json) return ctx.out.json(result);
    ctx.out.table(
      result,
      [
        { header: "service", value: (a) => a.service },
        { header: "status", value: (a) => a.status },
      ],
      "Not in use.",
    );
  },
};

/** mtlsCertificateCommand: `gatehouse mtls-certificate …`, wrangler's commands against Gatehouse. */
export const mtlsCertificateCommand: Command = {
  name: "mtls-certificate",
  summary: "client certificates for outbound bindings, and uploaded CAs (BYOCA)",
  subcommands: [upload, list, get, remove, associations],
};
