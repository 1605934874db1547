import { readFileSync } from "node:fs";
import assert from "node:assert/strict";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { parse } from "yaml";
import { OPENAPI_PATH } from "../../src/http/routes/docs.js";

/**
 * The contract check: every response a test receives is validated against openapi.yaml (the
 * status must be documented for the operation, and a JSON body must match its schema).
 */
export const spec: any = parse(readFileSync(OPENAPI_PATH, "utf8"));

const ajv = new (Ajv2020 as any)({ strict: false, allErrors: true });
(addFormats as any)(ajv);
ajv.addSchema({ ...spec, $id: "openapi" });

interface Operation {
  method: string;
  template: string;
  pattern: RegExp;
  responses: Record<string, any>;
}

const operations: Operation[] = [];
for (const [template, ops] of Object.entries<any>(spec.paths ?? {})) {
  const pattern = new RegExp("^" + template.replace(/\{[^}]+\}/g, "[^/]+") + "/?$");
  for (const [method, op] of Object.entries<any>(ops)) {
    if (["get", "post", "put", "patch", "delete"].includes(method)) {
      operations.push({ method: method.toUpperCase(), template, pattern, responses: op.responses ?? {} });
    }
  }
}

const validators = new Map<string, (data: unknown) => boolean>();
function validatorFor(ref: string) {
  let v = validators.get(ref);
  if (!v) {
    v = ajv.getSchema(ref);
    assert.ok(v, `openapi.yaml has no schema at ${ref}`);
    validators.set(ref, v!);
  }
  return v!;
}

/** findOperation returns the documented operation for a method and concrete path, if any. */
export function findOperation(method: string, url: string): Operation | undefined {
  const path = url.split("?")[0];
  // Literal segments beat templates: /zones/{zone_id}/… must not shadow a fixed path.
  const matches = operations.filter((o) => o.method === method.toUpperCase() && o.pattern.test(path));
  return matches.sort((a, b) => (b.template.match(/\{/g)?.length ?? 0) < (a.template.match(/\{/g)?.length ?? 0) ? 1 : -1)[0];
}

export function assertMatchesContract(method: string, url: string, res: { statusCode: number; json: unknown; headers: Record<string, unknown> }): void {
  const op = findOperation(method, url);
  if (!op) {
    // Undocumented routes must be the envelope's 404/405 (unknown route or method).
    if (res.statusCode === 404 || res.statusCode === 405) {
      assertEnvelope(res.json);
      return;
    }
    assert.fail(`${method} ${url} answered ${res.statusCode} but openapi.yaml documents no such operation`);
  }
  const status = String(res.statusCode);
  const key = [status, `${status[0]}XX`, "default"].find((k) => op.responses[k] !== undefined);
  assert.ok(key, `${method} ${op.template}: status ${status} is not documented in openapi.yaml`);
  // Validate through a JSON pointer into the whole document, so every nested $ref resolves.
  const response = op.responses[key];
  const base = response.$ref
    ? response.$ref
    : `#/paths/${escapePointer(op.template)}/${op.method.toLowerCase()}/responses/${key}`;
  const resolved = response.$ref ? resolveRef(response.$ref) : response;
  const json = resolved.content?.["application/json"];
  if (json?.schema && res.json !== undefined) {
    const validate = validatorFor(`openapi${base}/content/application~1json/schema`);
    const valid = validate(res.json);
    assert.ok(valid, `${method} ${op.template} ${status}: response does not match openapi.yaml: ${ajv.errorsText((validate as any).errors)}`);
  }
}

const escapePointer = (s: string) => s.replace(/~/g, "~0").replace(/\//g, "~1");

function resolveRef(ref: string): any {
  return ref
    .replace(/^#\//, "")
    .split("/")
    .reduce((node: any, key) => node[key], spec);
}

export function assertEnvelope(body: any): void {
  assert.equal(typeof body?.success, "boolean");
  assert.ok(Array.isArray(body.errors) && Array.isArray(body.messages), "errors and messages are arrays");
  assert.ok("result" in body, "result is present");
  if (!body.success) {
    assert.ok(body.errors.length >= 1);
    for (const e of body.errors) assert.ok(Number.isInteger(e.code) && e.code >= 1000 && typeof e.message === "string");
  }
}
