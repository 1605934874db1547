import type { ChangeBus } from "../db/changes.js";
import { findActiveManagedCa, findCertificateAuthority, type CertificateAuthorityRow } from "../db/certificate-authorities.js";
import type { Sql } from "../db/sql.js";
import { open, type MasterKeys } from "../keys/secrets.js";
import { createSoftwareSigner } from "../keys/software-signer.js";
import type { IssuerInfo } from "../pki/certificate.js";
import type { CaKeyType } from "../pki/signer.js";

/** CA_KEY_TABLE is the AAD table name a managed CA's key is sealed under (with the CA id). */
export const CA_KEY_TABLE = "certificate_authorities";

/** ActiveIssuer is a managed CA ready to sign: its row and the decrypted signer. */
export interface ActiveIssuer {
  ca: CertificateAuthorityRow;
  info: IssuerInfo;
}

/**
 * IssuerCache keeps each account's active managed CA decrypted in memory, so issuing does not
 * read and unseal the CA key per request. A `ca` change on the bus (rotation) drops the entry in
 * every process.
 */
export class IssuerCache {
  private byAccount = new Map<string, Promise<ActiveIssuer | undefined>>();

  constructor(
    private readonly sql: Sql,
    private readonly masterKeys: MasterKeys,
    bus: ChangeBus,
  ) {
    bus.subscribe((change) => {
      if (change.topic === "ca") this.byAccount.clear();
    });
  }

  /** clear drops every cached issuer (tests that empty the database call it). */
  clear(): void {
    this.byAccount.clear();
  }

  /** activeIssuer returns the account's active managed CA, loading it once. */
  activeIssuer(accountId: string): Promise<ActiveIssuer | undefined> {
    let entry = this.byAccount.get(accountId);
    if (!entry) {
      entry = this.load(accountId);
      this.byAccount.set(accountId, entry);
      entry.catch(() => this.byAccount.delete(accountId));
    }
    return entry;
  }

  /** issuerById unseals any managed CA by id (used by CRL/OCSP signing of rotated-out CAs). */
  async issuerById(caId: string): Promise<ActiveIssuer | undefined> {
    const ca = await findCertificateAuthority(this.sql, caId);
    return ca && ca.kind === "managed" ? this.toIssuer(ca) : undefined;
  }

  private async load(accountId: string): Promise<ActiveIssuer | undefined> {
    const ca = await findActiveManagedCa(this.sql, accountId);
    return ca ? this.toIssuer(ca) : undefined;
  }

  private toIssuer(ca: CertificateAuthorityRow): ActiveIssuer {
    const key = open(this.masterKeys, CA_KEY_TABLE, ca.id, ca.sealed_key!);
    const signer = createSoftwareSigner(key, ca.key_type as CaKeyType);
    key.fill(0);
    return {
      ca,
      info: {
        certificateDer: ca.certificate_der,
        subjectDer: ca.subject_der,
        subjectKeyIdentifier: ca.ski,
        notAfter: ca.not_after,
        signer,
      },
    };
  }
}
