import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { it } from "node:test";
import { insertCertificateAuthority } from "../../src/db/certificate-authorities.js";
import { labelSuffixes, trustForHostname } from "../../src/db/hostname-associations.js";
import type { Sql } from "../../src/db/sql.js";
import { describeEachDatabase } from "../helpers/gatehouse.js";

// trustForHostname is what the edge asks on every new TLS connection. These cases set rows up
// directly (no API): zones example.com, api.example.com and other.org; CAs with recognisable DER.

const hex = () => randomBytes(16).toString("hex");

async function account(sql: Sql): Promise<string> {
  const id = hex();
  await sql`INSERT INTO accounts (id, name) VALUES (${id}, 'db test')`;
  return id;
}

async function zone(sql: Sql, accountId: string, name: string): Promise<string> {
  const id = hex();
  await sql`INSERT INTO zones (id, account_id, name) VALUES (${id}, ${accountId}, ${name})`;
  return id;
}

async function ca(sql: Sql, accountId: string, kind: "managed" | "byoca", label: string): Promise<{ id: string; der: Buffer }> {
  const id = randomUUID();
  const der = Buffer.from(`certificate of ${label}`);
  await insertCertificateAuthority(sql, {
    id,
    account_id: accountId,
    kind,
    name: label,
    certificate_pem: "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
    certificate_der: der,
    subject_der: Buffer.from([0x30, 0x00]),
    ski: randomBytes(20),
    key_type: kind === "managed" ? "P-256" : null,
    sealed_key: kind === "managed" ? randomBytes(64) : null,
    not_before: new Date(),
    not_after: new Date(Date.now() + 86400_000),
    active: kind === "managed" ? true : undefined,
  });
  return { id, der };
}

/** associate inserts one association, `ageSeconds` old (the edge orders by recency within a group). */
async function associate(sql: Sql, zoneId: string, hostname: string, caId: string, ageSeconds = 0): Promise<void> {
  await sql`INSERT INTO hostname_associations (zone_id, hostname, ca_id, created_on)
    VALUES (${zoneId}, ${hostname}, ${caId}, now() - make_interval(secs => ${ageSeconds}))`;
}

it("labelSuffixes lists every suffix on a label boundary, longest first", () => {
  assert.deepEqual(labelSuffixes("a.b.example.com"), ["a.b.example.com", "b.example.com", "example.com", "com"]);
  assert.deepEqual(labelSuffixes("localhost"), ["localhost"]);
});

describeEachDatabase("db/hostname-associations trustForHostname", (get) => {
  const sql = () => get().gh.db.sql;

  it("the longest zone suffix owns a hostname; the zone is found with no associations (cas empty)", async () => {
    const acct = await account(sql());
    const root = await zone(sql(), acct, "example.com");
    const api = await zone(sql(), acct, "api.example.com");
    const cases: Array<[string, string, string]> = [
      ["example.com", root, "example.com"],
      ["www.example.com", root, "example.com"],
      ["a.b.example.com", root, "example.com"],
      ["api.example.com", api, "api.example.com"],
      ["v1.api.example.com", api, "api.example.com"],
      ["x.y.api.example.com", api, "api.example.com"],
    ];
    for (const [host, zoneId, zoneName] of cases) {
      const trust = await trustForHostname(sql(), host);
      assert.deepEqual(trust, { zoneId, accountId: acct, zoneName, cas: [] }, host);
    }
  });

  it("suffixes match on label boundaries only: badexample.com is not in example.com", async () => {
    const acct = await account(sql());
    await zone(sql(), acct, "example.com");
    for (const host of ["badexample.com", "example.com.evil.org", "com", "xample.com", "", "."]) {
      assert.equal(await trustForHostname(sql(), host), undefined, host);
    }
  });

  it("a wildcard association matches exactly one label, never the apex or two labels", async () => {
    const acct = await account(sql());
    const z = await zone(sql(), acct, "example.com");
    const byoca = await ca(sql(), acct, "byoca", "wild");
    await associate(sql(), z, "*.example.com", byoca.id);
    const ids = async (host: string) => (await trustForHostname(sql(), host))?.cas.map((c) => c.caId);
    assert.deepEqual(await ids("a.example.com"), [byoca.id]);
    assert.deepEqual(await ids("A.Example.COM."), [byoca.id], "compared lower-cased, trailing dot ignored");
    assert.deepEqual(await ids("a.b.example.com"), []);
    assert.deepEqual(await ids("example.com"), []);
    const [only] = (await trustForHostname(sql(), "a.example.com"))!.cas;
    assert.equal(only.kind, "byoca");
    assert.ok(only.certificateDer.equals(byoca.der));
  });

  it("exact associations come before wildcard ones, whatever their age", async () => {
    const acct = await account(sql());
    const z = await zone(sql(), acct, "example.com");
    const managed = await ca(sql(), acct, "managed", "managed");
    const wild = await ca(sql(), acct, "byoca", "wild");
    await associate(sql(), z, "api.example.com", managed.id, 3600);
    await associate(sql(), z, "*.example.com", wild.id, 0);
    const trust = await trustForHostname(sql(), "api.example.com");
    assert.deepEqual(trust?.cas.map((c) => [c.caId, c.kind]), [
      [managed.id, "managed"],
      [wild.id, "byoca"],
    ]);
    assert.ok(trust!.cas[0].certificateDer.equals(managed.der));
  });

  it("several CAs on one hostname: all of them, most recently associated first, each once", async () => {
    const acct = await account(sql());
    const z = await zone(sql(), acct, "example.com");
    const managed = await ca(sql(), acct, "managed", "managed");
    const oldCa = await ca(sql(), acct, "byoca", "old");
    const newCa = await ca(sql(), acct, "byoca", "new");
    await associate(sql(), z, "api.example.com", managed.id, 7200);
    await associate(sql(), z, "api.example.com", oldCa.id, 3600);
    await associate(sql(), z, "api.example.com", newCa.id, 60);
    await associate(sql(), z, "*.example.com", oldCa.id, 0);
    const trust = await trustForHostname(sql(), "api.example.com");
    assert.deepEqual(trust?.cas.map((c) => c.caId), [newCa.id, oldCa.id, managed.id]);
    assert.deepEqual(trust?.cas.map((c) => c.certificateDer.toString()), ["certificate of new", "certificate of old", "certificate of managed"]);
  });

  it("only the owning zone's associations apply: a parent zone's wildcard does not reach into a sub-zone", async () => {
    const acct = await account(sql());
    const parent = await zone(sql(), acct, "example.com");
    const child = await zone(sql(), acct, "shop.example.com");
    const parentCa = await ca(sql(), acct, "byoca", "parent");
    const childCa = await ca(sql(), acct, "byoca", "child");
    await associate(sql(), parent, "*.example.com", parentCa.id);
    await associate(sql(), parent, "x.shop.example.com", parentCa.id);
    await associate(sql(), child, "x.shop.example.com", childCa.id);
    const inChild = await trustForHostname(sql(), "x.shop.example.com");
    assert.equal(inChild?.zoneId, child);
    assert.deepEqual(inChild?.cas.map((c) => c.caId), [childCa.id]);
    const apex = await trustForHostname(sql(), "shop.example.com");
    assert.deepEqual([apex?.zoneId, apex?.cas], [child, []], "the sub-zone's apex is its own, untouched by *.example.com");
  });

  it("hostnames of another zone with the same labels do not leak across zones", async () => {
    const a = await account(sql());
    const b = await account(sql());
    const za = await zone(sql(), a, "example.com");
    const zb = await zone(sql(), b, "other.org");
    const caA = await ca(sql(), a, "byoca", "a");
    await associate(sql(), za, "api.example.com", caA.id);
    const trust = await trustForHostname(sql(), "api.other.org");
    assert.deepEqual(trust, { zoneId: zb, accountId: b, zoneName: "other.org", cas: [] });
  });
});
