/**
 * The mTLS edge end to end: real Gatehouse (embedded and server database), CAs, certificates and
 * associations made through the API, real handshakes on loopback with curl and openssl s_client,
 * and a real local origin that records what reaches it.
 */
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { after, before, beforeEach, test } from "node:test";
import { createTenant, describeEachDatabase, type Tenant, type TestGatehouse } from "../helpers/gatehouse.js";
import { makeCsr } from "../helpers/csr.js";
import { openssl } from "../helpers/openssl.js";
import { caNames, curl, KeepAliveClient, sClient, startEdgeFixture, startOrigin, waitFor, type EdgeFixture, type Origin } from "./harness.js";
import type { Issued } from "./test-pki.js";

const DAY = 86_400_000;

describeEachDatabase("mTLS edge", (get) => {
  let fx: EdgeFixture;
  let origin: Origin;

  before(async () => {
    fx = await startEdgeFixture(get());
    origin = await startOrigin();
  });
  after(async () => {
    await origin?.close();
    await fx?.close();
  });
  beforeEach(() => {
    fx.edge.directory.clear();
    origin.received.length = 0;
  });

  // ── API helpers ────────────────────────────────────────────────────────────────────────────
  let seq = 0;
  async function api(h: TestGatehouse, method: string, url: string, token: string, body?: unknown) {
    const res = await h.request({ method, url, token, body });
    assert.ok(res.statusCode === 200, `${method} ${url} → ${res.statusCode} ${res.body}`);
    return res.json.result;
  }
  async function tenant(h: TestGatehouse, zoneName = "example.net", opts: { policy?: string } = {}): Promise<Tenant> {
    const t = await createTenant(h, { zoneName });
    await api(h, "PATCH", `/client/v4/zones/${t.zoneId}/edge_settings`, t.editToken, { origin: origin.url, policy: opts.policy ?? "block" });
    return t;
  }
  async function associate(h: TestGatehouse, t: Tenant, hostnames: string[], mtlsCertificateId?: string) {
    await api(h, "PUT", `/client/v4/zones/${t.zoneId}/certificate_authorities/hostname_associations`, t.editToken, {
      hostnames,
      ...(mtlsCertificateId ? { mtls_certificate_id: mtlsCertificateId } : {}),
    });
  }
  async function issueManaged(h: TestGatehouse, t: Tenant, subject = "/C=US/O=Acme/CN=alice"): Promise<{ cert: Issued; row: any }> {
    const csr = makeCsr({ subject });
    const row = await api(h, "POST", `/client/v4/zones/${t.zoneId}/client_certificates`, t.editToken, { csr: csr.csrPem, validity_days: 30 });
    return { cert: fx.pki.fromPem(`managed-${seq++}`, row.certificate, csr.keyPem), row };
  }
  async function uploadByoca(h: TestGatehouse, t: Tenant, ca: Issued): Promise<string> {
    const row = await api(h, "POST", `/client/v4/accounts/${t.accountId}/mtls_certificates`, t.editToken, { ca: true, certificates: ca.pem, name: ca.name });
    return row.id as string;
  }
  const ask = (host: string, opts: Omit<Parameters<typeof curl>[2], "caFile"> = {}) => curl(fx.port, host, { caFile: fx.serverCa.certFile, ...opts });
  const errorCode = (body: string) => JSON.parse(body).errors[0].code as number;
  const name = (base: string) => `${base}-${seq++}`;

  /** A zone example.net with mtls.example.net trusting the managed CA, and open.example.net trusting none. */
  async function managedSetup(h: TestGatehouse, policy = "block") {
    const t = await tenant(h, "example.net", { policy });
    await associate(h, t, ["mtls.example.net"]);
    return t;
  }

  // ── accepted ───────────────────────────────────────────────────────────────────────────────

  test("200/managed-CA certificate: the origin gets the request and exact verdict headers", async () => {
    const h = get();
    const t = await managedSetup(h);
    const { cert, row } = await issueManaged(h, t);
    const res = await ask("mtls.example.net", { cert, path: "/hello?x=1" });
    assert.equal(res.status, 200, res.body + res.stderr);
    assert.equal(res.body, "origin ok");
    assert.match(res.headers, /x-origin: yes/i);
    assert.equal(origin.received.length, 1);
    const got = origin.received[0];
    assert.equal(got.url, "/hello?x=1");
    assert.equal(got.headers.host, `mtls.example.net:${fx.port}`);
    const x = new X509Certificate(cert.pem);
    const caX = new X509Certificate(t.caPem);
    const rfc2253 = (which: string) => openssl(["x509", "-in", cert.certFile, "-noout", which, "-nameopt", "RFC2253"]).trim().replace(/^(subject|issuer)=/, "");
    const legacy = (which: string) => openssl(["x509", "-in", cert.certFile, "-noout", which, "-nameopt", "compat"]).trim().replace(/^(subject|issuer)=/, "");
    const expected: Record<string, string> = {
      "cf-cert-presented": "true",
      "cf-cert-verified": "true",
      "cf-cert-revoked": "false",
      "cf-cert-subject-dn": "CN=alice,O=Acme,C=US",
      "cf-cert-subject-dn-rfc2253": rfc2253("-subject"),
      "cf-cert-issuer-dn": rfc2253("-issuer"),
      "cf-cert-issuer-dn-rfc2253": rfc2253("-issuer"),
      "cf-cert-subject-dn-legacy": legacy("-subject"),
      "cf-cert-issuer-dn-legacy": legacy("-issuer"),
      "cf-cert-serial": row.serial_number.toUpperCase(),
      "cf-cert-issuer-serial": caX.serialNumber.toUpperCase(),
      "cf-cert-sha256": x.fingerprint256.replace(/:/g, "").toLowerCase(),
      "cf-cert-sha1": x.fingerprint.replace(/:/g, "").toLowerCase(),
      "cf-cert-not-before": x.validFrom,
      "cf-cert-not-after": x.validTo,
      "cf-cert-ski": row.ski.toUpperCase(),
      "cf-cert-issuer-ski": openssl(["x509", "-in", fx.dir.file(name("ca") + ".pem", t.caPem), "-noout", "-ext", "subjectKeyIdentifier"]).split("\n")[1].trim().replace(/:/g, ""),
      "cf-client-cert-der-base64": x.raw.toString("base64"),
      "cf-client-cert-sha256": x.fingerprint256.replace(/:/g, "").toLowerCase(),
      "client-cert": `:${x.raw.toString("base64")}:`,
      "x-forwarded-proto": "https",
      "x-forwarded-for": "127.0.0.1",
    };
    assert.equal(expected["cf-cert-subject-dn-legacy"], "/C=US/O=Acme/CN=alice");
    for (const [k, v] of Object.entries(expected)) assert.equal(got.headers[k], v, k);
    assert.equal(got.headers["client-cert-chain"], undefined, "no intermediates were sent");
  });

  test("200/Cf-Client-Cert-* only on a connection's first request; the verdict on every one", async () => {
    const h = get();
    const t = await managedSetup(h);
    const { cert } = await issueManaged(h, t);
    const res = await ask("mtls.example.net", { cert, path: "/one", extra: [`https://mtls.example.net:${fx.port}/two`] });
    assert.equal(res.exit, 0, res.stderr);
    assert.deepEqual(origin.received.map((r) => r.url), ["/one", "/two"]);
    const [one, two] = origin.received;
    assert.ok(one.headers["cf-client-cert-der-base64"]);
    assert.equal(two.headers["cf-client-cert-der-base64"], undefined);
    assert.equal(two.headers["cf-client-cert-sha256"], undefined);
    assert.equal(two.headers["cf-cert-verified"], "true");
    assert.equal(two.headers["client-cert"], one.headers["client-cert"]);
  });

  test("200/BYOCA leaf through an intermediate the client sends: chain and issuer headers", async () => {
    const h = get();
    const t = await tenant(h);
    const root = fx.pki.root(name("byoca-root"));
    const inter = fx.pki.issue(name("byoca-inter"), root, { kind: "ca" });
    const leaf = fx.pki.issue(name("byoca-leaf"), inter, { kind: "client", subject: "/O=Acme/CN=device-7" });
    await associate(h, t, ["byoca.example.net"], await uploadByoca(h, t, root));
    const res = await ask("byoca.example.net", { cert: fx.pki.bundle(name("b"), leaf, inter) });
    assert.equal(res.status, 200, res.body);
    const got = origin.received[0].headers;
    const interX = new X509Certificate(inter.pem);
    assert.equal(got["cf-cert-verified"], "true");
    assert.equal(got["cf-cert-revoked"], "false", "BYOCA certificates are never revocation-checked");
    assert.equal(got["cf-cert-subject-dn"], "CN=device-7,O=Acme");
    assert.equal(got["cf-cert-issuer-serial"], interX.serialNumber.toUpperCase());
    assert.equal(got["client-cert-chain"], `:${interX.raw.toString("base64")}:`);
  });

  test("200/intermediate-only BYOCA is an anchor; 403/leaf of its sibling intermediate", async () => {
    const h = get();
    const t = await tenant(h);
    const root = fx.pki.root(name("shared-root"));
    const interA = fx.pki.issue(name("inter-a"), root, { kind: "ca" });
    const interB = fx.pki.issue(name("inter-b"), root, { kind: "ca" });
    await associate(h, t, ["partial.example.net"], await uploadByoca(h, t, interA));
    const leafA = fx.pki.issue(name("leaf-a"), interA, { kind: "client" });
    const leafB = fx.pki.issue(name("leaf-b"), interB, { kind: "client" });
    assert.equal((await ask("partial.example.net", { cert: leafA })).status, 200);
    for (const cert of [leafB, fx.pki.bundle(name("b"), leafB, interB), fx.pki.bundle(name("b"), leafB, interB, root)]) {
      const res = await ask("partial.example.net", { cert });
      assert.equal(res.status, 403);
      assert.equal(errorCode(res.body), 1711);
    }
    assert.equal(origin.received.length, 1);
  });

  test("200/during a CA rotation both CAs are associated and leaves of either pass", async () => {
    const h = get();
    const t = await tenant(h);
    const oldRoot = fx.pki.root(name("old-root"));
    const newRoot = fx.pki.root(name("new-root"));
    await associate(h, t, ["rotate.example.net"], await uploadByoca(h, t, oldRoot));
    await associate(h, t, ["rotate.example.net"], await uploadByoca(h, t, newRoot));
    await associate(h, t, ["rotate.example.net"]);
    const managed = (await issueManaged(h, t)).cert;
    for (const cert of [fx.pki.issue(name("old-leaf"), oldRoot, { kind: "client" }), fx.pki.issue(name("new-leaf"), newRoot, { kind: "client" }), managed]) {
      const res = await ask("rotate.example.net", { cert });
      assert.equal(res.status, 200, `${cert.name}: ${res.body}`);
    }
    // The CertificateRequest offers exactly these three CAs.
    const out = await sClient(fx.port, "rotate.example.net");
    const names = caNames(out);
    assert.match(names, new RegExp(oldRoot.name));
    assert.match(names, new RegExp(newRoot.name));
    assert.match(names, /Gatehouse Managed CA/);
  });

  // ── refused ────────────────────────────────────────────────────────────────────────────────

  test("403/none presented, self-signed, another account's CA, managed leaf on a BYOCA-only hostname", async () => {
    const h = get();
    const t = await managedSetup(h);
    const other = await tenant(h, "example.org");
    await associate(h, other, ["mtls.example.org"]);
    const foreign = (await issueManaged(h, other)).cert;
    const byocaRoot = fx.pki.root(name("byoca-only"));
    await associate(h, t, ["byoca.example.net"], await uploadByoca(h, t, byocaRoot));
    const managedLeaf = (await issueManaged(h, t)).cert;
    const selfSigned = fx.pki.root(name("self-signed"));
    const before = await h.counts();
    const cases: Array<[string, string, Issued | undefined, number]> = [
      ["none presented", "mtls.example.net", undefined, 1710],
      ["self-signed", "mtls.example.net", selfSigned, 1711],
      ["another account's CA", "mtls.example.net", foreign, 1711],
      ["managed leaf, BYOCA-only hostname", "byoca.example.net", managedLeaf, 1711],
    ];
    for (const [label, host, cert, code] of cases) {
      const res = await ask(host, { cert });
      assert.equal(res.status, 403, label);
      assert.equal(errorCode(res.body), code, label);
      assert.match(JSON.parse(res.body).errors[0].message, /certificate/, label);
    }
    assert.equal(origin.received.length, 0);
    assert.deepEqual(await h.counts(), before);
  });

  test("403/PKITS-style paths: expired intermediate, pathLen exceeded, wrong EKU, not yet valid, expired leaf; 200/no EKU", async () => {
    const h = get();
    const t = await tenant(h);
    const root = fx.pki.root(name("pkits-root"));
    const root0 = fx.pki.root(name("pkits-pathlen0"), { pathlen: 0 });
    await associate(h, t, ["pkits.example.net"], await uploadByoca(h, t, root));
    await associate(h, t, ["pkits.example.net"], await uploadByoca(h, t, root0));
    const now = Date.now();
    const expiredInter = fx.pki.issue(name("expired-inter"), root, { kind: "ca", notBefore: new Date(now - 30 * DAY), notAfter: new Date(now - DAY) });
    const underExpired = fx.pki.issue(name("under-expired"), expiredInter, { kind: "client", notBefore: new Date(now - 10 * DAY), notAfter: new Date(now + 10 * DAY) });
    const inter0 = fx.pki.issue(name("inter-under-pathlen0"), root0, { kind: "ca" });
    const tooDeep = fx.pki.issue(name("too-deep"), inter0, { kind: "client" });
    const cases: Array<[string, Issued, number]> = [
      ["expired intermediate", fx.pki.bundle(name("b"), underExpired, expiredInter), 1712],
      ["pathLen exceeded", fx.pki.bundle(name("b"), tooDeep, inter0), 1715],
      ["wrong EKU (serverAuth only)", fx.pki.issue(name("server-eku"), root, { kind: "client", eku: "serverAuth" }), 1714],
      ["not yet valid", fx.pki.issue(name("future"), root, { kind: "client", notBefore: new Date(now + DAY), notAfter: new Date(now + 30 * DAY) }), 1713],
      ["expired leaf", fx.pki.issue(name("expired"), root, { kind: "client", notBefore: new Date(now - 30 * DAY), notAfter: new Date(now - DAY) }), 1712],
    ];
    for (const [label, cert, code] of cases) {
      const res = await ask("pkits.example.net", { cert });
      assert.equal(res.status, 403, `${label}: ${res.body}`);
      assert.equal(errorCode(res.body), code, label);
    }
    assert.equal(origin.received.length, 0);
    assert.equal((await ask("pkits.example.net", { cert: fx.pki.issue(name("no-eku"), root, { kind: "client", eku: "none" }) })).status, 200);
    assert.equal((await ask("pkits.example.net", { cert: fx.pki.issue(name("both-eku"), root, { kind: "client", eku: "serverAuth, clientAuth" }) })).status, 200);
  });

  test("403/held, then revoked; 200 again after reactivating a hold", async () => {
    const h = get();
    const t = await managedSetup(h);
    const { cert, row } = await issueManaged(h, t);
    const certUrl = `/client/v4/zones/${t.zoneId}/client_certificates/${row.id}`;
    assert.equal((await ask("mtls.example.net", { cert })).status, 200);
    await api(h, "DELETE", certUrl, t.editToken);
    let res = await ask("mtls.example.net", { cert });
    assert.equal(res.status, 403);
    assert.equal(errorCode(res.body), 1718);
    await api(h, "PATCH", certUrl, t.editToken);
    assert.equal((await ask("mtls.example.net", { cert })).status, 200);
    await api(h, "DELETE", `${certUrl}?reason=keyCompromise`, t.editToken);
    res = await ask("mtls.example.net", { cert });
    assert.equal(res.status, 403);
    assert.equal(errorCode(res.body), 1717);
    assert.equal(origin.received.length, 2);
  });

  test("403/revocation reaches a kept-alive connection within 1 s of the DELETE", async () => {
    const h = get();
    const t = await managedSetup(h);
    const { cert, row } = await issueManaged(h, t);
    const client = new KeepAliveClient(fx.port, "mtls.example.net", { cert, caPem: fx.serverCa.pem });
    try {
      const first = await client.get("/ka");
      assert.equal(first.status, 200);
      const deleted = performance.now();
      await api(h, "DELETE", `/client/v4/zones/${t.zoneId}/client_certificates/${row.id}?reason=keyCompromise`, t.editToken);
      let last = first;
      const elapsed = await waitFor(async () => {
        last = await client.get("/ka");
        assert.equal(last.localPort, first.localPort, "same connection");
        return last.status === 403;
      }, 1000, 5);
      assert.ok(elapsed < 1000, `refused ${Math.round(performance.now() - deleted)} ms after the DELETE started`);
      assert.equal(JSON.parse(last.body).errors[0].code, 1717);
    } finally {
      client.close();
    }
  });

  // ── forward policy ─────────────────────────────────────────────────────────────────────────

  test("200/forward policy: refused certificates reach the origin with their verdict", async () => {
    const h = get();
    const t = await managedSetup(h, "forward");
    const { cert: held, row } = await issueManaged(h, t);
    await api(h, "DELETE", `/client/v4/zones/${t.zoneId}/client_certificates/${row.id}`, t.editToken);
    const root = fx.pki.root(name("unknown"));
    const cases: Array<[string, Issued | undefined, Record<string, string | undefined>]> = [
      ["none", undefined, { "cf-cert-presented": "false", "cf-cert-verified": "false", "cf-cert-revoked": "false", "cf-cert-serial": "", "client-cert": undefined }],
      ["unknown CA", fx.pki.issue(name("u"), root, { kind: "client" }), { "cf-cert-presented": "true", "cf-cert-verified": "false", "cf-cert-revoked": "false", "client-cert": undefined }],
      ["held", held, { "cf-cert-presented": "true", "cf-cert-verified": "true", "cf-cert-revoked": "true", "client-cert": undefined, "cf-cert-serial": row.serial_number.toUpperCase() }],
    ];
    for (const [label, cert, want] of cases) {
      origin.received.length = 0;
      const res = await ask("mtls.example.net", { cert });
      assert.equal(res.status, 200, label);
      assert.equal(origin.received.length, 1, label);
      for (const [k, v] of Object.entries(want)) assert.equal(origin.received[0].headers[k], v, `${label}: ${k}`);
    }
  });

  test("200/edge settings and associations change without a restart", async () => {
    const h = get();
    const t = await managedSetup(h);
    assert.equal((await ask("mtls.example.net")).status, 403);
    await api(h, "PATCH", `/client/v4/zones/${t.zoneId}/edge_settings`, t.editToken, { policy: "forward" });
    assert.equal((await ask("mtls.example.net")).status, 200);
    // open.example.net: no CertificateRequest, then one once it is associated.
    assert.doesNotMatch(await sClient(fx.port, "open.example.net"), /CertificateRequest/);
    assert.equal((await ask("open.example.net")).status, 200);
    await associate(h, t, ["mtls.example.net", "open.example.net"]);
    assert.match(await sClient(fx.port, "open.example.net"), /CertificateRequest/);
  });

  // ── SNI and Host ───────────────────────────────────────────────────────────────────────────

  test("421/SNI unassociated, Host associated: nothing reaches the origin; an IP Host follows the SNI", async () => {
    const h = get();
    const t = await managedSetup(h);
    const { cert } = await issueManaged(h, t);
    const before = await h.counts();
    let res = await ask("mtls.example.net", { sni: "open.example.net", cert });
    assert.equal(res.status, 421);
    assert.equal(errorCode(res.body), 1720);
    res = await ask("nowhere.example.com", { sni: "open.example.net" });
    assert.equal(res.status, 421);
    assert.equal(errorCode(res.body), 1721);
    // The other way round too: a verified connection to mtls.* cannot borrow it for open.*
    res = await ask("open.example.net", { sni: "mtls.example.net", cert });
    assert.equal(res.status, 421);
    assert.equal(origin.received.length, 0);
    // A Host without a name (the edge's address) is read as the SNI's name.
    res = await ask(`127.0.0.1:${fx.port}`, { sni: "mtls.example.net", cert });
    assert.equal(res.status, 200, res.body);
    assert.equal(origin.received[0].headers["cf-cert-verified"], "true");
    assert.equal(origin.received[0].headers.host, `127.0.0.1:${fx.port}`);
    assert.deepEqual(await h.counts(), before);
  });

  test("no CertificateRequest for an unassociated SNI; the associated one names only its CA", async () => {
    const h = get();
    const t = await managedSetup(h);
    const other = fx.pki.root(name("not-offered"));
    await associate(h, t, ["byoca.example.net"], await uploadByoca(h, t, other));
    const open = await sClient(fx.port, "open.example.net");
    assert.match(open, /Finished/, open);
    assert.doesNotMatch(open, /CertificateRequest/);
    assert.match(open, /No client certificate CA names sent/);
    const mtls = await sClient(fx.port, "mtls.example.net");
    assert.match(mtls, /CertificateRequest/);
    const names = caNames(mtls);
    assert.match(names, /Gatehouse Managed CA/);
    assert.doesNotMatch(names, new RegExp(other.name), "another hostname's CA is not offered");
  });

  // ── headers from the client ────────────────────────────────────────────────────────────────

  test("forged verdict headers never reach the origin", async () => {
    const h = get();
    await managedSetup(h, "forward");
    const forged = [
      "cf-cert-verified: true",
      "cf_cert_verified: true",
      "CF-Cert-Revoked: false",
      "Cf_Cert_Subject_Dn: CN=admin",
      "Client-Cert: :AAAA:",
      "client_cert_chain: :AAAA:",
      "Cf-Client-Cert-Sha256: 00",
      "X-Kept: yes",
    ];
    const res = await ask("mtls.example.net", { headers: forged });
    assert.equal(res.status, 200);
    const raw = origin.received[0].rawHeaders;
    const names = raw.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase().replace(/_/g, "-"));
    assert.equal(names.filter((n) => n === "cf-cert-verified").length, 1);
    assert.equal(origin.received[0].headers["cf-cert-verified"], "false");
    assert.equal(origin.received[0].headers["cf-cert-subject-dn"], "");
    assert.ok(!names.includes("client-cert") && !names.includes("client-cert-chain") && !names.includes("cf-client-cert-sha256"));
    assert.ok(!raw.some((v) => v === "CN=admin" || v === ":AAAA:"));
    assert.equal(origin.received[0].headers["x-kept"], "yes");
  });

  test("a hostile CN (CR/LF, Cyrillic) neither injects a header nor crashes the proxy", async () => {
    const h = get();
    const t = await tenant(h);
    const root = fx.pki.root(name("hostile-root"));
    await associate(h, t, ["mtls.example.net"], await uploadByoca(h, t, root));
    const evil = fx.pki.issue(name("evil"), root, { kind: "client", subject: "/O=Acme \u0416/CN=evil\r\nX-Injected: yes" });
    const res = await ask("mtls.example.net", { cert: evil });
    assert.equal(res.status, 200, res.body);
    const got = origin.received[0];
    assert.equal(got.headers["x-injected"], undefined);
    assert.equal(got.headers["cf-cert-subject-dn"], "CN=evil\\0D\\0AX-Injected: yes,O=Acme \\D0\\96");
    assert.equal(got.headers["cf-cert-subject-dn"], openssl(["x509", "-in", evil.certFile, "-noout", "-subject", "-nameopt", "RFC2253"]).trim().slice("subject=".length));
    assert.equal(got.headers["cf-cert-subject-dn-legacy"], "/O=Acme \\xD0\\x96/CN=evil\\x0D\\x0AX-Injected: yes");
    for (let i = 1; i < got.rawHeaders.length; i += 2) assert.match(got.rawHeaders[i], /^[\x20-\x7e]*$/);
    assert.equal((await ask("mtls.example.net", { cert: evil })).status, 200, "still serving");
  });

  // ── origin ─────────────────────────────────────────────────────────────────────────────────

  test("200/request and response bodies stream through", async () => {
    const h = get();
    await managedSetup(h, "forward");
    const big = "x".repeat(1 << 20);
    const res = await ask("open.example.net", { method: "POST", data: "@" + fx.dir.file(name("big"), big), path: "/upload" });
    assert.equal(res.status, 200);
    assert.equal(res.body.length, big.length);
    assert.equal(origin.received[0].body.length, big.length);
    assert.equal(origin.received[0].method, "POST");
  });

  test("502/no origin configured, origin refusing connections; healthz on the edge", async () => {
    const h = get();
    const t = await managedSetup(h, "forward");
    await api(h, "PATCH", `/client/v4/zones/${t.zoneId}/edge_settings`, t.editToken, { origin: null });
    let res = await ask("open.example.net");
    assert.equal(res.status, 502);
    assert.equal(errorCode(res.body), 1722);
    await api(h, "PATCH", `/client/v4/zones/${t.zoneId}/edge_settings`, t.editToken, { origin: "http://127.0.0.1:9" });
    res = await ask("open.example.net");
    assert.equal(res.status, 502);
    assert.equal(errorCode(res.body), 1723);
    assert.match(JSON.parse(res.body).errors[0].message, /refused/);
    res = await ask("localhost", { path: "/healthz" });
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.body), { status: "ok" });
  });
});
