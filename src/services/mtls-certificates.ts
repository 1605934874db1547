import { insertAuditEvent, type Actor } from "../db/audit.js";
import { insertCertificateAuthority } from "../db/certificate-authorities.js";
import { countAssociationsOfCa, zonesUsingCa } from "../db/hostname-associations.js";
import {
  countCaUploads,
  deleteByocaAuthority,
  deleteMtlsCertificate,
  findMtlsCertificate,
  insertMtlsCertificate,
  listMtlsCertificates,
  lockAccountUploads,
  lockByocaAuthority,
  type MtlsCertificateFilter,
  type MtlsCertificateRow,
} from "../db/mtls-certificates.js";
import type { TxSql } from "../db/sql.js";
import { GatehouseError, notFound } from "../errors.js";
import { seal } from "../keys/secrets.js";
import { validateUpload } from "../pki/byoca.js";
import { derToPem } from "../pki/pem.js";
import { bindingLeaseSource, checkBindingLeasesBeforeDelete } from "./binding-leases.js";
import type { ServiceContext } from "./context.js";
import { newUuid, UUID } from "./ids.js";

/**
 * MtlsCertificateErrors: request-level codes of the mTLS certificate family (1450–1499; the
 * upload-content codes 1400–1449 are ByocaErrors in pki/byoca.ts). 1489 is Cloudflare's.
 */
export const MtlsCertificateErrors = {
  badCaFlag: 1450,
  badName: 1451,
  badCaFilter: 1452,
  badTypeFilter: 1453,
  badPage: 1454,
  badPerPage: 1455,
  stillAssociated: 1470,
  quotaExceeded: 1489,
} as const;

/** MTLS_KEY_TABLE is the AAD table name a ca: false upload's private key is sealed under (with its id). */
export const MTLS_KEY_TABLE = "mtls_certificates";

/**
 * upload validates an mTLS certificate (pki/byoca.ts) and records it. A CA upload (ca: true) also
 * creates the certificate_authorities row of kind `byoca` with the same id, holding only the
 * first certificate: the one trust anchor, whatever else the chain holds. It counts against the
 * account's BYOCA quota, checked under a per-account lock so racing uploads cannot overshoot it.
 * A leaf's private key is sealed before the transaction and its plaintext zeroed.
 */
export async function upload(
  ctx: ServiceContext,
  accountId: string,
  input: { ca: boolean; certificates: string; name: string; privateKey?: string },
  actor: Actor,
): Promise<MtlsCertificateRow> {
  const now = ctx.now();
  const v = validateUpload({ ca: input.ca, certificates: input.certificates, privateKey: input.privateKey }, now);
  const id = newUuid();
  let sealed: Buffer | null = null;
  if (v.privateKeyPkcs8) {
    sealed = seal(ctx.masterKeys, MTLS_KEY_TABLE, id, v.privateKeyPkcs8);
    v.privateKeyPkcs8.fill(0);
  }
  const uploadedOn = new Date(Math.floor(now.getTime() / 1000) * 1000);
  return (await ctx.sql.begin(async (tx) => {
    if (v.ca) {
      if (!(await lockAccountUploads(tx, accountId))) throw notFound("account");
      if ((await countCaUploads(tx, accountId)) >= ctx.byocaLimit) {
        throw new GatehouseError(MtlsCertificateErrors.quotaExceeded, 400, "Hit maximum CA cert allocation.");
      }
    }
    const row = await insertMtlsCertificate(tx, {
      id,
      account_id: accountId,
      ca: v.ca,
      name: input.name,
      certificates: v.pem,
      sealed_private_key: sealed,
      issuer: v.issuer,
      serial_number: v.serialDecimal,
      signature: v.signatureName,
      expires_on: v.notAfter,
      uploaded_on: uploadedOn,
    });
    if (v.ca) {
      await insertCertificateAuthority(tx, {
        id,
        account_id: accountId,
        kind: "byoca",
        name: input.name || v.subject,
        certificate_pem: derToPem(v.first.der, "CERTIFICATE"),
        certificate_der: v.first.der,
        subject_der: v.first.subjectDer,
        ski: v.first.ski,
        key_type: null,
        sealed_key: null,
        not_before: v.notBefore,
        not_after: v.notAfter,
      });
    }
    await insertAuditEvent(tx, {
      accountId,
      ...actor,
      action: "mtls_certificate.upload",
      objectType: "mtls_certificate",
      objectId: id,
      caId: v.ca ? id : undefined,
      serial: v.first.serial.toString("hex"),
      newStatus: v.ca ? "ca" : "leaf",
    });
    await ctx.bus.publish(tx, { topic: "mtls_certificate", id });
    return row;
  })) as MtlsCertificateRow;
}

export async function getMtlsCertificate(ctx: ServiceContext, accountId: string, id: string): Promise<MtlsCertificateRow> {
  const row = UUID.test(id) ? await findMtlsCertificate(ctx.sql, accountId, id) : undefined;
  if (!row) throw notFound("mTLS certificate");
  return row;
}

export function listCertificates(ctx: ServiceContext, accountId: string, filter: MtlsCertificateFilter) {
  return listMtlsCertificates(ctx.sql, accountId, filter);
}

/**
 * remove deletes an upload (and its BYOCA twin) unless a hostname still trusts it: the CA row is
 * locked first, so a racing association PUT either commits before (and the delete is refused) or
 * finds the CA gone (404). Answers the deleted object.
 * A running outbound binding (an active lease, services/binding-leases.ts) also blocks it (409,
 * code 1810) unless `force`, which ends the leases: the bindings then reject their fetches.
 */
export async function remove(
  ctx: ServiceContext,
  accountId: string,
  id: string,
  actor: Actor,
  opts: { force?: boolean } = {},
): Promise<MtlsCertificateRow> {
  if (!UUID.test(id)) throw notFound("mTLS certificate");
  return (await ctx.sql.begin(async (tx) => {
    const row = await findMtlsCertificate(tx, accountId, id, { forUpdate: true });
    if (!row) throw notFound("mTLS certificate");
    if (row.ca) {
      await lockByocaAuthority(tx, id);
      if ((await countAssociationsOfCa(tx, id)) > 0) {
        throw new GatehouseError(
          MtlsCertificateErrors.stillAssociated,
          409,
          "this CA is still associated with hostnames; clear them first (PUT hostname_associations with hostnames: [] and this mtls_certificate_id in each zone that uses it)",
        );
      }
      await deleteByocaAuthority(tx, id);
    }
    const leasesEnded = await checkBindingLeasesBeforeDelete(tx, id, opts.force === true);
    await deleteMtlsCertificate(tx, id);
    await insertAuditEvent(tx, {
      accountId,
      ...actor,
      action: "mtls_certificate.delete",
      objectType: "mtls_certificate",
      objectId: id,
      caId: row.ca ? id : undefined,
      oldStatus: row.ca ? "ca" : "leaf",
      newStatus: "deleted",
      reason: leasesEnded > 0 ? `force: ended ${leasesEnded} active binding lease(s)` : undefined,
    });
    await ctx.bus.publish(tx, { topic: "mtls_certificate", id });
    return row;
  })) as MtlsCertificateRow;
}

/** CertificateAssociation: one service using an mTLS certificate (Cloudflare's `{service, status}`). */
export interface CertificateAssociation {
  service: string;
  status: string;
}

/**
 * AssociationSource reports how one kind of service uses a certificate. The associations endpoint
 * is the concatenation of every source, so another kind (the outbound binding's `binding` leases)
 * is added by appending a source to ASSOCIATION_SOURCES.
 */
export type AssociationSource = (sql: TxSql, certificate: MtlsCertificateRow) => Promise<CertificateAssociation[]>;

/** hostnameAssociationSource: one `hostname_association` entry per zone with hostnames trusting the CA. */
export const hostnameAssociationSource: AssociationSource = async (sql, certificate) =>
  certificate.ca ? (await zonesUsingCa(sql, certificate.id)).map(() => ({ service: "hostname_association", status: "active" })) : [];

export const ASSOCIATION_SOURCES: AssociationSource[] = [hostnameAssociationSource, bindingLeaseSource];

/** listAssociations collects every service using a certificate (found with getMtlsCertificate), from every source. */
export async function listAssociations(
  ctx: ServiceContext,
  certificate: MtlsCertificateRow,
  sources: readonly AssociationSource[] = ASSOCIATION_SOURCES,
): Promise<CertificateAssociation[]> {
  const lists = await Promise.all(sources.map((source) => source(ctx.sql, certificate)));
  return lists.flat();
}

