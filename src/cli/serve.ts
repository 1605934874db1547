import { CliError, type Command } from "./framework.js";

/**
 * `gatehouse serve` and `gatehouse edge`: the long-running processes. Both are imported lazily so
 * the rest of the CLI starts fast and works in builds without them.
 */

/** serveCommand runs the REST API exactly as `npm start` / src/server.ts do (same variables). */
export const serveCommand: Command = {
  name: "serve",
  summary: "run the Gatehouse API (reads HOST, PORT, DATABASE_URL, GATEHOUSE_MASTER_KEY, … as README.md lists)",
  description:
    "Without DATABASE_URL the data lives in the embedded database under GATEHOUSE_DATA_DIR (default\n" +
    "./data); with it, GATEHOUSE_MASTER_KEY is required. SIGTERM drains and exits within 10 s.",
  async run() {
    // server.ts starts the service when it is loaded; the process then lives as long as it serves.
    await import("../server.js");
  },
};

/** SETTINGS_ERRORS: error names whose message tells the operator what to fix (EdgeTlsConfigError included). */
const SETTINGS_ERRORS = /(ConfigError|MasterKeyError|DataDirLockedError)$/;

/** EDGE_MODULE is resolved at run time, so this file compiles before (and without) src/edge/main.ts. */
const EDGE_MODULE = "../edge/main.js";

/** edgeCommand runs the mTLS edge through `startEdge` of src/edge/main.ts. */
export const edgeCommand: Command = {
  name: "edge",
  summary: "run the mTLS edge (the TLS server that asks for and checks client certificates)",
  async run() {
    let mod: { startEdge?: () => unknown };
    try {
      mod = (await import(EDGE_MODULE)) as typeof mod;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ERR_MODULE_NOT_FOUND" && String((err as Error).message).includes("edge")) {
        throw new CliError("the edge is not part of this build (src/edge/main.ts is missing)", 1);
      }
      throw err;
    }
    if (typeof mod.startEdge !== "function") throw new CliError("src/edge/main.ts does not export startEdge()", 1);
    try {
      await mod.startEdge();
    } catch (err) {
      // A setting the operator must fix (a missing certificate, a locked data directory): its message, not a stack.
      if (SETTINGS_ERRORS.test(String((err as Error)?.name))) throw new CliError((err as Error).message, 1);
      throw err;
    }
  },
};
