import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { createSoftwareSigner } from "../../src/keys/software-signer.js";
import { createManagedCa, type CreatedCa } from "../../src/pki/ca.js";
import { issueClientCertificate, type IssuedCertificate, type IssuerInfo } from "../../src/pki/certificate.js";
import { parseCsr, type ParsedCsr, type SubjectKeyType } from "../../src/pki/csr.js";
import { newSerial } from "../../src/pki/serial.js";
import { CA_KEY_TYPES, type CaKeyType } from "../../src/pki/signer.js";
import { hasCerttool, openssl, opensslCsr, run, tempDir, type TempDir } from "../helpers/openssl.js";

// Every certificate Gatehouse issues is judged by two independent strict parsers: OpenSSL
// (`verify -x509_strict -purpose sslclient`) and GnuTLS (`certtool -i`, `certtool --verify`).

const SUBJECT_KEYS: SubjectKeyType[] = ["RSA-2048", "RSA-3072", "RSA-4096", "P-256", "P-384", "Ed25519"];
const URLS = { crl: "http://pki.example.com/crl/1.crl", ocsp: "http://pki.example.com/ocsp", caIssuers: "http://pki.example.com/ca/1.crt" };

function issuerOf(ca: CreatedCa): IssuerInfo {
  return { certificateDer: ca.certificateDer, subjectDer: ca.subjectDer, subjectKeyIdentifier: ca.subjectKeyIdentifier, notAfter: ca.notAfter, signer: createSoftwareSigner(ca.privateKeyPkcs8Der, ca.keyType) };
}

function certtoolClean(file: string, caFile: string): void {
  const info = run("certtool", ["-i", "--infile", file]);
  assert.equal(info.status, 0, `certtool -i ${file}: ${info.stderr}`);
  assert.doesNotMatch(info.stdout + info.stderr, /warning|error|unknown/i, file);
  const v = run("certtool", ["--verify", "--verify-profile", "medium", "--load-ca-certificate", caFile, "--infile", file]);
  assert.equal(v.status, 0, `certtool --verify ${file}: ${v.stdout}${v.stderr}`);
  assert.match(v.stdout, /Chain verification output: Verified/);
}

describe("interop: issued certificates pass openssl -x509_strict and certtool", () => {
  let dir: TempDir;
  const cas = new Map<CaKeyType, CreatedCa>();
  const csrs = new Map<SubjectKeyType, ParsedCsr>();
  before(async () => {
    assert.ok(hasCerttool(), "certtool missing: apt-get install -y gnutls-bin");
    dir = tempDir("gh-interop-");
    const made = await Promise.all(CA_KEY_TYPES.map((keyType) => createManagedCa({ keyType, commonName: `Gatehouse Managed CA ${keyType}`, organization: "Gatehouse", now: new Date(), validityYears: 20 })));
    for (const ca of made) cas.set(ca.keyType, ca);
    for (const k of SUBJECT_KEYS) {
      csrs.set(k, parseCsr(opensslCsr({ key: k, subj: `/C=DE/ST=Berlin/L=Berlin/O=Beispiel GmbH/OU=Geräte/CN=device-${k}`, addext: [`subjectAltName=DNS:${k.toLowerCase()}.example.com,email:dev@example.com,URI:spiffe://example.org/${k},IP:10.1.2.3,IP:fd00::1`] })));
    }
  });
  after(() => dir?.remove());

  for (const caType of CA_KEY_TYPES) {
    test(`CA ${caType}: the CA itself, then a leaf for every subject key type`, async () => {
      const ca = cas.get(caType)!;
      const caFile = dir.file(`ca-${caType}.pem`, ca.pem);
      assert.match(openssl(["verify", "-x509_strict", "-CAfile", caFile, caFile]), /: OK/);
      certtoolClean(caFile, caFile);

      const issuer = issuerOf(ca);
      const files: string[] = [];
      const issued: IssuedCertificate[] = [];
      for (const k of SUBJECT_KEYS) {
        const cert = await issueClientCertificate({ csr: csrs.get(k)!, issuer, serial: newSerial(), now: new Date(), validityDays: 365, urls: k === "P-256" ? URLS : undefined });
        issued.push(cert);
        files.push(dir.file(`leaf-${caType}-${k}.pem`, cert.pem));
      }
      const out = openssl(["verify", "-x509_strict", "-purpose", "sslclient", "-CAfile", caFile, ...files]);
      for (const f of files) assert.ok(out.includes(`${f}: OK`), out);
      for (const f of files) certtoolClean(f, caFile);
      // One openssl run prints every leaf: serial and SKI as OpenSSL reads them.
      const text = openssl(["storeutl", "-noout", "-text", "-certs", dir.file(`all-${caType}.pem`, issued.map((c) => c.pem).join(""))]);
      const colons = (h: string): string => h.match(/../g)!.join(":");
      for (const c of issued) {
        assert.ok(text.includes(colons(c.serialHex)), `serial ${c.serialHex}`);
        assert.ok(text.includes(colons(c.skiHex.toUpperCase())), `SKI ${c.skiHex}`);
        assert.equal(new X509Certificate(c.pem).fingerprint256, colons(c.fingerprintSha256.toUpperCase()));
      }
    });
  }

  test("empty subject with a critical SAN passes both", async () => {
    const ca = cas.get("P-256")!;
    const caFile = dir.file("ca-empty.pem", ca.pem);
    const csr = parseCsr(opensslCsr({ key: "Ed25519", subj: "/", addext: ["subjectAltName=URI:spiffe://example.org/ns/prod/sa/api"] }));
    const cert = await issueClientCertificate({ csr, issuer: issuerOf(ca), serial: newSerial(), now: new Date(), validityDays: 30 });
    const f = dir.file("leaf-empty.pem", cert.pem);
    assert.match(openssl(["verify", "-x509_strict", "-purpose", "sslclient", "-CAfile", caFile, f]), /: OK/);
    certtoolClean(f, caFile);
  });

  test("a leaf whose notAfter is after 2049 (GeneralizedTime) passes both at its own date", async () => {
    const now = new Date("2049-12-31T23:59:30Z");
    const ca = await createManagedCa({ keyType: "P-256", commonName: "Far CA", now: new Date("2040-01-01T00:00:00Z"), validityYears: 20 });
    const caFile = dir.file("ca-far.pem", ca.pem);
    const cert = await issueClientCertificate({ csr: csrs.get("P-256")!, issuer: issuerOf(ca), serial: newSerial(), now, validityDays: 365 });
    const f = dir.file("leaf-far.pem", cert.pem);
    assert.match(openssl(["verify", "-x509_strict", "-purpose", "sslclient", "-attime", String(now.getTime() / 1000), "-CAfile", caFile, f]), /: OK/);
    assert.match(openssl(["x509", "-in", f, "-noout", "-dates"]), /notBefore=Dec 31 23:58:00 2049 GMT\nnotAfter=Dec 31 23:58:00 2050 GMT/);
    const info = run("certtool", ["-i", "--infile", f]);
    assert.equal(info.status, 0, info.stderr);
  });

  test("the check has teeth: a leaf from another CA fails openssl verify", async () => {
    const a = cas.get("P-256")!;
    const b = cas.get("P-384")!;
    const cert = await issueClientCertificate({ csr: csrs.get("P-256")!, issuer: issuerOf(b), serial: newSerial(), now: new Date(), validityDays: 30 });
    const r = run("openssl", ["verify", "-x509_strict", "-CAfile", dir.file("ca-a.pem", a.pem), dir.file("leaf-b.pem", cert.pem)]);
    assert.notEqual(r.status, 0);
  });
});
