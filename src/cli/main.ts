#!/usr/bin/env node
import { clientCertificateCommand } from "./client-certificate.js";
import { runCli, type Command } from "./framework.js";
import { hostnameAssociationCommand } from "./hostname-association.js";
import { mtlsCertificateCommand } from "./mtls-certificate.js";
import { processIo } from "./output.js";
import { provisionCommand } from "./provision.js";
import { edgeCommand, serveCommand } from "./serve.js";

/**
 * `gatehouse`: the package's bin (and `npm run gatehouse -- ARGS` in a checkout, after `npm run build`).
 *
 * To add a command group: write src/cli/<group>.ts exporting a `Command` (see framework.ts: a
 * group has `subcommands`, a leaf has `options` and `run(ctx)`; --help, --json and --account come
 * for free), import it here and append it to COMMANDS — one line each, e.g.
 *   import { provisionCommand } from "./provision.js";
 *   …, provisionCommand,
 */
const COMMANDS: Command[] = [
  mtlsCertificateCommand,
  clientCertificateCommand,
  hostnameAssociationCommand,
  serveCommand,
  edgeCommand,
  provisionCommand,
];

const root: Command = {
  name: "gatehouse",
  summary: "private PKI for mutual TLS",
  description:
    "Settings: GATEHOUSE_API_URL (the API's address), GATEHOUSE_API_TOKEN (an API token),\n" +
    "GATEHOUSE_ACCOUNT_ID (or --account), GATEHOUSE_ZONE_ID (or --zone).",
  subcommands: COMMANDS,
};

process.exitCode = await runCli(root, process.argv.slice(2), processIo());
