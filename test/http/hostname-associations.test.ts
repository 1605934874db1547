import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Change } from "../../src/db/changes.js";
import { trustForHostname } from "../../src/db/hostname-associations.js";
import { RequestErrors } from "../../src/errors.js";
import { HostnameAssociationErrors } from "../../src/services/hostname-associations.js";
import { TestPki, type Issued } from "../fixtures/byoca/pki.js";
import { createTenant, describeEachDatabase, startTestGatehouse, TEST_DATABASE_URL, type Tenant, type TestGatehouse, refused } from "../helpers/gatehouse.js";

const pki = new TestPki();
let oldRoot: Issued, newRoot: Issued, leaf: Issued;
before(() => {
  oldRoot = pki.root("old-root", "p256");
  newRoot = pki.root("new-root", "rsa2048");
  leaf = pki.issue("leaf", oldRoot, { ca: false });
});
after(() => pki.cleanup());

const assocUrl = (t: Tenant) => `/client/v4/zones/${t.zoneId}/certificate_authorities/hostname_associations`;

async function uploadCa(h: TestGatehouse, t: Tenant, root: Issued): Promise<string> {
  const res = await h.request({ method: "POST", url: `/client/v4/accounts/${t.accountId}/mtls_certificates`, token: t.editToken, body: { ca: true, certificates: root.certPem } });
  assert.equal(res.statusCode, 200, res.body);
  return res.json.result.id;
}

async function put(h: TestGatehouse, t: Tenant, hostnames: unknown, id?: string): Promise<string[]> {
  const res = await h.request({ method: "PUT", url: assocUrl(t), token: t.editToken, body: { hostnames, mtls_certificate_id: id } });
  assert.equal(res.statusCode, 200, res.body);
  return res.json.result.hostnames;
}

async function getHostnames(h: TestGatehouse, t: Tenant, id?: string): Promise<string[]> {
  const res = await h.request({ method: "GET", url: assocUrl(t) + (id ? `?mtls_certificate_id=${id}` : ""), token: t.readToken });
  assert.equal(res.statusCode, 200, res.body);
  return res.json.result.hostnames;
}

/** nextChange waits for the first change on the bus that matches (NOTIFY arrives after commit). */
function nextChange(h: TestGatehouse, match: (c: Change) => boolean): Promise<Change> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (stop(), reject(new Error("no change published within 5 s"))), 5000);
    const stop = h.gh.ctx.bus.subscribe((c) => {
      if (!match(c)) return;
      clearTimeout(timer);
      stop();
      resolve(c);
    });
  });
}

describeEachDatabase("hostname associations API", (get) => {
  it("200/absent mtls_certificate_id means the managed CA; hostnames come back lower-cased, de-duplicated, sorted", async () => {
    const h = get();
    const t = await createTenant(h);
    const z = t.zoneName;
    const published = nextChange(h, (c) => c.topic === "association" && c.id === t.zoneId);
    const result = await put(h, t, [`WWW.${z}`, `api.${z}.`, z, `*.dev.${z}`, `api.${z}`]);
    assert.deepEqual(result, [`*.dev.${z}`, `api.${z}`, z, `www.${z}`].sort());
    assert.deepEqual(await getHostnames(h, t), result);
    await published;
    const rows = await h.gh.db.sql`SELECT DISTINCT ca_id FROM hostname_associations`;
    assert.deepEqual(rows.map((r) => r.ca_id), [t.caId], "associated with the account's active managed CA");
    const audit = await h.gh.db.sql`SELECT action, object_id, ca_id, actor FROM audit_events WHERE object_type = 'hostname_association' ORDER BY object_id`;
    assert.equal(audit.length, 4, "one audit event per hostname added");
    assert.ok(audit.every((a) => a.action === "hostname_association.add" && a.ca_id === t.caId && a.actor.startsWith("token:")));
    const trust = await trustForHostname(h.gh.db.sql, `x.dev.${z}`);
    assert.deepEqual(trust?.cas.map((c) => [c.caId, c.kind]), [[t.caId, "managed"]]);
  });

  it("200/PUT replaces the set; unchanged hostnames keep their row; a repeated PUT writes nothing; [] clears", async () => {
    const h = get();
    const t = await createTenant(h);
    const z = t.zoneName;
    await put(h, t, [`a.${z}`, `b.${z}`]);
    const [before] = await h.gh.db.sql`SELECT created_on FROM hostname_associations WHERE hostname = ${`a.${z}`}`;
    assert.deepEqual(await put(h, t, [`c.${z}`, `a.${z}`]), [`a.${z}`, `c.${z}`]);
    const [kept] = await h.gh.db.sql`SELECT created_on FROM hostname_associations WHERE hostname = ${`a.${z}`}`;
    assert.equal(kept.created_on.getTime(), before.created_on.getTime());
    const actions = await h.gh.db.sql`SELECT action, object_id FROM audit_events WHERE object_type = 'hostname_association' ORDER BY id`;
    assert.deepEqual(actions.slice(2).map((a) => [a.action, a.object_id]), [
      ["hostname_association.add", `${t.zoneId}/c.${z}`],
      ["hostname_association.remove", `${t.zoneId}/b.${z}`],
    ]);
    const counts = await h.counts();
    assert.deepEqual(await put(h, t, [`a.${z}`, `c.${z}`]), [`a.${z}`, `c.${z}`]);
    assert.deepEqual(await h.counts(), counts, "a PUT that changes nothing writes nothing");
    assert.deepEqual(await put(h, t, []), []);
    assert.deepEqual(await getHostnames(h, t), []);
    assert.equal((await h.gh.db.sql`SELECT count(*)::int AS n FROM hostname_associations`)[0].n, 0);
  });

  it("200/CA rotation: one hostname trusts the managed CA and two BYOCAs at once, then drops the old one", async () => {
    const h = get();
    const t = await createTenant(h);
    const host = `api.${t.zoneName}`;
    const oldId = await uploadCa(h, t, oldRoot);
    const newId = await uploadCa(h, t, newRoot);
    await put(h, t, [host]);
    await put(h, t, [host], oldId);
    await put(h, t, [host], newId);
    assert.deepEqual(await getHostnames(h, t, oldId), [host]);
    assert.deepEqual(await getHostnames(h, t, newId), [host]);
    assert.deepEqual(await getHostnames(h, t), [host]);
    const trust = await trustForHostname(h.gh.db.sql, host);
    assert.equal(trust?.zoneId, t.zoneId);
    assert.deepEqual(new Set(trust?.cas.map((c) => c.caId)), new Set([t.caId, oldId, newId]));
    assert.ok(trust!.cas.find((c) => c.caId === oldId)!.certificateDer.equals(pki.der(oldRoot.certPath)));
    await put(h, t, [], oldId);
    assert.deepEqual((await trustForHostname(h.gh.db.sql, host))?.cas.map((c) => c.caId).sort(), [t.caId, newId].sort());
    const del = await h.request({ method: "DELETE", url: `/client/v4/accounts/${t.accountId}/mtls_certificates/${oldId}`, token: t.editToken });
    assert.equal(del.statusCode, 200, "the old CA, no longer associated, can be deleted");
  });

  it("400/bad hostnames, each with its own code and nothing written", async () => {
    const h = get();
    const t = await createTenant(h);
    const z = t.zoneName;
    const req = (body: unknown) => ({ method: "PUT", url: assocUrl(t), token: t.editToken, body });
    await refused(h, req({ hostnames: ["example.org"] }), 400, HostnameAssociationErrors.outsideZone);
    await refused(h, req({ hostnames: [`bad${z}`] }), 400, HostnameAssociationErrors.outsideZone);
    await refused(h, req({ hostnames: [`${z}.evil.org`] }), 400, HostnameAssociationErrors.outsideZone);
    await refused(h, req({ hostnames: [`*.${z.split(".").slice(1).join(".")}`] }), 400, HostnameAssociationErrors.outsideZone);
    const many = Array.from({ length: 101 }, (_, i) => `h${i}.${z}`);
    const res = await refused(h, req({ hostnames: many }), 400, HostnameAssociationErrors.tooManyHostnames);
    assert.match(res.json.errors[0].message, /at most 100/);
    assert.equal(
      (await h.request({ method: "PUT", url: assocUrl(t), token: t.editToken, body: { hostnames: many.slice(0, 100) } })).statusCode,
      200,
      "100 is allowed",
    );
    for (const bad of [`a_b.${z}`, `*.*.${z}`, `a.*.${z}`, `-a.${z}`, `a..${z}`, "", `${"a".repeat(64)}.${z}`]) {
      await refused(h, req({ hostnames: [bad] }), 400, HostnameAssociationErrors.badHostname);
    }
    await refused(h, req({}), 400, HostnameAssociationErrors.badHostnames);
    await refused(h, req({ hostnames: `a.${z}` }), 400, HostnameAssociationErrors.badHostnames);
    await refused(h, req({ hostnames: [42] }), 400, HostnameAssociationErrors.badHostnames);
    await refused(h, req({ hostnames: [], mtls_certificate_id: 42 }), 400, HostnameAssociationErrors.badCertificateId);
  });

  it("400/a hostname of a more specific zone belongs to that zone", async () => {
    const h = get();
    const t = await createTenant(h);
    const sub = await h.request({ method: "POST", url: "/client/v4/zones", token: h.operatorToken, body: { name: `shop.${t.zoneName}`, account: { id: t.accountId } } });
    assert.equal(sub.statusCode, 200, sub.body);
    const req = (hostnames: string[]) => ({ method: "PUT", url: assocUrl(t), token: t.editToken, body: { hostnames } });
    await refused(h, req([`shop.${t.zoneName}`]), 400, HostnameAssociationErrors.inMoreSpecificZone);
    await refused(h, req([`api.shop.${t.zoneName}`]), 400, HostnameAssociationErrors.inMoreSpecificZone);
    await refused(h, req([`*.shop.${t.zoneName}`]), 400, HostnameAssociationErrors.inMoreSpecificZone);
    assert.deepEqual(await put(h, t, [`*.${t.zoneName}`, `xshop.${t.zoneName}`]), [`*.${t.zoneName}`, `xshop.${t.zoneName}`]);
  });

  it("404/another account's mtls_certificate_id or zone; 400/a ca:false certificate; 403/a read token", async () => {
    const h = get();
    const t = await createTenant(h);
    const other = await createTenant(h);
    const theirs = await uploadCa(h, other, oldRoot);
    const host = [`api.${t.zoneName}`];
    await refused(h, { method: "PUT", url: assocUrl(t), token: t.editToken, body: { hostnames: host, mtls_certificate_id: theirs } }, 404, RequestErrors.notFound);
    await refused(h, { method: "GET", url: `${assocUrl(t)}?mtls_certificate_id=${theirs}`, token: t.readToken }, 404, RequestErrors.notFound);
    await refused(h, { method: "PUT", url: assocUrl(t), token: t.editToken, body: { hostnames: host, mtls_certificate_id: "00000000-0000-4000-8000-000000000000" } }, 404, RequestErrors.notFound);
    await refused(h, { method: "PUT", url: assocUrl(t), token: t.editToken, body: { hostnames: host, mtls_certificate_id: "short" } }, 404, RequestErrors.notFound);
    await refused(h, { method: "PUT", url: assocUrl(other), token: t.editToken, body: { hostnames: [`api.${other.zoneName}`] } }, 404, RequestErrors.notFound);
    // 404 comes before 403: a read token learns nothing of another account's id.
    await refused(h, { method: "PUT", url: assocUrl(t), token: t.readToken, body: { hostnames: host, mtls_certificate_id: theirs } }, 404, RequestErrors.notFound);
    await refused(h, { method: "PUT", url: assocUrl(t), token: t.readToken, body: { hostnames: host } }, 403, RequestErrors.forbidden);

    const res = await h.request({
      method: "POST",
      url: `/client/v4/accounts/${t.accountId}/mtls_certificates`,
      token: t.editToken,
      body: { ca: false, certificates: leaf.certPem, private_key: leaf.keyPem },
    });
    const leafId = res.json.result.id;
    const r = await refused(h, { method: "PUT", url: assocUrl(t), token: t.editToken, body: { hostnames: host, mtls_certificate_id: leafId } }, 400, HostnameAssociationErrors.notACa);
    assert.match(r.json.errors[0].message, /ca: false/);
    await refused(h, { method: "GET", url: `${assocUrl(t)}?mtls_certificate_id=${leafId}`, token: t.readToken }, 400, HostnameAssociationErrors.notACa);
  });
});

// ── two PUTs racing on one (zone, CA): the real server only (embedded mode has one connection) ─

describe("hostname associations under concurrency [server]", { skip: TEST_DATABASE_URL ? false : "TEST_DATABASE_URL is not set" }, () => {
  it("200/two racing PUTs end with exactly one of the two lists, never a mix", async () => {
    const h = await startTestGatehouse("server");
    try {
      const t = await createTenant(h);
      const z = t.zoneName;
      const caId = await uploadCa(h, t, oldRoot);
      const listA = Array.from({ length: 30 }, (_, i) => `a${i}.${z}`).concat([`shared.${z}`]).sort();
      const listB = Array.from({ length: 30 }, (_, i) => `b${i}.${z}`).concat([`shared.${z}`]).sort();
      const seen = new Set<string>();
      for (let round = 0; round < 25; round++) {
        // Start each round from a third state, so both writers have work to do.
        await put(h, t, [`start${round}.${z}`], caId);
        const [ra, rb] = await Promise.all([
          h.request({ method: "PUT", url: assocUrl(t), token: t.editToken, body: { hostnames: listA, mtls_certificate_id: caId } }),
          h.request({ method: "PUT", url: assocUrl(t), token: t.editToken, body: { hostnames: listB, mtls_certificate_id: caId } }),
        ]);
        assert.equal(ra.statusCode, 200, ra.body);
        assert.equal(rb.statusCode, 200, rb.body);
        const final = await getHostnames(h, t, caId);
        const which = JSON.stringify(final) === JSON.stringify(listA) ? "A" : JSON.stringify(final) === JSON.stringify(listB) ? "B" : undefined;
        assert.ok(which, `round ${round}: the set is a mix of both lists (${final.length} hostnames)`);
        seen.add(which);
      }
      const rows = await h.gh.db.sql`SELECT count(*)::int AS n FROM hostname_associations WHERE ca_id = ${caId}`;
      assert.equal(rows[0].n, 31);
    } finally {
      await h.stop();
    }
  });
});
