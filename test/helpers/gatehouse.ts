import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, beforeEach, describe } from "node:test";
import postgres from "postgres";
import type { Config } from "../../src/config.js";
import { createLogger } from "../../src/log.js";
import { startGatehouse, type Gatehouse, type StartOptions } from "../../src/runtime.js";
import { assertMatchesContract } from "./contract.js";

/** TEST_DATABASE_URL points at a real PostgreSQL server; suites needing one skip without it. */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL;

export type DatabaseKind = "embedded" | "server";

/** DATABASE_KINDS: the kinds this run can test (the server only when TEST_DATABASE_URL is set). */
export const DATABASE_KINDS: DatabaseKind[] = TEST_DATABASE_URL ? ["embedded", "server"] : ["embedded"];

/** createTestDatabase makes a fresh database on the test server and returns its URL and a dropper. */
export async function createTestDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  if (!TEST_DATABASE_URL) throw new Error("TEST_DATABASE_URL is not set");
  const name = `gatehouse_test_${randomBytes(6).toString("hex")}`;
  const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const a = postgres(TEST_DATABASE_URL!, { max: 1, onnotice: () => {} });
      await a.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

export interface TestResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json: any;
}

/** TestGatehouse is a running service for one test file, with helpers to call and inspect it. */
export interface TestGatehouse {
  kind: DatabaseKind;
  gh: Gatehouse;
  operatorToken: string;
  /** request injects an HTTP request and checks the response against openapi.yaml. */
  request(opts: { method: string; url: string; token?: string; body?: unknown; payload?: string | Buffer; headers?: Record<string, string> }): Promise<TestResponse>;
  /** truncate empties every table (between cases). */
  truncate(): Promise<void>;
  /** counts returns the row count of each table, to assert that a refused request wrote nothing. */
  counts(): Promise<Record<string, number>>;
}

export function testConfig(overrides: Partial<Config> = {}): Config {
  return {
    host: "127.0.0.1",
    port: 0,
    dataDir: "memory://",
    masterKey: randomBytes(32),
    operatorToken: "gh_operator_" + randomBytes(24).toString("base64url"),
    logLevel: process.env.TEST_LOG_LEVEL ?? "silent",
    workers: 1,
    byocaLimit: 5,
    ...overrides,
  };
}

/**
 * startTestGatehouse starts Gatehouse on the embedded database (in memory) or on a fresh database
 * of the test server. Call it from `before`; `stop` from `after`.
 */
export async function startTestGatehouse(
  kind: DatabaseKind,
  overrides: Partial<Config> = {},
  extra: Partial<StartOptions> = {},
): Promise<TestGatehouse & { stop: () => Promise<void> }> {
  const database = kind === "server" ? await createTestDatabase() : undefined;
  const config = testConfig({ databaseUrl: database?.url, ...overrides });
  const gh = await startGatehouse({ config, logger: createLogger(config.logLevel), announce: () => {}, ...extra });
  const tables = (
    await gh.db.sql<{ tablename: string }[]>`SELECT tablename FROM pg_tables WHERE schemaname = 'public'
      AND tablename NOT IN ('schema_migrations', 'settings') ORDER BY tablename`
  ).map((r) => r.tablename);
  return {
    kind,
    gh,
    operatorToken: config.operatorToken!,
    async request(opts) {
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      if (opts.token) headers.authorization = `Bearer ${opts.token}`;
      let payload = opts.payload;
      if (opts.body !== undefined) {
        payload = JSON.stringify(opts.body);
        headers["content-type"] ??= "application/json";
      }
      const res = await gh.app.inject({ method: opts.method as never, url: opts.url, headers, payload });
      let json: any;
      try {
        json = res.json();
      } catch {
        json = undefined;
      }
      const out = { statusCode: res.statusCode, headers: res.headers as TestResponse["headers"], body: res.body, json };
      assertMatchesContract(opts.method, opts.url, out);
      return out;
    },
    async truncate() {
      await gh.db.sql.unsafe(`TRUNCATE ${tables.join(", ")} RESTART IDENTITY CASCADE`);
      gh.ctx.issuers.clear();
    },
    async counts() {
      const out: Record<string, number> = {};
      for (const t of tables) {
        const [row] = await gh.db.sql.unsafe(`SELECT count(*)::int AS n FROM ${t}`);
        out[t] = row.n as number;
      }
      return out;
    },
    async stop() {
      await gh.close();
      await database?.drop();
    },
  };
}

/**
 * describeEachDatabase runs one suite per database kind, with a Gatehouse started once per file
 * and every table truncated before each case.
 */
export function describeEachDatabase(name: string, body: (get: () => TestGatehouse) => void): void {
  for (const kind of DATABASE_KINDS) {
    describe(`${name} [${kind}]`, () => {
      let h: (TestGatehouse & { stop: () => Promise<void> }) | undefined;
      before(async () => {
        h = await startTestGatehouse(kind);
      });
      after(async () => {
        await h?.stop();
      });
      beforeEach(async () => {
        await h!.truncate();
      });
      body(() => h!);
    });
  }
}

/** Tenant is an account with a zone and tokens of each kind, made through the API as a user would. */
export interface Tenant {
  accountId: string;
  zoneId: string;
  zoneName: string;
  caId: string;
  caPem: string;
  editToken: string;
  readToken: string;
}

export async function createTenant(h: TestGatehouse, opts: { zoneName?: string; caKeyType?: string } = {}): Promise<Tenant> {
  const op = h.operatorToken;
  const acct = await h.request({ method: "POST", url: "/client/v4/accounts", token: op, body: { name: "Test account", ca_key_type: opts.caKeyType } });
  if (acct.statusCode !== 200) throw new Error(`account: ${acct.body}`);
  const accountId = acct.json.result.id;
  const zoneName = opts.zoneName ?? `z${randomBytes(4).toString("hex")}.example.com`;
  const zone = await h.request({ method: "POST", url: "/client/v4/zones", token: op, body: { name: zoneName, account: { id: accountId } } });
  if (zone.statusCode !== 200) throw new Error(`zone: ${zone.body}`);
  const token = async (scopes: string[]) => {
    const res = await h.request({ method: "POST", url: `/client/v4/accounts/${accountId}/tokens`, token: op, body: { name: scopes.join("+"), scopes } });
    if (res.statusCode !== 200) throw new Error(`token: ${res.body}`);
    return res.json.result.value as string;
  };
  return {
    accountId,
    zoneId: zone.json.result.id,
    zoneName,
    caId: acct.json.result.managed_ca.id,
    caPem: acct.json.result.managed_ca.certificate,
    editToken: await token(["ssl_certificates:edit"]),
    readToken: await token(["ssl_certificates:read"]),
  };
}

/** refused sends a request and asserts its status, its error code, and that no table changed. */
export async function refused(
  h: TestGatehouse,
  req: { method: string; url: string; token?: string; body?: unknown },
  status: number,
  code: number,
): Promise<TestResponse> {
  const before = await h.counts();
  const res = await h.request(req);
  assert.equal(res.statusCode, status, res.body);
  assert.equal(res.json.errors[0].code, code, res.body);
  assert.deepEqual(await h.counts(), before, "a refused request writes nothing");
  return res;
}
