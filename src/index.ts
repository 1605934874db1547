/**
 * The gatehouse package's public API: Workers-style outbound mTLS bindings for Node programs.
 *
 *   import { createBindings } from "gatehouse";
 *   const env = await createBindings({ mtls_certificates: [{ binding: "MY_CERT", certificate_id: "…" }] });
 *   const res = await env.MY_CERT.fetch("https://a-secured-origin.example/");
 *   await env.close();
 *
 * The service itself (API, edge) is run with the `gatehouse` command (`gatehouse serve`).
 */
export { createBindings } from "./binding/bindings.js";
export type { Bindings, BindingConnection, BindingHandle, BindingOptions, BindingsControl } from "./binding/bindings.js";
export { bindingsOf, findConfigFile, readConfigFile, CONFIG_FILES } from "./binding/config.js";
export type { BindingConfig, MtlsCertificateBinding } from "./binding/config.js";
export { BindingConfigError, BindingError, BindingErrors } from "./binding/errors.js";
export type { Fetcher, BindingStatus } from "./binding/fetcher.js";
export type { ApiConnection } from "./binding/api-client.js";
export { ApiError, GatehouseApi } from "./binding/api-client.js";
export type { DatabaseConnection, InProcessConnection } from "./binding/database-source.js";
