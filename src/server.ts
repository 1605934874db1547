import cluster from "node:cluster";
import { ConfigError, loadConfig } from "./config.js";
import { DataDirLockedError } from "./db/embedded.js";
import { DEFAULT_EST_PORT } from "./est/server.js";
import { MasterKeyError } from "./keys/master-key.js";
import { createLogger } from "./log.js";
import { startGatehouse } from "./runtime.js";

/** SHUTDOWN_GRACE_MS: SIGTERM drains in-flight requests, then exits at the latest after this. */
const SHUTDOWN_GRACE_MS = 10_000;

/** WORKER_READY: what a cluster worker tells the primary once all its listeners are up. */
const WORKER_READY = "gatehouse:ready";

/**
 * The process entry: read the config, open the database, serve. With DATABASE_URL and
 * GATEHOUSE_WORKERS > 1, a primary forks that many workers sharing the port (node:cluster), each a
 * full stateless Gatehouse; embedded mode is always one process.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  if (config.workers > 1 && cluster.isPrimary) {
    // Workers accept connections themselves (the kernel spreads them): with the default
    // round-robin the primary accepts every connection and passes it on, which about doubles the
    // CPU of clients that open one connection per request (OCSP, measured in bench/ocsp.mjs).
    // NODE_CLUSTER_SCHED_POLICY=rr restores Node's default.
    if (!process.env.NODE_CLUSTER_SCHED_POLICY) cluster.schedulingPolicy = cluster.SCHED_NONE;
    logger.info({ workers: config.workers }, "starting workers");
    // A worker that dies before it is ready (a bad certificate file, say) would die again: the
    // service stops with an error instead of restarting it in a loop. One that dies later is
    // replaced.
    const ready = new Set<number>();
    cluster.on("message", (worker, message) => {
      if (message === WORKER_READY) ready.add(worker.id);
    });
    let stopping = false;
    let exitCode = 0;
    const stopAll = (code: number) => {
      stopping = true;
      exitCode = Math.max(exitCode, code);
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill("SIGTERM");
      setTimeout(() => process.exit(1), SHUTDOWN_GRACE_MS + 1000).unref();
    };
    cluster.on("exit", (worker, code) => {
      if (!stopping && ready.has(worker.id)) {
        logger.error({ pid: worker.process.pid, code }, "worker exited; starting another");
        cluster.fork();
        return;
      }
      if (!stopping) {
        logger.error({ pid: worker.process.pid, code }, "a worker failed to start; stopping");
        stopAll(1);
      }
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(exitCode);
    });
    for (let i = 0; i < config.workers; i++) cluster.fork();
    for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => stopAll(0));
    return;
  }
  const gatehouse = await startGatehouse({ config, logger });
  const address = await gatehouse.app.listen({ host: config.host, port: config.port });
  logger.info({ address }, `Gatehouse API listening on ${address}`);
  if (gatehouse.est) {
    const estAddress = await gatehouse.est.listen({ host: config.host, port: config.estPort ?? DEFAULT_EST_PORT });
    logger.info({ address: estAddress }, `EST (RFC 7030) listening on ${estAddress}/.well-known/est/<zone id>/`);
  }
  if (gatehouse.edge) {
    const edgeAddress = await gatehouse.edge.listen();
    logger.info({ address: edgeAddress }, `mTLS edge listening on ${edgeAddress.address}:${edgeAddress.port}`);
  }
  process.send?.(WORKER_READY);
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, "draining");
    setTimeout(() => {
      logger.error("drain took too long; exiting");
      process.exit(1);
    }, SHUTDOWN_GRACE_MS).unref();
    gatehouse.close().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, "error while closing");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

main().catch((err) => {
  if (err instanceof ConfigError || err instanceof MasterKeyError || err instanceof DataDirLockedError) {
    process.stderr.write(`gatehouse: ${err.message}\n`);
  } else {
    process.stderr.write(`gatehouse: failed to start: ${err?.stack ?? err}\n`);
  }
  process.exit(1);
});
