import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { findEnrollmentTokenByDigest } from "../../src/db/enrollment-tokens.js";
import { findZone } from "../../src/db/zones.js";
import { GatehouseError } from "../../src/errors.js";
import { enrollWithToken } from "../../src/services/enrollment.js";
import { enrollmentTokenDigest } from "../../src/services/enrollment-tokens.js";
import { createTenant, TEST_DATABASE_URL } from "../helpers/gatehouse.js";
import { createEnrollmentToken, estPost, headerOf, makeCsr, startEstHarness, type EstHarness } from "./est-helpers.js";

/**
 * Token limits under concurrency, on the real PostgreSQL server (embedded PGlite has one
 * connection, where nothing runs concurrently): a 5-use token and 20 parallel enrollments by 20
 * curl processes issue exactly 5 certificates; the other 15 answer 403 and write nothing.
 */
describe("EST token limits under concurrency [server]", { skip: TEST_DATABASE_URL ? false : "TEST_DATABASE_URL is not set" }, () => {
  let e: (EstHarness & { stop: () => Promise<void> }) | undefined;
  before(async () => {
    e = await startEstHarness("server");
  });
  after(async () => {
    await e?.stop();
  });

  it("a 5-use token and 20 parallel simpleenrolls issue exactly 5", async () => {
    const h = e!.h;
    const tenant = await createTenant(h);
    const token = await createEnrollmentToken(h, tenant, { max_uses: 5 });
    await Promise.all(Array.from({ length: 20 }, (_, i) => makeCsr(e!.dir, `par${i}`, `/CN=par-${i}`)));
    const before = await h.counts();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => estPost(e!, tenant.zoneId, "simpleenroll", `par${i}.b64`, `-u par-${i}:${token.value}`)),
    );
    const statuses = results.map((r) => r.status).sort();
    assert.deepEqual(statuses, [...Array(5).fill(200), ...Array(15).fill(403)], JSON.stringify(results.map((r) => [r.status, r.body])));
    for (const r of results.filter((x) => x.status === 403)) assert.equal(headerOf(r.headers, "gatehouse-error-code"), "1923");

    const list = await h.request({ method: "GET", url: `/client/v4/zones/${tenant.zoneId}/client_certificates`, token: tenant.readToken });
    assert.equal(list.json.result_info.total_count, 5);
    const tokens = await h.request({ method: "GET", url: `/client/v4/zones/${tenant.zoneId}/enrollment_tokens`, token: tenant.readToken });
    assert.equal(tokens.json.result[0].uses, 5);
    assert.equal(tokens.json.result[0].status, "exhausted");
    const afterCounts = await h.counts();
    assert.equal(afterCounts.client_certificates, before.client_certificates + 5);
    assert.equal(afterCounts.audit_events, before.audit_events + 5, "one audit event per issued certificate, none for refusals");
  });

  it("20 concurrent issuances that all passed the token check still stop at 5 (the guard in the transaction)", async () => {
    const h = e!.h;
    const tenant = await createTenant(h);
    const { value } = await createEnrollmentToken(h, tenant, { max_uses: 5 });
    await Promise.all(Array.from({ length: 20 }, (_, i) => makeCsr(e!.dir, `tx${i}`, `/CN=tx-${i}`)));
    // Authenticated once, before any use is counted: every call below passes the early check.
    const token = (await findEnrollmentTokenByDigest(h.gh.db.sql, enrollmentTokenDigest(value)))!;
    const zone = (await findZone(h.gh.db.sql, tenant.zoneId))!;
    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        enrollWithToken(h.gh.ctx, { zone, token, csrDer: new Uint8Array(readFileSync(join(e!.dir, `tx${i}.der`))) }, { actor: "test" }),
      ),
    );
    const issued = outcomes.filter((o) => o.status === "fulfilled");
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === "rejected");
    assert.equal(issued.length, 5);
    assert.equal(refused.length, 15);
    for (const r of refused) assert.ok(r.reason instanceof GatehouseError && r.reason.code === 1923, String(r.reason));
    const [count] = await h.gh.db.sql`SELECT count(*)::int AS n FROM client_certificates WHERE zone_id = ${tenant.zoneId}`;
    assert.equal(count.n, 5);
  });
});
