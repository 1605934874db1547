import postgres from "postgres";

/** Sql is the one postgres.js client type; repositories take it (or a transaction of it) as a parameter. */
export type Sql = postgres.Sql<Record<string, never>>;
/** TxSql is the client inside `sql.begin`: repositories accept either. */
export type TxSql = postgres.TransactionSql<Record<string, never>> | Sql;

export interface ConnectOptions {
  max?: number;
  /** Per-connection statement timeout, so one stuck query cannot pin a connection forever. */
  statementTimeoutMs?: number;
}

/** connect opens a postgres.js pool on a URL. Bigints stay strings (postgres.js default): callers convert. */
export function connect(url: string, options: ConnectOptions = {}): Sql {
  return postgres(url, {
    max: options.max ?? 10,
    onnotice: () => {},
    connection: { application_name: "gatehouse", statement_timeout: options.statementTimeoutMs ?? 30_000 },
  }) as Sql;
}

/** isUniqueViolation tells a unique-constraint conflict (SQLSTATE 23505), optionally on one constraint. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as { code?: string; constraint_name?: string };
  return e?.code === "23505" && (constraint === undefined || e.constraint_name === constraint);
}
