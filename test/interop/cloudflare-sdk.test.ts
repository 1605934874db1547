import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import Cloudflare from "cloudflare";
import { makeCsr, tamperCsrSignature } from "../helpers/csr.js";
import { createTenant, DATABASE_KINDS, startTestGatehouse, type Tenant, type TestGatehouse } from "../helpers/gatehouse.js";

/**
 * The unchanged official `cloudflare` SDK, pointed at Gatehouse with baseURL, drives the
 * client-certificate lifecycle over real HTTP.
 */
describe(`cloudflare SDK against Gatehouse [${DATABASE_KINDS.at(-1)}]`, () => {
  let h: TestGatehouse & { stop: () => Promise<void> };
  let t: Tenant;
  let cf: Cloudflare;
  before(async () => {
    h = await startTestGatehouse(DATABASE_KINDS.at(-1)!);
    const address = await h.gh.app.listen({ host: "127.0.0.1", port: 0 });
    t = await createTenant(h);
    cf = new Cloudflare({ apiToken: t.editToken, baseURL: `${address}/client/v4`, maxRetries: 0 });
  });
  after(async () => h.stop());

  it("creates, lists (auto-paging), gets, deletes and edits client certificates", async () => {
    const csr = makeCsr({ subject: "/CN=sdk-client" }).csrPem;
    const created = [];
    for (let i = 0; i < 7; i++) created.push(await cf.clientCertificates.create({ zone_id: t.zoneId, csr, validity_days: 30 }));
    assert.equal(created[0].common_name, "sdk-client");
    assert.equal(created[0].status, "active");

    const seen: string[] = [];
    for await (const c of cf.clientCertificates.list({ zone_id: t.zoneId, per_page: 5 })) seen.push(c.id!);
    assert.deepEqual(seen.sort(), created.map((c) => c.id!).sort(), "auto-paging walks every page until an empty one");

    const got = await cf.clientCertificates.get(created[0].id!, { zone_id: t.zoneId });
    assert.equal(got.fingerprint_sha256, created[0].fingerprint_sha256);

    const revoked = await cf.clientCertificates.delete(created[0].id!, { zone_id: t.zoneId });
    assert.equal(revoked.status, "revoked");
    const reactivated = await cf.clientCertificates.edit(created[0].id!, { zone_id: t.zoneId });
    assert.equal(reactivated.status, "active");
  });

  it("a bad CSR is a 400 error object carrying our code", async () => {
    const bad = tamperCsrSignature(makeCsr().csrPem);
    await assert.rejects(
      cf.clientCertificates.create({ zone_id: t.zoneId, csr: bad, validity_days: 30 }),
      (err: any) => {
        assert.ok(err instanceof Cloudflare.BadRequestError);
        assert.equal(err.status, 400);
        assert.equal(err.errors[0].code, 1103);
        return true;
      },
    );
  });
});
