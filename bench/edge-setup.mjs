#!/usr/bin/env node
// Set-up for bench/edge.sh: through a running Gatehouse API, an account (with its managed CA), the
// bench PKI's CA uploaded as a BYOCA (`ca: true`), both associated with the hostname "localhost",
// and the zone's edge settings (origin, policy block). The shared bench scripts address the edge
// as "localhost" (their certificates and clients are fixed), and the zone API only takes
// multi-label names, so the zone row "localhost" is the one thing written with SQL.
//
//   API=http://127.0.0.1:P OPERATOR_TOKEN=gh_... DATABASE_URL=postgres://... CERTS=dir ORIGIN=http://127.0.0.1:Q \
//     node bench/edge-setup.mjs      → prints {"accountId","zoneId","token","managedCaId","byocaId"}
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import postgres from "postgres";

const { API, OPERATOR_TOKEN, DATABASE_URL, CERTS, ORIGIN } = process.env;
for (const [k, v] of Object.entries({ API, OPERATOR_TOKEN, DATABASE_URL, CERTS, ORIGIN })) {
  if (!v) {
    console.error(`edge-setup: ${k} is required`);
    process.exit(2);
  }
}
if (!/^http:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(API)) {
  console.error("edge-setup: API must be a loopback URL");
  process.exit(2);
}

async function call(method, path, token, body) {
  const res = await fetch(`${API}/client/v4${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json();
  if (!json.success) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json.errors)}`);
  return json.result;
}

const account = await call("POST", "/accounts", OPERATOR_TOKEN, { name: "edge bench" });
const zoneId = randomBytes(16).toString("hex");
const sql = postgres(DATABASE_URL, { max: 1, onnotice: () => {} });
await sql`INSERT INTO zones (id, account_id, name) VALUES (${zoneId}, ${account.id}, 'localhost')`;
await sql.end();
const token = (await call("POST", `/accounts/${account.id}/tokens`, OPERATOR_TOKEN, { name: "bench", scopes: ["ssl_certificates:edit"] })).value;
const byoca = await call("POST", `/accounts/${account.id}/mtls_certificates`, token, {
  ca: true,
  name: "bench CA",
  certificates: readFileSync(join(CERTS, "ca.pem"), "utf8"),
});
await call("PUT", `/zones/${zoneId}/certificate_authorities/hostname_associations`, token, { hostnames: ["localhost"], mtls_certificate_id: byoca.id });
await call("PUT", `/zones/${zoneId}/certificate_authorities/hostname_associations`, token, { hostnames: ["localhost"] });
await call("PATCH", `/zones/${zoneId}/edge_settings`, token, { origin: ORIGIN, policy: "block" });
console.log(JSON.stringify({ accountId: account.id, zoneId, token, managedCaId: account.managed_ca.id, byocaId: byoca.id }));
