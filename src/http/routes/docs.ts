import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { FastifyPluginAsync } from "fastify";
import { parse } from "yaml";

/** OPENAPI_PATH is the contract at the repository root, found from src/ or dist/. */
export const OPENAPI_PATH = fileURLToPath(new URL("../../../openapi.yaml", import.meta.url));

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** renderReference turns openapi.yaml into a plain, readable HTML page: one section per operation. */
export function renderReference(spec: any): string {
  const sections: string[] = [];
  for (const [path, ops] of Object.entries<any>(spec.paths ?? {})) {
    for (const [method, op] of Object.entries<any>(ops)) {
      if (!["get", "post", "put", "patch", "delete"].includes(method)) continue;
      const params = (op.parameters ?? [])
        .map((p: any) => (p.$ref ? p.$ref.split("/").pop() : `${p.name} (${p.in})`))
        .join(", ");
      sections.push(
        `<section><h2><code>${method.toUpperCase()} ${escapeHtml(path)}</code></h2>` +
          `<p>${escapeHtml(op.summary ?? "")}</p>${op.description ? `<p>${escapeHtml(op.description)}</p>` : ""}` +
          (params ? `<p><b>Parameters:</b> ${escapeHtml(params)}</p>` : "") +
          `<p><b>Responses:</b> ${Object.keys(op.responses ?? {}).join(", ")}</p></section>`,
      );
    }
  }
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(spec.info?.title ?? "API")}</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.4}
section{border-top:1px solid #ddd;padding:.5rem 0}code{background:#f4f4f4;padding:0 .2rem}</style></head><body>
<h1>${escapeHtml(spec.info?.title ?? "API")} ${escapeHtml(String(spec.info?.version ?? ""))}</h1>
<p>${escapeHtml(spec.info?.description ?? "")}</p><p>Machine-readable contract: <a href="/client/v4/openapi.yaml">openapi.yaml</a></p>
${sections.join("\n")}</body></html>`;
}

/** docsRoutes serves the contract (/client/v4/openapi.yaml) and a reference page (/docs). */
export const docsRoutes: FastifyPluginAsync = async (app) => {
  const yamlText = readFileSync(OPENAPI_PATH, "utf8");
  const page = renderReference(parse(yamlText));
  app.get("/client/v4/openapi.yaml", async (_request, reply) => reply.type("application/yaml; charset=utf-8").send(yamlText));
  app.get("/docs", async (_request, reply) => reply.type("text/html; charset=utf-8").send(page));
};
