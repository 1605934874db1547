import { insertAuditEvent, type Actor } from "../db/audit.js";
import type { TxSql } from "../db/sql.js";
import { GatehouseError, notFound } from "../errors.js";
import { open } from "../keys/secrets.js";
import { derToPem } from "../pki/pem.js";
import type { ServiceContext } from "./context.js";

/**
 * Key material of `ca: false` mTLS certificates: the one way a stored client key leaves
 * Gatehouse (DESIGN.md "The outbound binding and stored client keys"). Codes 1800–1809.
 */
export const KeyMaterialErrors = {
  /** The certificate is a CA upload (`ca: true`): it has no private key. */
  notAClientCertificate: 1800,
  /** Over plain HTTP from a non-loopback address. */
  plainHttp: 1801,
  /** The operator token: key material goes only to an account token with mtls_certificates:use. */
  operatorRefused: 1802,
} as const;

/** KeyHolder is what is needed to decide about a key read before reading it. */
export interface KeyHolder {
  id: string;
  account_id: string;
  ca: boolean;
  name: string;
  expires_on: Date;
}

/** KeyMaterialView is the response of POST …/key_material: the chain and the decrypted key (PKCS#8 PEM). */
export interface KeyMaterialView {
  id: string;
  name: string;
  certificates: string;
  private_key: string;
  expires_on: Date;
}

/**
 * findKeyHolder resolves an mTLS certificate inside an account (404 for an unknown id or one of
 * another account; `accountId` undefined means any account, for the operator and direct access).
 */
export async function findKeyHolder(sql: TxSql, accountId: string | undefined, id: string): Promise<KeyHolder> {
  const [row] = await sql<KeyHolder[]>`SELECT id, account_id, ca, name, expires_on FROM mtls_certificates WHERE id = ${id}`;
  if (!row || (accountId !== undefined && row.account_id !== accountId)) throw notFound("mTLS certificate");
  return row;
}

/** assertClientCertificate refuses a CA upload where a client certificate with a key is needed. */
export function assertClientCertificate(holder: KeyHolder): void {
  if (holder.ca) {
    throw new GatehouseError(
      KeyMaterialErrors.notAClientCertificate,
      400,
      "this mTLS certificate is a CA upload (ca: true) and has no private key: bind a ca: false upload",
    );
  }
}

/**
 * readKeyMaterial decrypts the key of a `ca: false` upload and records the read (actor, request,
 * source address) in the audit trail, in one transaction: no read without its audit event.
 */
export async function readKeyMaterial(ctx: Pick<ServiceContext, "sql" | "masterKeys">, accountId: string | undefined, id: string, actor: Actor): Promise<KeyMaterialView> {
  return (await ctx.sql.begin(async (tx) => {
    const holder = await findKeyHolder(tx, accountId, id);
    assertClientCertificate(holder);
    const [row] = await tx<{ certificates: string; sealed_private_key: Buffer | null }[]>`
      SELECT certificates, sealed_private_key FROM mtls_certificates WHERE id = ${id}`;
    if (!row?.sealed_private_key) assertClientCertificate({ ...holder, ca: true });
    const pkcs8 = open(ctx.masterKeys, "mtls_certificates", id, row.sealed_private_key!);
    await insertAuditEvent(tx, {
      accountId: holder.account_id,
      ...actor,
      action: "mtls_certificate.key_read",
      objectType: "mtls_certificate",
      objectId: id,
    });
    const privateKey = derToPem(pkcs8, "PRIVATE KEY");
    pkcs8.fill(0);
    return { id, name: holder.name, certificates: row.certificates, private_key: privateKey, expires_on: holder.expires_on };
  })) as KeyMaterialView;
}
