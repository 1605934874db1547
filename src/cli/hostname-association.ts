import { CliError, type Command, type OptionSpec, type RunContext } from "./framework.js";
import { ZONE } from "./client-certificate.js";

const hostnames = (ctx: RunContext, list: string[]) => {
  if (ctx.json) return ctx.out.json({ hostnames: list });
  ctx.out.table(list, [{ header: "hostname", value: (h) => h }], "No hostnames.");
};

const MTLS_ID: Record<string, OptionSpec> = {
  "mtls-certificate-id": { type: "string", placeholder: "ID", description: "a BYOCA mTLS certificate (default: the managed CA)" },
};

/** hostnameAssociationCommand: `gatehouse hostname-association get|put`. */
export const hostnameAssociationCommand: Command = {
  name: "hostname-association",
  summary: "which hostnames of a zone ask for client certificates of a CA",
  subcommands: [
    {
      name: "get",
      summary: "list the hostnames associated with a CA",
      options: { ...ZONE, ...MTLS_ID },
      async run(ctx) {
        const { result } = await ctx.api().call<{ hostnames: string[] }>("GET", `/zones/${ctx.zoneId()}/certificate_authorities/hostname_associations`, {
          query: { mtls_certificate_id: ctx.string("mtls-certificate-id") },
        });
        hostnames(ctx, result.hostnames);
      },
    },
    {
      name: "put",
      summary: "replace the hostnames associated with a CA",
      options: {
        ...ZONE,
        ...MTLS_ID,
        hostname: { type: "string", multiple: true, placeholder: "HOST", description: "a hostname of the zone" },
        clear: { type: "boolean", description: "remove every hostname (instead of --hostname)" },
      },
      examples: ["gatehouse hostname-association put --zone ZONE_ID --hostname api.example.com --hostname '*.devices.example.com'"],
      async run(ctx) {
        const list = ctx.strings("hostname");
        if (list.length === 0 && !ctx.flag("clear")) throw new CliError("give --hostname (repeatable), or --clear to remove every hostname");
        if (list.length > 0 && ctx.flag("clear")) throw new CliError("--clear and --hostname exclude each other");
        const body: Record<string, unknown> = { hostnames: list };
        const mtls = ctx.string("mtls-certificate-id");
        if (mtls) body.mtls_certificate_id = mtls;
        const { result } = await ctx.api().call<{ hostnames: string[] }>("PUT", `/zones/${ctx.zoneId()}/certificate_authorities/hostname_associations`, { body });
        hostnames(ctx, result.hostnames);
      },
    },
  ],
};
