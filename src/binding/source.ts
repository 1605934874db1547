import type { KeyMaterial } from "./fetcher.js";

/** Lease is a binding's registration as an association of its certificate, valid until `expiresOn`. */
export interface Lease {
  id: string;
  expiresOn: Date;
}

/**
 * SourceFailure classifies what went wrong talking to Gatehouse: `gone` means the certificate is
 * unknown, deleted or unusable (permanent for this binding: fetch rejects from now on); `lease`
 * means only the lease is gone (register again); `transient` means try again later.
 */
export class SourceFailure extends Error {
  constructor(
    readonly kind: "gone" | "lease" | "transient",
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "SourceFailure";
  }
}

/**
 * KeySource is where bindings get their key material and keep their leases: the REST API
 * (api-source.ts) or, inside a Gatehouse deployment, the database (database-source.ts).
 */
export interface KeySource {
  keyMaterial(certificateId: string): Promise<KeyMaterial>;
  registerLease(certificateId: string, binding: string, holder: string, ttlSeconds: number): Promise<Lease>;
  renewLease(certificateId: string, leaseId: string, ttlSeconds: number): Promise<Lease>;
  releaseLease(certificateId: string, leaseId: string): Promise<void>;
  /** watch calls `changed` when the deployment announces a change to the certificate (database source only). */
  watch?(certificateId: string, changed: () => void): () => void;
  close(): Promise<void>;
}
