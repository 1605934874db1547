import { ApiError, GatehouseApi, type ApiConnection } from "./api-client.js";
import type { KeyMaterial } from "./fetcher.js";
import { SourceFailure, type KeySource, type Lease } from "./source.js";

/** LEASE_NOT_FOUND is services/binding-leases.ts's code for a lease that is gone (the certificate may still be there). */
const LEASE_NOT_FOUND = 1811;

interface LeaseView {
  id: string;
  expires_on: string;
}

interface KeyMaterialView {
  id: string;
  name: string | null;
  certificates: string;
  private_key: string;
}

/** classify turns an API failure into what the binding should do about it. */
function classify(err: unknown): SourceFailure {
  if (!(err instanceof ApiError)) return new SourceFailure("transient", (err as Error).message, { cause: err });
  if (err.status === undefined || err.status >= 500 || err.status === 429) return new SourceFailure("transient", err.message, { cause: err });
  if (err.status === 404 && err.code === LEASE_NOT_FOUND) return new SourceFailure("lease", err.message, { cause: err });
  if (err.status === 404) return new SourceFailure("gone", "is unknown or was deleted", { cause: err });
  return new SourceFailure("gone", `cannot be used: ${err.message}`, { cause: err });
}

/**
 * apiKeySource reads key material from `POST …/mtls_certificates/{id}/key_material` (a token with
 * the `mtls_certificates:use` scope) and keeps leases through `…/{id}/bindings`.
 */
export function apiKeySource(connection: ApiConnection): KeySource {
  const api = new GatehouseApi(connection);
  const base = (id: string) => `/accounts/${connection.accountId}/mtls_certificates/${encodeURIComponent(id)}`;
  const lease = (v: LeaseView): Lease => ({ id: v.id, expiresOn: new Date(v.expires_on) });
  const call = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw classify(err);
    }
  };
  return {
    keyMaterial: (id) =>
      call(async () => {
        const { result } = await api.call<KeyMaterialView>("POST", `${base(id)}/key_material`);
        return { id: result.id, name: result.name, certificates: result.certificates, privateKey: result.private_key } satisfies KeyMaterial;
      }),
    registerLease: (id, binding, holder, ttlSeconds) =>
      call(async () => lease((await api.call<LeaseView>("POST", `${base(id)}/bindings`, { body: { binding, holder, ttl_seconds: ttlSeconds } })).result)),
    renewLease: (id, leaseId, ttlSeconds) =>
      call(async () => lease((await api.call<LeaseView>("PUT", `${base(id)}/bindings/${encodeURIComponent(leaseId)}`, { body: { ttl_seconds: ttlSeconds } })).result)),
    releaseLease: (id, leaseId) =>
      call(async () => {
        await api.call("DELETE", `${base(id)}/bindings/${encodeURIComponent(leaseId)}`);
      }),
    async close() {},
  };
}
