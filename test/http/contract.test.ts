import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { it } from "node:test";
import { makeCsr } from "../helpers/csr.js";
import { spec } from "../helpers/contract.js";
import { createTenant, describeEachDatabase } from "../helpers/gatehouse.js";

/** The Cloudflare reference, beside the repository as CI lays it out (../shared/reference). */
const REFERENCE = fileURLToPath(new URL("../../../shared/reference/cloudflare-api.md", import.meta.url));
/** Fields Gatehouse adds to Cloudflare's ClientCertificate, documented in openapi.yaml. */
const GATEHOUSE_ADDITIONS = ["revoked_on", "revocation_reason"];

function referenceClientCertificateFields(): string[] {
  const text = readFileSync(REFERENCE, "utf8");
  const section = text.slice(text.indexOf("### 2.1"), text.indexOf("### 2.2"));
  return [...section.matchAll(/^\| `([a-z0-9_]+)` \|/gm)].map((m) => m[1]);
}

describeEachDatabase("the contract", (get) => {
  it("client certificate field names equal the Cloudflare reference's, plus Gatehouse's documented additions", { skip: !existsSync(REFERENCE) && "reference not beside the repository" }, async () => {
    const reference = referenceClientCertificateFields();
    assert.ok(reference.length >= 15, "the reference table was found");
    const h = get();
    const t = await createTenant(h);
    const res = await h.request({ method: "POST", url: `/client/v4/zones/${t.zoneId}/client_certificates`, token: t.editToken, body: { csr: makeCsr().csrPem } });
    // validity_days is echoed; csr too: every reference field is in every response.
    assert.deepEqual(Object.keys(res.json.result).sort(), [...reference, ...GATEHOUSE_ADDITIONS].sort());
    assert.deepEqual(Object.keys(spec.components.schemas.ClientCertificate.properties).sort(), [...reference, ...GATEHOUSE_ADDITIONS].sort());
  });

  it("every route the app serves is in openapi.yaml, and every documented operation is served", async () => {
    const h = get();
    const served = new Set(
      ((h.gh.app as unknown as { registeredRoutes: Array<{ method: string; url: string }> }).registeredRoutes)
        .filter((r) => ["GET", "POST", "PUT", "PATCH", "DELETE"].includes(r.method))
        .map((r) => `${r.method} ${r.url.replace(/:([a-z_]+)/g, "{$1}")}`),
    );
    const documented = new Set<string>();
    for (const [path, ops] of Object.entries<any>(spec.paths)) {
      for (const method of Object.keys(ops)) if (["get", "post", "put", "patch", "delete"].includes(method)) documented.add(`${method.toUpperCase()} ${path}`);
    }
    // A catch-all (`/x/*`, or `/x` registered for every method) is documented by the paths under it.
    const pathOf = (r: string) => r.slice(r.indexOf(" ") + 1);
    const coveredByPrefix = (r: string) => [...documented].some((d) => pathOf(d).startsWith(pathOf(r).replace(/\/\*$/, "") + "/"));
    assert.deepEqual([...served].filter((r) => !documented.has(r) && !coveredByPrefix(r)), [], "served but not in openapi.yaml");
    const servedPatterns = [...served].map((r) => new RegExp("^" + r.replace(/\{[a-z_]+\}/g, "[^/]+").replace(/\*$/, ".*") + "$"));
    const unserved = [...documented].filter((d) => !served.has(d) && !servedPatterns.some((p) => p.test(d)));
    assert.deepEqual(unserved, [], "in openapi.yaml but not served");
  });
});
