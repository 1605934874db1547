import { EventEmitter } from "node:events";
import type { Sql, TxSql } from "./sql.js";

/**
 * A Change tells every process of a deployment that cached state is stale: a token was revoked,
 * a certificate's status changed, a CA or an association moved. Caches listen and drop entries.
 */
export interface Change {
  topic: "token" | "certificate" | "ca" | "association" | "zone" | "edge_settings" | "mtls_certificate" | string;
  id: string;
}

export interface ChangeBus {
  /** publish announces a change made inside `tx`; on a server it is delivered when `tx` commits. */
  publish(tx: TxSql, change: Change): Promise<void>;
  subscribe(listener: (change: Change) => void): () => void;
  close(): Promise<void>;
}

const CHANNEL = "gatehouse_changes";

/**
 * serverChangeBus uses LISTEN/NOTIFY: pg_notify inside the writing transaction is delivered on
 * commit, to every process connected to the server, and never for a rolled-back change.
 */
export async function serverChangeBus(sql: Sql): Promise<ChangeBus> {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  const listening = await sql.listen(CHANNEL, (payload) => {
    try {
      emitter.emit("change", JSON.parse(payload) as Change);
    } catch {
      // a payload we did not write; ignore it rather than crash a listener
    }
  });
  return {
    async publish(tx, change) {
      await tx`SELECT pg_notify(${CHANNEL}, ${JSON.stringify(change)})`;
    },
    subscribe(listener) {
      emitter.on("change", listener);
      return () => emitter.off("change", listener);
    },
    async close() {
      await listening.unlisten();
    },
  };
}

/**
 * inProcessChangeBus serves embedded mode, where PGlite has no NOTIFY and everything runs in one
 * process. With max: 1 connection, a listener's re-read queues behind the writing transaction,
 * so it sees the committed state.
 */
export function inProcessChangeBus(): ChangeBus {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    async publish(_tx, change) {
      setImmediate(() => emitter.emit("change", change));
    },
    subscribe(listener) {
      emitter.on("change", listener);
      return () => emitter.off("change", listener);
    },
    async close() {
      emitter.removeAllListeners();
    },
  };
}
