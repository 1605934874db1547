#!/usr/bin/env node
// CRL generation at scale: time, peak RSS and DER size of one Gatehouse CRL build for N revoked
// certificates of one P-256 managed CA (N = 10k, 100k, 1M by default), next to `openssl ca -gencrl`
// over an index.txt with the same number of revoked rows, in the same run. Every CRL is checked with
// `openssl crl -inform DER -CAfile ca.pem -noout` ("verify OK") and its entries counted.
//
// How the rows are made: one account (with its managed CA) and one zone through the API, then the
// revoked certificates are INSERTed in bulk by SQL (INSERT … SELECT generate_series) straight into
// client_certificates: random 16-byte positive serials, revocation dates spread over the last year,
// placeholder PEM/CSR text of realistic length (750 + 500 characters), and crl_entry_der built in SQL
// byte for byte as src/pki/crl.ts encodes it (checked on sample rows against encodeCrlEntry). The
// CA grows 10k → 100k → 1M; VACUUM ANALYZE after each step (as autovacuum would), so the build's
// index-only scan is what a settled table gives. Each build runs in a fresh child process
// (`--build-child`) so its peak RSS (getrusage maxrss) is the build's own.
//
//   npm run build && node bench/crl.mjs
//   NS="10000 100000" REASON=keyCompromise node bench/crl.mjs
// Env: NS (default "10000 100000 1000000"), REASON (default unspecified: no reasonCode extension, as
// openssl's default; keyCompromise/certificateHold/... adds one per entry), REPEAT (default 1),
// BENCH_DATABASE_URL (a PostgreSQL server where a database may be created; default the test server).
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";

const DIST = new URL("../dist/", import.meta.url);
const REASON_CODES = { unspecified: 0, keyCompromise: 1, cACompromise: 2, affiliationChanged: 3, superseded: 4, cessationOfOperation: 5, certificateHold: 6 };

if (process.argv[2] === "--build-child") {
  await buildChild(process.argv[3], process.argv[4], process.argv[5]);
  process.exit(0);
}

/** buildChild: one forced CRL build of `caId`, reported as one JSON line (runs in its own process). */
async function buildChild(url, caId, masterKeyB64) {
  const { connect } = await import(new URL("db/sql.js", DIST));
  const { inProcessChangeBus } = await import(new URL("db/changes.js", DIST));
  const { createLogger } = await import(new URL("log.js", DIST));
  const { PublishingCaCache } = await import(new URL("services/publishing-cas.js", DIST));
  const { CrlPublisher } = await import(new URL("services/crl.js", DIST));
  const { findCrl } = await import(new URL("db/crls.js", DIST));
  const sql = connect(url, { max: 2, statementTimeoutMs: 600_000 });
  const bus = inProcessChangeBus();
  const ctx = { sql, bus, masterKeys: { current: Buffer.from(masterKeyB64, "base64") }, now: () => new Date(), log: createLogger("warn"), byocaLimit: 5, pkiSettings: { copyIn: true } };
  const cas = new PublishingCaCache(sql, ctx.masterKeys, bus);
  await cas.get(caId); // unseal the key before measuring
  const publisher = new CrlPublisher(ctx, cas);
  const rssBefore = process.memoryUsage().rss;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const outcome = await publisher.buildIfNeeded(caId, { force: true });
  const buildS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const maxRssKb = process.resourceUsage().maxRSS;
  const t1 = performance.now();
  const stored = await findCrl(sql, caId); // what the first GET of a process loads
  const loadS = (performance.now() - t1) / 1000;
  console.log(JSON.stringify({ kind: outcome.kind, entries: outcome.entries, bytes: outcome.bytes, crlNumber: String(outcome.crlNumber), buildS, loadS, loadedBytes: stored.der.length, cpuS: (cpu.user + cpu.system) / 1e6, rssBeforeMb: rssBefore / 2 ** 20, maxRssMb: maxRssKb / 1024 }));
  await sql.end();
}

const NS = (process.env.NS ?? "10000 100000 1000000").split(/\s+/).filter(Boolean).map(Number);
const REASON = process.env.REASON ?? "unspecified";
const REPEAT = Number(process.env.REPEAT ?? 1);
const BASE_URL = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
if (!(REASON in REASON_CODES)) throw new Error(`REASON must be one of ${Object.keys(REASON_CODES).join(", ")}`);

const work = mkdtempSync(join(tmpdir(), "gh-bench-crl-"));
const cleanups = [];
const sh = (cmd, args, opts = {}) => execFileSync(cmd, args, { stdio: ["ignore", "pipe", "pipe"], maxBuffer: 256 << 20, ...opts }).toString();

/** timed runs a command under GNU time -v: wall seconds, CPU seconds, peak RSS MB, and its output. */
function timed(cmd, args) {
  const t = join(work, "time.txt");
  const t0 = performance.now();
  const r = spawnSync("/usr/bin/time", ["-v", "-o", t, cmd, ...args], { encoding: "utf8", maxBuffer: 256 << 20 });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${r.stderr}`);
  const text = readFileSync(t, "utf8");
  const num = (re) => Number(re.exec(text)[1]);
  return { wall, out: r.stdout + r.stderr, cpu: num(/User time \(seconds\): ([\d.]+)/) + num(/System time \(seconds\): ([\d.]+)/), rssMb: num(/Maximum resident set size \(kbytes\): (\d+)/) / 1024 };
}

/** countEntries walks a DER CRL's revokedCertificates without parsing anything else. */
function countEntries(der) {
  const hdr = (i) => {
    let len = der[i + 1], h = 2;
    if (len & 0x80) { const n = len & 0x7f; len = 0; for (let k = 0; k < n; k++) len = len * 256 + der[i + 2 + k]; h += n; }
    return [h, len];
  };
  let [h] = hdr(0);
  let i = h;
  const [th, tl] = hdr(i);
  const tbsEnd = i + th + tl;
  i += th;
  for (let field = 0; i < tbsEnd; field++) {
    const [fh, fl] = hdr(i);
    // version, signature, issuer, thisUpdate, nextUpdate, then revokedCertificates (a SEQUENCE)
    if (field === 5 && der[i] === 0x30) {
      let j = i + fh, count = 0;
      while (j < i + fh + fl) { const [eh, el] = hdr(j); j += eh + el; count++; }
      return count;
    }
    i += fh + fl;
  }
  return 0;
}

async function main() {
  const name = `gatehouse_bench_crl_${randomBytes(4).toString("hex")}`;
  const admin = postgres(BASE_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  cleanups.push(async () => { await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`); await admin.end(); });
  const dbUrl = new URL(BASE_URL);
  dbUrl.pathname = `/${name}`;
  const url = dbUrl.toString();
  const masterKey = randomBytes(32).toString("base64");

  // the account, its managed CA and a zone, through the API (in-process)
  const { startGatehouse } = await import(new URL("runtime.js", DIST));
  const { createLogger } = await import(new URL("log.js", DIST));
  const op = "gh_bench_" + randomBytes(16).toString("hex");
  const gh = await startGatehouse({
    config: { host: "127.0.0.1", port: 0, databaseUrl: url, dataDir: work, masterKey: Buffer.from(masterKey, "base64"), operatorToken: op, logLevel: "warn", workers: 1, byocaLimit: 5 },
    logger: createLogger("warn"),
    announce: () => {},
  });
  const post = async (path, body) => {
    const r = await gh.app.inject({ method: "POST", url: `/client/v4${path}`, headers: { authorization: `Bearer ${op}`, "content-type": "application/json" }, payload: JSON.stringify(body) });
    if (r.statusCode !== 200) throw new Error(r.body);
    return r.json().result;
  };
  const account = await post("/accounts", { name: "crl bench", ca_key_type: "P-256" });
  const zone = await post("/zones", { name: "crl-bench.example", account: { id: account.id } });
  const caId = account.managed_ca.id;
  writeFileSync(join(work, "ca.pem"), account.managed_ca.certificate);
  await gh.close();

  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const code = REASON_CODES[REASON];
  const ext = REASON === "unspecified" ? "" : `300c300a0603551d1504030a01${code.toString(16).padStart(2, "0")}`;
  const entryLen = 33 + ext.length / 2;
  const certFiller = "A".repeat(750);
  const csrFiller = "B".repeat(500);
  const { encodeCrlEntry } = await import(new URL("pki/crl.js", DIST));

  const rows = [];
  let have = 0;
  for (const n of NS) {
    const add = n - have;
    const t0 = performance.now();
    for (let done = 0; done < add; done += 100_000) {
      const batch = Math.min(100_000, add - done);
      await sql.unsafe(`
        INSERT INTO client_certificates (id, zone_id, ca_id, serial, status, revocation_reason, revoked_on, certificate_pem, csr_pem,
          fingerprint_sha256, ski, signature, validity_days, issued_on, expires_on, crl_entry_der)
        SELECT gen_random_uuid(), $1, $2::uuid, s.serial, 'revoked', $3, s.revoked_on, $4, $5,
          md5(s.serial::text) || md5(s.revoked_on::text), substr(md5(s.serial::text), 1, 40), 'ECDSAWithSHA256', 365,
          now() - interval '1 day', now() + interval '364 days',
          '\\x30'::bytea || set_byte('\\x00'::bytea, 0, $6) || '\\x0210'::bytea || s.serial || '\\x170d'::bytea
            || convert_to(to_char(s.revoked_on AT TIME ZONE 'UTC', 'YYMMDDHH24MISS') || 'Z', 'SQL_ASCII') || decode($7, 'hex')
        FROM (SELECT set_byte(b, 0, (get_byte(b, 0) & 63) | 64) AS serial,
                     date_trunc('second', now() - (g % 365) * interval '1 day' - random() * interval '1 day') AS revoked_on
              FROM (SELECT g, uuid_send(gen_random_uuid()) AS b FROM generate_series(1, $8) g) r) s`,
        [zone.id, caId, REASON, certFiller, csrFiller, entryLen, ext, batch]);
    }
    await sql.unsafe("VACUUM ANALYZE client_certificates");
    have = n;
    const insertS = (performance.now() - t0) / 1000;
    // the SQL-made entries are exactly what the TypeScript encoder makes
    for (const r of await sql`SELECT serial, revoked_on, revocation_reason, crl_entry_der FROM client_certificates WHERE ca_id = ${caId} ORDER BY random() LIMIT 3`) {
      const mine = Buffer.from(encodeCrlEntry(r.serial, r.revoked_on, r.revocation_reason));
      if (!mine.equals(r.crl_entry_der)) throw new Error(`SQL-made entry differs from encodeCrlEntry: ${r.crl_entry_der.toString("hex")} vs ${mine.toString("hex")}`);
    }
    const [{ heap }] = await sql`SELECT pg_size_pretty(pg_table_size('client_certificates')) AS heap`;
    console.error(`N=${n}: ${add} rows inserted + VACUUM ANALYZE in ${insertS.toFixed(1)} s (table ${heap})`);

    for (let rep = 0; rep < REPEAT; rep++) {
      const out = sh(process.execPath, [new URL(import.meta.url).pathname, "--build-child", url, caId, masterKey]);
      const g = JSON.parse(out.trim().split("\n").pop());
      const [crl] = await sql`SELECT der FROM crls WHERE ca_id = ${caId}`;
      const derPath = join(work, `gh-${n}.der`);
      writeFileSync(derPath, crl.der);
      const counted = countEntries(crl.der);
      if (counted !== n || g.entries !== n) throw new Error(`Gatehouse CRL lists ${counted} (${g.entries}) entries, expected ${n}`);
      const v = timed("openssl", ["crl", "-inform", "DER", "-in", derPath, "-CAfile", join(work, "ca.pem"), "-noout"]);
      if (!/verify OK/.test(v.out)) throw new Error(`openssl did not verify the Gatehouse CRL: ${v.out}`);
      rows.push({ who: "Gatehouse", n, wall: g.buildS, cpu: g.cpuS, rssMb: g.maxRssMb, bytes: g.bytes, perEntry: g.bytes / n, verifyS: v.wall, extra: `CRL #${g.crlNumber}; process RSS before build ${g.rssBeforeMb.toFixed(0)} MB; first load from PostgreSQL ${(g.loadS * 1000).toFixed(0)} ms` });
      console.error(`  Gatehouse: ${g.buildS.toFixed(3)} s, peak RSS ${g.maxRssMb.toFixed(0)} MB, ${g.bytes} B, openssl verify OK (${v.wall.toFixed(2)} s)`);
    }

    // the peer in the same run: openssl ca -gencrl over an index.txt of n revoked rows
    const d = join(work, `openssl-${n}`);
    execFileSync("mkdir", ["-p", d]);
    if (n === NS[0]) {
      writeFileSync(join(work, "ca-req.cnf"), "[req]\ndistinguished_name=dn\n[dn]\n[v3]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n");
      sh("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", join(work, "ossl-ca.key"), "-out", join(work, "ossl-ca.pem"), "-days", "3650", "-sha256", "-subj", "/O=Bench/CN=openssl CRL CA", "-config", join(work, "ca-req.cnf"), "-extensions", "v3"]);
    }
    writeIndex(join(d, "index.txt"), n, REASON);
    writeFileSync(join(d, "crlnumber"), "1000\n");
    writeFileSync(join(d, "ca.cnf"), `[ca]\ndefault_ca=b\n[b]\ndatabase=${d}/index.txt\ncrlnumber=${d}/crlnumber\ncertificate=${work}/ossl-ca.pem\nprivate_key=${work}/ossl-ca.key\ndefault_md=sha256\ndefault_crl_days=1\nunique_subject=no\ncrl_extensions=e\n[e]\nauthorityKeyIdentifier=keyid:always\n`);
    for (let rep = 0; rep < REPEAT; rep++) {
      const o = timed("openssl", ["ca", "-config", join(d, "ca.cnf"), "-gencrl", "-batch", "-out", join(d, "crl.pem")]);
      sh("openssl", ["crl", "-in", join(d, "crl.pem"), "-outform", "DER", "-out", join(d, "crl.der")]);
      const der = readFileSync(join(d, "crl.der"));
      if (countEntries(der) !== n) throw new Error(`openssl CRL lists ${countEntries(der)} entries, expected ${n}`);
      const v = timed("openssl", ["crl", "-inform", "DER", "-in", join(d, "crl.der"), "-CAfile", join(work, "ossl-ca.pem"), "-noout"]);
      if (!/verify OK/.test(v.out)) throw new Error(`openssl did not verify its own CRL: ${v.out}`);
      rows.push({ who: "openssl ca -gencrl", n, wall: o.wall, cpu: o.cpu, rssMb: o.rssMb, bytes: statSync(join(d, "crl.der")).size, perEntry: statSync(join(d, "crl.der")).size / n, verifyS: v.wall, extra: "index.txt, one process" });
      console.error(`  openssl ca -gencrl: ${o.wall.toFixed(3)} s, peak RSS ${o.rssMb.toFixed(0)} MB`);
    }
    rmSync(join(d, "index.txt"), { force: true });
  }
  await sql.end();

  console.log(`\nCRL generation, P-256 CA, reason ${REASON}${REASON === "unspecified" ? " (no reasonCode extension)" : ""}, ${new Date().toISOString()}`);
  console.log("| N revoked | who | build wall s | CPU s | peak RSS MB | CRL DER bytes | bytes/entry | openssl crl verify s | notes |");
  console.log("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
  for (const r of rows) {
    console.log(`| ${r.n.toLocaleString("en")} | ${r.who} | ${r.wall.toFixed(3)} | ${r.cpu.toFixed(2)} | ${r.rssMb.toFixed(0)} | ${r.bytes.toLocaleString("en")} | ${r.perEntry.toFixed(1)} | ${r.verifyS.toFixed(2)} | ${r.extra} |`);
  }
}

/** writeIndex writes an `openssl ca` database with n revoked rows (random 16-byte serials, dates over a year). */
function writeIndex(path, n, reason) {
  const utc = (ms) => new Date(ms).toISOString().replace(/[-:T]/g, "").slice(2, 14) + "Z";
  const now = Date.now();
  const expiry = utc(now + 365 * 86400e3);
  const suffix = reason === "unspecified" ? "" : `,${reason}`;
  const lines = [];
  let out = "";
  for (let i = 0; i < n; i++) {
    const b = randomBytes(16);
    b[0] = (b[0] & 0x3f) | 0x40;
    out += `R\t${expiry}\t${utc(now - ((i % 365) + 1) * 86400e3)}${suffix}\t${b.toString("hex").toUpperCase()}\tunknown\t/CN=r${i}\n`;
    if (out.length > 1 << 20) { lines.push(out); out = ""; }
  }
  lines.push(out);
  writeFileSync(path, lines.join(""));
  writeFileSync(path + ".attr", "unique_subject = no\n");
}

try {
  await main();
} finally {
  for (const c of cleanups.reverse()) await c().catch(() => {});
  rmSync(work, { recursive: true, force: true });
}
