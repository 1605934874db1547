import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, it } from "node:test";
import { Agent } from "undici";
import { createBindings, BindingError, BindingErrors, type Bindings, type BindingConnection } from "../../src/index.js";
import { BindingLeaseErrors } from "../../src/services/binding-leases.js";
import { describeEachDatabase, TEST_DATABASE_URL, type TestGatehouse } from "../helpers/gatehouse.js";
import { createBindingTenant, listen, makeBindingPki, startMtlsServer, uploadClient, type BindingPki, type BindingTenant, type MtlsServer } from "./helpers.js";

let p: BindingPki;
let server: MtlsServer;
before(async () => {
  p = makeBindingPki();
  server = await startMtlsServer(p);
});
after(async () => {
  await server.close();
  p.pki.cleanup();
});

const config = (binding: string, certificate_id: string) => ({ mtls_certificates: [{ binding, certificate_id }] });

/** rejectsWith asserts a fetch rejected with a BindingError of `code` naming the binding. */
async function rejectsWith(promise: Promise<unknown>, binding: string, code: number, reason?: RegExp) {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof BindingError, `expected a BindingError, got ${String(err)}`);
    assert.ok(err instanceof TypeError, "a BindingError is a TypeError, as fetch's own rejections are");
    assert.equal(err.code, code, err.message);
    assert.equal(err.binding, binding);
    assert.match(err.message, new RegExp(`^binding ${binding}: `));
    if (reason) assert.match(err.message, reason);
    return true;
  });
}

describeEachDatabase("outbound mTLS binding", (get) => {
  let apiUrl: string;
  let h: TestGatehouse;
  let t: BindingTenant;
  const open: Bindings[] = [];
  const api = (): BindingConnection => ({ apiUrl, apiToken: t.useToken, accountId: t.accountId });
  const make = async (cfg: Parameters<typeof createBindings>[0], conn: BindingConnection = api(), opts: Parameters<typeof createBindings>[2] = {}) => {
    const env = await createBindings(cfg, conn, { ca: p.caA.certPem, ...opts });
    open.push(env);
    return env;
  };

  before(async () => {
    apiUrl = await listen(get());
  });

  async function setup() {
    h = get();
    for (const env of open.splice(0)) await env.close();
    t = await createBindingTenant(h);
  }
  after(async () => {
    for (const env of open.splice(0)) await env.close();
  });

  it("200/env.MY_CERT.fetch presents the certificate: the server sees its CN, with a string, a URL and a Request, over one pooled connection", async () => {
    await setup();
    const id = await uploadClient(h, t, p.clientOne);
    const env = await make(config("MY_CERT", id));
    assert.deepEqual(Object.keys(env), ["MY_CERT"], "only bindings are enumerable");
    assert.equal(env.MY_CERT.status, "ready");
    const seenBefore = server.seen.length;
    const connectionsBefore = server.connections;
    const r1 = await env.MY_CERT.fetch(`${server.url}/hello`);
    assert.ok(r1 instanceof Response, "the global Response");
    assert.equal(r1.status, 200);
    assert.deepEqual(await r1.json(), { cn: "client-one", method: "GET", path: "/hello", body: "" });
    const r2 = await env.MY_CERT.fetch(new URL(`${server.url}/url`));
    assert.equal((await r2.json()).cn, "client-one");
    const r3 = await env.MY_CERT.fetch(new Request(`${server.url}/request`, { method: "POST", body: "ping", headers: { "content-type": "text/plain" } }));
    assert.deepEqual(await r3.json(), { cn: "client-one", method: "POST", path: "/request", body: "ping" });
    const { fetch } = env.MY_CERT;
    const r4 = await fetch(`${server.url}/detached`, { method: "PUT", body: "x" });
    assert.equal((await r4.json()).method, "PUT", "fetch works detached from its object, like the global one");
    assert.deepEqual(server.seen.slice(seenBefore), ["client-one", "client-one", "client-one", "client-one"]);
    // undici may open a second connection when a request is dispatched in the same tick the first
    // one's socket is released; four requests on at most two connections shows the pool at work.
    assert.ok(server.connections - connectionsBefore <= 2, `pooled: ${server.connections - connectionsBefore} connections for 4 requests`);
    const assoc = await h.request({ method: "GET", url: `/client/v4/accounts/${t.accountId}/mtls_certificates/${id}/associations`, token: t.readToken });
    assert.deepEqual(assoc.json.result, [{ service: "binding", status: "active" }]);
  });

  it("refused/a plain fetch without a certificate is refused by the server's handshake", async () => {
    await setup();
    const seen = server.seen.length;
    const noCert = new Agent({ connect: { ca: p.caA.certPem } });
    await assert.rejects(fetch(`${server.url}/hello`, { dispatcher: noCert } as RequestInit), TypeError);
    await noCert.close();
    assert.equal(server.seen.length, seen, "no request got through");
  });

  it("refused/a binding to a certificate of another CA is refused by the server", async () => {
    await setup();
    const id = await uploadClient(h, t, p.stranger);
    const env = await make(config("STRANGER", id));
    assert.equal(env.STRANGER.status, "ready");
    const seen = server.seen.length;
    await assert.rejects(env.STRANGER.fetch(`${server.url}/hello`), (err: unknown) => err instanceof TypeError && !(err instanceof BindingError));
    assert.equal(server.seen.length, seen);
  });

  it("refused/http: URLs never connect (1854); redirects are not followed unless asked, and never to http: (1855)", async () => {
    await setup();
    const id = await uploadClient(h, t, p.clientTwo);
    const env = await make(config("RSA_CERT", id));
    await rejectsWith(env.RSA_CERT.fetch(server.url.replace("https:", "http:") + "/x"), "RSA_CERT", BindingErrors.plainHttp, /https:/);
    await rejectsWith(env.RSA_CERT.fetch("ftp://127.0.0.1/x"), "RSA_CERT", BindingErrors.plainHttp);
    await rejectsWith(env.RSA_CERT.fetch("not a url"), "RSA_CERT", BindingErrors.plainHttp);
    const manual = await env.RSA_CERT.fetch(`${server.url}/redirect-https`);
    assert.equal(manual.status, 302, "no redirect followed without redirect: follow");
    const followed = await env.RSA_CERT.fetch(`${server.url}/redirect-https`, { redirect: "follow" });
    assert.deepEqual(await followed.json(), { cn: "client-two", method: "GET", path: "/hello", body: "" });
    assert.equal(followed.redirected, true);
    await rejectsWith(env.RSA_CERT.fetch(`${server.url}/redirect-http`, { redirect: "follow" }), "RSA_CERT", BindingErrors.insecureRedirect);
  });

  it("409 then rejects/DELETE is refused while bound; after a forced delete, fetch rejects naming the binding", async () => {
    await setup();
    const id = await uploadClient(h, t, p.clientOne);
    const env = await make(config("MY_CERT", id));
    assert.equal((await env.MY_CERT.fetch(`${server.url}/before`)).status, 200);
    const url = `/client/v4/accounts/${t.accountId}/mtls_certificates/${id}`;
    const refused = await h.request({ method: "DELETE", url, token: t.editToken });
    assert.equal(refused.statusCode, 409);
    assert.equal(refused.json.errors[0].code, BindingLeaseErrors.inUseByBinding);
    assert.match(refused.json.errors[0].message, /MY_CERT/);
    const forced = await h.request({ method: "DELETE", url: `${url}?force=true`, token: t.editToken });
    assert.equal(forced.statusCode, 200, forced.body);
    await env.refresh();
    assert.equal(env.MY_CERT.status, "unavailable");
    await rejectsWith(env.MY_CERT.fetch(`${server.url}/after`), "MY_CERT", BindingErrors.certificateUnavailable, new RegExp(`${id} is unknown or was deleted`));
  });

  it("rejects/an unknown certificate id, and an expired certificate, name the binding and the reason", async () => {
    await setup();
    const unknown = randomUUID();
    const env = await make(config("NOPE", unknown));
    assert.equal(env.NOPE.status, "unavailable");
    await rejectsWith(env.NOPE.fetch(`${server.url}/x`), "NOPE", BindingErrors.certificateUnavailable, /unknown or was deleted/);
    const id = await uploadClient(h, t, p.clientOne);
    const later = await make(config("LATER", id), api(), { now: () => new Date(Date.now() + 5 * 365 * 86400_000) });
    await rejectsWith(later.LATER.fetch(`${server.url}/x`), "LATER", BindingErrors.certificateExpired, /expired on/);
  });

  it("200/close() releases the lease (DELETE then works without force) and later fetches reject (1856)", async () => {
    await setup();
    const id = await uploadClient(h, t, p.clientOne);
    const env = await make(config("MY_CERT", id));
    assert.equal((await h.gh.db.sql`SELECT count(*)::int AS n FROM binding_leases WHERE expires_on > now()`)[0].n, 1);
    await env.close();
    assert.equal((await h.gh.db.sql`SELECT count(*)::int AS n FROM binding_leases`)[0].n, 0);
    await rejectsWith(env.MY_CERT.fetch(`${server.url}/x`), "MY_CERT", BindingErrors.closed);
    const del = await h.request({ method: "DELETE", url: `/client/v4/accounts/${t.accountId}/mtls_certificates/${id}`, token: t.editToken });
    assert.equal(del.statusCode, 200, del.body);
  });

  it("refused/a read token cannot load key material: the binding says why", async () => {
    await setup();
    const id = await uploadClient(h, t, p.clientOne);
    const env = await make(config("MY_CERT", id), { apiUrl, apiToken: t.readToken, accountId: t.accountId });
    await rejectsWith(env.MY_CERT.fetch(`${server.url}/x`), "MY_CERT", BindingErrors.certificateUnavailable, /mtls_certificates:use/);
  });

  it("200/configuration from gatehouse.jsonc and gatehouse.toml (wrangler's keys and environments)", async () => {
    await setup();
    const one = await uploadClient(h, t, p.clientOne);
    const two = await uploadClient(h, t, p.clientTwo);
    const dir = mkdtempSync(join(tmpdir(), "gh-binding-config-"));
    try {
      const jsonc = join(dir, "gatehouse.jsonc");
      writeFileSync(jsonc, `{\n  // as in wrangler.jsonc\n  "name": "my-worker",\n  "mtls_certificates": [\n    { "binding": "ONE", "certificate_id": "${one}" },\n    { "binding": "TWO", "certificate_id": "${two.toUpperCase()}", },\n  ],\n}\n`);
      const fromJsonc = await make(jsonc);
      assert.deepEqual(Object.keys(fromJsonc), ["ONE", "TWO"]);
      assert.equal((await (await fromJsonc.TWO.fetch(`${server.url}/j`)).json()).cn, "client-two");
      const toml = join(dir, "gatehouse.toml");
      writeFileSync(toml, `name = "w"\n[[mtls_certificates]]\nbinding = "TOP"\ncertificate_id = "${one}"\n\n[[env.staging.mtls_certificates]]\nbinding = "STAGING"\ncertificate_id = "${two}"\nremote = true\n`);
      const staging = await make(toml, api(), { environment: "staging" });
      assert.deepEqual(Object.keys(staging), ["STAGING"], "environments do not inherit the top-level list");
      assert.equal((await (await staging.STAGING.fetch(`${server.url}/t`)).json()).cn, "client-two");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("200/inside the deployment: direct database access with the master key; a forced delete reaches the binding through the change bus", async () => {
    await setup();
    const id = await uploadClient(h, t, p.clientOne);
    const env = await make(config("DIRECT", id), { sql: h.gh.db.sql, masterKeys: h.gh.ctx.masterKeys, bus: h.gh.db.bus, accountId: t.accountId });
    assert.equal((await (await env.DIRECT.fetch(`${server.url}/d`)).json()).cn, "client-one");
    const [event] = await h.gh.db.sql`SELECT actor FROM audit_events WHERE action = 'mtls_certificate.key_read'`;
    assert.match(event.actor, /^binding:/);
    const del = await h.request({ method: "DELETE", url: `/client/v4/accounts/${t.accountId}/mtls_certificates/${id}?force=true`, token: t.editToken });
    assert.equal(del.statusCode, 200, del.body);
    for (let i = 0; i < 100 && env.DIRECT.status === "ready"; i++) await new Promise((r) => setTimeout(r, 20));
    await rejectsWith(env.DIRECT.fetch(`${server.url}/d`), "DIRECT", BindingErrors.certificateUnavailable);
  });

  it("200/direct access by DATABASE_URL + GATEHOUSE_MASTER_KEY (server database only)", { skip: !TEST_DATABASE_URL && "needs TEST_DATABASE_URL" }, async () => {
    await setup();
    if (h.kind !== "server") return;
    const id = await uploadClient(h, t, p.clientOne);
    const databaseUrl = h.gh.db.describe.match(/postgres(ql)?:\/\/\S+/)?.[0] ?? ""; // the test server has no password to redact
    const env = await make(config("BY_URL", id), undefined, {
      env: { DATABASE_URL: databaseUrl, GATEHOUSE_MASTER_KEY: h.gh.ctx.masterKeys.current.toString("base64"), GATEHOUSE_ACCOUNT_ID: t.accountId },
    });
    assert.equal((await (await env.BY_URL.fetch(`${server.url}/u`)).json()).cn, "client-one");
    await env.close();
  });

  it("400/bad configuration and missing settings name what to fix", async () => {
    await setup();
    await assert.rejects(createBindings({ mtls_certificates: [{ binding: "close", certificate_id: randomUUID() }] }, api()), /may not be "close"/);
    await assert.rejects(createBindings({ mtls_certificates: [{ binding: "A", certificate_id: "nope" }] }, api()), /certificate_id must be/);
    await assert.rejects(createBindings(config("A", randomUUID()), undefined, { env: {} }), /GATEHOUSE_API_URL is not set/);
    await assert.rejects(createBindings(config("A", randomUUID()), undefined, { env: { GATEHOUSE_API_URL: apiUrl } }), /GATEHOUSE_API_TOKEN is not set/);
    await assert.rejects(createBindings(config("A", randomUUID()), undefined, { env: { GATEHOUSE_API_URL: apiUrl, GATEHOUSE_API_TOKEN: "x" } }), /GATEHOUSE_ACCOUNT_ID is not set/);
    await assert.rejects(createBindings(config("A", randomUUID()), api(), { leaseSeconds: 1 }), /leaseSeconds/);
  });
});
