import { createPrivateKey } from "node:crypto";
import type { ChangeBus } from "../db/changes.js";
import { findCertificateAuthority, type CertificateAuthorityRow } from "../db/certificate-authorities.js";
import type { Sql } from "../db/sql.js";
import { open, type MasterKeys } from "../keys/secrets.js";
import { ocspIssuer, type OcspIssuer } from "../pki/ocsp.js";
import { keyObjectSigner, type CaKeyType, type Signer } from "../pki/signer.js";
import { streamSignerFromKey, type StreamSigner } from "../pki/stream-signer.js";
import { UUID } from "./ids.js";
import { CA_KEY_TABLE } from "./issuers.js";

/**
 * PublishingCa is a managed CA ready to publish revocation data: its row, a signer for OCSP
 * responses (on the threadpool), a streaming signer for CRLs, and its OCSP identity.
 */
export interface PublishingCa {
  ca: CertificateAuthorityRow;
  signer: Signer;
  streamSigner: StreamSigner;
  ocsp: OcspIssuer;
}

/** NEGATIVE_TTL_MS: how long "no managed CA with this id" is remembered (unauthenticated look-ups). */
const NEGATIVE_TTL_MS = 10_000;
const MAX_NEGATIVE = 10_000;

/**
 * PublishingCaCache unseals each managed CA's key once per process for CRL and OCSP signing. Any
 * id that is not a managed CA (unknown, BYOCA: Gatehouse holds no key for those) is `undefined`,
 * remembered briefly so anonymous look-ups of random ids do not each cost a query. A `ca` change
 * on the bus drops everything.
 */
export class PublishingCaCache {
  private entries = new Map<string, Promise<PublishingCa | undefined>>();
  private missing = new Map<string, number>();

  constructor(
    private readonly sql: Sql,
    private readonly masterKeys: MasterKeys,
    bus: ChangeBus,
  ) {
    bus.subscribe((change) => {
      if (change.topic === "ca") this.clear();
    });
  }

  clear(): void {
    this.entries.clear();
    this.missing.clear();
  }

  /** forget drops one CA (it was not found where it was expected). */
  forget(caId: string): void {
    this.entries.delete(caId);
  }

  /** get returns the managed CA `caId`, or undefined when there is none. */
  get(caId: string): Promise<PublishingCa | undefined> {
    if (!UUID.test(caId)) return Promise.resolve(undefined);
    const miss = this.missing.get(caId);
    if (miss !== undefined && miss > Date.now()) return Promise.resolve(undefined);
    let entry = this.entries.get(caId);
    if (!entry) {
      entry = this.load(caId);
      this.entries.set(caId, entry);
      entry.then(
        (v) => {
          if (v) return;
          this.entries.delete(caId);
          if (this.missing.size >= MAX_NEGATIVE) this.missing.clear();
          this.missing.set(caId, Date.now() + NEGATIVE_TTL_MS);
        },
        () => this.entries.delete(caId),
      );
    }
    return entry;
  }

  private async load(caId: string): Promise<PublishingCa | undefined> {
    const ca = await findCertificateAuthority(this.sql, caId);
    if (!ca || ca.kind !== "managed" || !ca.sealed_key || !ca.key_type) return undefined;
    const pkcs8 = open(this.masterKeys, CA_KEY_TABLE, ca.id, ca.sealed_key);
    const key = createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" });
    pkcs8.fill(0);
    const keyType = ca.key_type as CaKeyType;
    return {
      ca,
      signer: keyObjectSigner(key, keyType),
      streamSigner: streamSignerFromKey(key, keyType),
      ocsp: ocspIssuer(new Uint8Array(ca.certificate_der)),
    };
  }
}
