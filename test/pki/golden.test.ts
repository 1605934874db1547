import assert from "node:assert/strict";
import { createHash, createPrivateKey, createPublicKey } from "node:crypto";
import { after, describe, test } from "node:test";
import { createSoftwareSigner } from "../../src/keys/software-signer.js";
import { buildCaCertificate } from "../../src/pki/ca.js";
import { buildLeafTbs, issueClientCertificate, type IssuerInfo } from "../../src/pki/certificate.js";
import { parseCsr } from "../../src/pki/csr.js";
import { lintTbsCertificate } from "../../src/pki/lint.js";
import { formatDnRfc4514 } from "../../src/pki/names.js";
import { derToPem } from "../../src/pki/pem.js";
import { openssl, tempDir } from "../helpers/openssl.js";

// Golden vectors: every input fixed (CA key, CA subject bytes, CSRs, serial, now, validity), so the
// TBSCertificate bytes are fixed too (ECDSA signatures are randomised, so the TBS is compared, not
// the certificate). The hex below was produced by buildLeafTbs and reviewed field by field with
// `openssl asn1parse -i`; the tests also re-check the fields that matter independently.

const CA_KEY_PEM = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgSK2B5pPiI7x70CzZ
S6T9tnG9jmBYeprK/USLOki01P+hRANCAASz3KM+6ZpC7cCQs/tBXKBrWr+TUwmd
RcZDPvOG9nw5uJZcXCQ8drUNdFgaWKvKgYq6YvZqFvBBGR6GQm36a55g
-----END PRIVATE KEY-----
`;

// Name ::= SEQUENCE { SET { O UTF8String "Gatehouse" }, SET { CN UTF8String "Gatehouse Golden CA" } }
const CA_SUBJECT_HEX = "3032" + "3112301006035504" + "0a0c0947617465686f757365" + "311c301a06035504030c13" + Buffer.from("Gatehouse Golden CA").toString("hex");

const CSR_P256 = `-----BEGIN CERTIFICATE REQUEST-----
MIIBbTCCARQCAQAweDELMAkGA1UEBhMCVVMxEzARBgNVBAgMCkNhbGlmb3JuaWEx
FjAUBgNVBAcMDVNhbiBGcmFuY2lzY28xFTATBgNVBAoMDEV4YW1wbGUgSW5jLjEQ
MA4GA1UECwwHRGV2aWNlczETMBEGA1UEAwwKZGV2aWNlLTAwMTBZMBMGByqGSM49
AgEGCCqGSM49AwEHA0IABKTLGWVCuFxUcA3dUrRMcr3OuPX/cnWULEdTAC9Emxm8
4mzLSiIHmy2lhTWeGqYcUsb7ADThvsAEMEli0zdqTwigOjA4BgkqhkiG9w0BCQ4x
KzApMCcGA1UdEQQgMB6CFmRldmljZS0wMDEuZXhhbXBsZS5jb22HBMAAAgcwCgYI
KoZIzj0EAwIDRwAwRAIgHg94KDpTTdcTYTzYr9tUhdGiTvh5FQjh3ndon0C8GDUC
IEVuYpO+7H5NOp5RQeT6wVMnFdSYJ02WTCg5P+Cu1+rD
-----END CERTIFICATE REQUEST-----
`;
const CSR_RSA = `-----BEGIN CERTIFICATE REQUEST-----
MIICWjCCAUICAQAwFTETMBEGA1UEAwwKcnNhLWRldmljZTCCASIwDQYJKoZIhvcN
AQEBBQADggEPADCCAQoCggEBALMe83+hEpp7CZ0PUv8DcgdH4/iaFFlzmnaVCX3Z
oos5APpqsSrAMVfFTYoppIy/9C4JX/BMoklyTnbojgd6wxdc0sj+esH9cqQLSA8F
Jzn+V+2rwUbB4Oqm6Ox+geDxLW4au9DbSNY6TzlKAVTfuiSXkE46EpyFNdZqpb3y
A99VxCiEQsb26uA9eZ+n47T8BFlQBOK4F8nbDtSFkIYm7lYK6kmQoRdDyC6RciL7
Kpz2cyTzA/rrsyX3gUm5i4XU7qADuIXIHTwUq3n28lX7ailAHvs1lZBg1HalbIty
C+dDqySa9Ix27bzfSY/MhrCdWBAlHEwqweuIIeTt3iESrA8CAwEAAaAAMA0GCSqG
SIb3DQEBCwUAA4IBAQAC+lHCqbWAjNK2UbbJomDpE4DEwGxzfJVZqLsHKXdk8CLa
HVJH1fzLH+PgsF2pjDCVbHfonT4wd72g1iFl2O65fY96wZUPYQtM692C/41svR1d
aj2WysYt9sRvdzZJrOn1J1plS8Ljx8rH9aCE69psXjeyreyFYPTYOCmVlf2++BeO
vxLy0JtFyrzXAVHUYFkzMJNIhct1JckwC8UsSSkp8j6liZM6yWoDzSWEVYQ2otac
2msUbF01AeXoyBEP7C2JeQ0XOr4wpsiU7GnThbzT5D4LroGAO2Xqp7lWCZkGXkys
X6xrRv2N7VGXBhIj7dI8gRzv125ELzBR8ahx7+TC
-----END CERTIFICATE REQUEST-----
`;
const CSR_EMPTY_SUBJECT = `-----BEGIN CERTIFICATE REQUEST-----
MIHvMIGXAgEAMAAwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAASkyxllQrhcVHAN
3VK0THK9zrj1/3J1lCxHUwAvRJsZvOJsy0oiB5stpYU1nhqmHFLG+wA04b7ABDBJ
YtM3ak8IoDUwMwYJKoZIhvcNAQkOMSYwJDAiBgNVHREEGzAZhhdzcGlmZmU6Ly9l
eGFtcGxlLm9yZy93MTAKBggqhkjOPQQDAgNHADBEAiAVLz89DlM3VhyDbwZIU+Nw
uNoJ62uiLEQG4LbL9+/xJgIgXqHCG/2/q2+KCvSdBiJoQ8Jbe3sPBkvFweUk+Z3u
RK8=
-----END CERTIFICATE REQUEST-----
`;

const SERIAL = Uint8Array.from(Buffer.from("0123456789abcdef0123456789abcdef", "hex"));

const GOLDEN_P256_2049 =
    "308201f0a00302010202100123456789abcdef0123456789abcdef300a06082a8648ce3d040302303231123010060355" +
    "040a0c0947617465686f757365311c301a06035504030c1347617465686f75736520476f6c64656e2043413020170d34" +
    "39313233313233353830305a180f32303530313233313233353830305a3078310b300906035504061302555331133011" +
    "06035504080c0a43616c69666f726e69613116301406035504070c0d53616e204672616e636973636f31153013060355" +
    "040a0c0c4578616d706c6520496e632e3110300e060355040b0c07446576696365733113301106035504030c0a646576" +
    "6963652d3030313059301306072a8648ce3d020106082a8648ce3d03010703420004a4cb196542b85c54700ddd52b44c" +
    "72bdceb8f5ff7275942c4753002f449b19bce26ccb4a22079b2da585359e1aa61c52c6fb0034e1bec004304962d3376a" +
    "4f08a3819f30819c300e0603551d0f0101ff04040302078030130603551d25040c300a06082b06010505070302300c06" +
    "03551d130101ff04023000301d0603551d0e04160414b5cd135bace931666d4798fd0dd666ed2bad2801301f0603551d" +
    "230418301680145e1e1ea88ae60fdf959b5c5350b384c72416a98030270603551d110420301e82166465766963652d30" +
    "30312e6578616d706c652e636f6d8704c0000207";
const GOLDEN_P256_2045 =
    "308201f0a00302010202100123456789abcdef0123456789abcdef300a06082a8648ce3d040302303231123010060355" +
    "040a0c0947617465686f757365311c301a06035504030c1347617465686f75736520476f6c64656e2043413020170d34" +
    "35303533313233353930305a180f32303535303532393233353930305a3078310b300906035504061302555331133011" +
    "06035504080c0a43616c69666f726e69613116301406035504070c0d53616e204672616e636973636f31153013060355" +
    "040a0c0c4578616d706c6520496e632e3110300e060355040b0c07446576696365733113301106035504030c0a646576" +
    "6963652d3030313059301306072a8648ce3d020106082a8648ce3d03010703420004a4cb196542b85c54700ddd52b44c" +
    "72bdceb8f5ff7275942c4753002f449b19bce26ccb4a22079b2da585359e1aa61c52c6fb0034e1bec004304962d3376a" +
    "4f08a3819f30819c300e0603551d0f0101ff04040302078030130603551d25040c300a06082b06010505070302300c06" +
    "03551d130101ff04023000301d0603551d0e04160414b5cd135bace931666d4798fd0dd666ed2bad2801301f0603551d" +
    "230418301680145e1e1ea88ae60fdf959b5c5350b384c72416a98030270603551d110420301e82166465766963652d30" +
    "30312e6578616d706c652e636f6d8704c0000207";
const GOLDEN_RSA_2045 =
    "3082022da00302010202100123456789abcdef0123456789abcdef300a06082a8648ce3d040302303231123010060355" +
    "040a0c0947617465686f757365311c301a06035504030c1347617465686f75736520476f6c64656e2043413020170d34" +
    "35303533313233353930305a180f32303535303532393233353930305a30153113301106035504030c0a7273612d6465" +
    "7669636530820122300d06092a864886f70d01010105000382010f003082010a0282010100b31ef37fa1129a7b099d0f" +
    "52ff03720747e3f89a1459739a7695097dd9a28b3900fa6ab12ac03157c54d8a29a48cbff42e095ff04ca249724e76e8" +
    "8e077ac3175cd2c8fe7ac1fd72a40b480f052739fe57edabc146c1e0eaa6e8ec7e81e0f12d6e1abbd0db48d63a4f394a" +
    "0154dfba2497904e3a129c8535d66aa5bdf203df55c4288442c6f6eae03d799fa7e3b4fc04595004e2b817c9db0ed485" +
    "908626ee560aea4990a11743c82e917222fb2a9cf67324f303faebb325f78149b98b85d4eea003b885c81d3c14ab79f6" +
    "f255fb6a29401efb35959060d476a56c8b720be743ab249af48c76edbcdf498fcc86b09d5810251c4c2ac1eb8821e4ed" +
    "de2112ac0f0203010001a3753073300e0603551d0f0101ff0404030205a030130603551d25040c300a06082b06010505" +
    "070302300c0603551d130101ff04023000301d0603551d0e04160414a536db3d111fca19d782035d847eb79ed58c679f" +
    "301f0603551d230418301680145e1e1ea88ae60fdf959b5c5350b384c72416a980";
const GOLDEN_EMPTY_2049 =
    "30820176a00302010202100123456789abcdef0123456789abcdef300a06082a8648ce3d040302303231123010060355" +
    "040a0c0947617465686f757365311c301a06035504030c1347617465686f75736520476f6c64656e2043413020170d34" +
    "39313233313233353830305a180f32303530313233313233353830305a30003059301306072a8648ce3d020106082a86" +
    "48ce3d03010703420004a4cb196542b85c54700ddd52b44c72bdceb8f5ff7275942c4753002f449b19bce26ccb4a2207" +
    "9b2da585359e1aa61c52c6fb0034e1bec004304962d3376a4f08a3819d30819a300e0603551d0f0101ff040403020780" +
    "30130603551d25040c300a06082b06010505070302300c0603551d130101ff04023000301d0603551d0e04160414b5cd" +
    "135bace931666d4798fd0dd666ed2bad2801301f0603551d230418301680145e1e1ea88ae60fdf959b5c5350b384c724" +
    "16a98030250603551d110101ff041b301986177370696666653a2f2f6578616d706c652e6f72672f7731";

const caKey = createPrivateKey(CA_KEY_PEM);
const caSpki = createPublicKey(caKey).export({ type: "spki", format: "der" });
const caSki = createHash("sha1").update(caSpki.subarray(caSpki.length - 65)).digest();
const issuer: IssuerInfo = {
  certificateDer: new Uint8Array(0),
  subjectDer: Uint8Array.from(Buffer.from(CA_SUBJECT_HEX, "hex")),
  subjectKeyIdentifier: caSki,
  notAfter: new Date("2070-01-01T00:00:00Z"),
  signer: createSoftwareSigner(caKey.export({ type: "pkcs8", format: "der" }), "P-256"),
};

function tbsHex(csrPem: string, now: string, validityDays: number): string {
  const { tbs } = buildLeafTbs({ csr: parseCsr(csrPem), issuer, serial: SERIAL, now: new Date(now), validityDays });
  lintTbsCertificate(tbs, { profile: "leaf", signatureAlgorithmDer: issuer.signer.algorithmIdentifierDer, issuerSubjectDer: issuer.subjectDer, issuerSki: caSki, issuerNotAfter: issuer.notAfter });
  return Buffer.from(tbs).toString("hex");
}

const utc = (s: string): string => "170d" + Buffer.from(s).toString("hex");
const gen = (s: string): string => "180f" + Buffer.from(s).toString("hex");

describe("golden TBSCertificate bytes", () => {
  test("P-256 CSR, now 2049-12-31T23:59:30Z, 365 days: notBefore UTCTime 491231235800Z, notAfter GeneralizedTime 20501231235800Z", () => {
    const h = tbsHex(CSR_P256, "2049-12-31T23:59:30Z", 365);
    assert.ok(h.includes("3020" + utc("491231235800Z") + gen("20501231235800Z")), "validity encoding");
    assert.equal(h, GOLDEN_P256_2049);
  });

  test("P-256 CSR, now 2045-06-01T00:00:00Z, 3650 days: notBefore 450531235900Z, notAfter 20550529235900Z", () => {
    const h = tbsHex(CSR_P256, "2045-06-01T00:00:00Z", 3650);
    assert.ok(h.includes("3020" + utc("450531235900Z") + gen("20550529235900Z")), "validity encoding");
    assert.equal(h, GOLDEN_P256_2045);
  });

  test("RSA-2048 CSR: keyUsage digitalSignature + keyEncipherment (03 02 05 a0), no SAN", () => {
    const h = tbsHex(CSR_RSA, "2045-06-01T00:00:00Z", 3650);
    assert.ok(h.includes("300e0603551d0f0101ff0404030205a0"));
    assert.ok(!h.includes("0603551d11"), "no SAN");
    assert.equal(h, GOLDEN_RSA_2045);
  });

  test("empty subject: subject is 30 00 and the SAN is critical", () => {
    const h = tbsHex(CSR_EMPTY_SUBJECT, "2049-12-31T23:59:30Z", 365);
    assert.ok(h.includes(gen("20501231235800Z") + "3000" + "3059"), "empty subject right after validity");
    assert.ok(h.includes("0603551d110101ff"), "SAN critical");
    assert.equal(h, GOLDEN_EMPTY_2049);
  });

  test("issuer bytes are the CA subject as given; RFC 4514 form", () => {
    assert.ok(GOLDEN_P256_2049.includes(CA_SUBJECT_HEX));
    assert.equal(formatDnRfc4514(issuer.subjectDer), "CN=Gatehouse Golden CA,O=Gatehouse");
  });

  test("the golden certificates, signed, verify with openssl -x509_strict at their own dates", async () => {
    const dir = tempDir();
    after(() => dir.remove());
    const ca = await buildCaCertificate({ spkiDer: caSpki, signer: issuer.signer, organization: "Gatehouse", commonName: "Gatehouse Golden CA", now: new Date("2040-01-01T00:00:00Z"), validityYears: 40, serial: Uint8Array.of(1) });
    assert.equal(Buffer.from(ca.subjectDer).toString("hex"), CA_SUBJECT_HEX, "encodeSubject(O, CN) gives the same bytes");
    const caFile = dir.file("ca.pem", ca.pem);
    const cases: Array<[string, string, number]> = [[CSR_P256, "2049-12-31T23:59:30Z", 365], [CSR_P256, "2045-06-01T00:00:00Z", 3650], [CSR_RSA, "2045-06-01T00:00:00Z", 3650], [CSR_EMPTY_SUBJECT, "2049-12-31T23:59:30Z", 365]];
    for (const [i, [csr, now, days]] of cases.entries()) {
      const cert = await issueClientCertificate({ csr: parseCsr(csr), issuer: { ...issuer, certificateDer: ca.certificateDer, notAfter: ca.notAfter }, serial: SERIAL, now: new Date(now), validityDays: days });
      const file = dir.file(`leaf${i}.pem`, derToPem(cert.der, "CERTIFICATE"));
      const at = String(Math.floor(new Date(now).getTime() / 1000) + 3600);
      assert.match(openssl(["verify", "-x509_strict", "-purpose", "sslclient", "-attime", at, "-CAfile", caFile, file]), /: OK/);
    }
  });
});
