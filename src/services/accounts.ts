import { insertAccount, findAccount, type AccountRow } from "../db/accounts.js";
import { insertAuditEvent, type Actor } from "../db/audit.js";
import { findActiveManagedCa, insertCertificateAuthority, type CertificateAuthorityRow } from "../db/certificate-authorities.js";
import { GatehouseError, notFound, RequestErrors } from "../errors.js";
import { seal } from "../keys/secrets.js";
import { createManagedCa } from "../pki/ca.js";
import type { CaKeyType } from "../pki/signer.js";
import type { ServiceContext } from "./context.js";
import { newHexId, newUuid } from "./ids.js";
import { CA_KEY_TABLE } from "./issuers.js";

export const CA_KEY_TYPES: readonly CaKeyType[] = ["P-256", "P-384", "RSA-2048", "RSA-3072", "RSA-4096"];
/** MANAGED_CA_YEARS is the managed CA's validity: leaves never outlive it. */
export const MANAGED_CA_YEARS = 20;

export const AccountErrors = {
  badName: 1010,
  badCaKeyType: 1011,
} as const;

export interface CreatedAccount {
  account: AccountRow;
  ca: CertificateAuthorityRow;
}

/** managedCaName is the CA's display name, as Cloudflare's embeds the account id. */
export const managedCaName = (accountId: string): string => `Gatehouse Managed CA for account ${accountId}`;

/**
 * createAccount makes an account and its managed CA. The CA key is generated and sealed before the
 * transaction; account, CA and audit event are written together or not at all.
 */
export async function createAccount(
  ctx: ServiceContext,
  input: { name: string; caKeyType?: string },
  actor: Actor,
): Promise<CreatedAccount> {
  const name = input.name.trim();
  if (name.length === 0 || name.length > 200) {
    throw new GatehouseError(AccountErrors.badName, 400, "name must be 1 to 200 characters");
  }
  const keyType = (input.caKeyType ?? "P-256") as CaKeyType;
  if (!CA_KEY_TYPES.includes(keyType)) {
    throw new GatehouseError(AccountErrors.badCaKeyType, 400, `ca_key_type must be one of ${CA_KEY_TYPES.join(", ")}`);
  }
  const accountId = newHexId();
  const caId = newUuid();
  const caName = managedCaName(accountId);
  const created = await createManagedCa({
    keyType,
    // RFC 5280 caps CN at 64 characters: the display name is longer than that.
    commonName: `Gatehouse Managed CA ${accountId}`,
    organization: "Gatehouse",
    now: ctx.now(),
    validityYears: MANAGED_CA_YEARS,
  });
  const sealedKey = seal(ctx.masterKeys, CA_KEY_TABLE, caId, created.privateKeyPkcs8Der);
  return ctx.sql.begin(async (tx) => {
    const account = await insertAccount(tx, { id: accountId, name });
    const ca = await insertCertificateAuthority(tx, {
      id: caId,
      account_id: accountId,
      kind: "managed",
      name: caName,
      certificate_pem: created.pem,
      certificate_der: Buffer.from(created.certificateDer),
      subject_der: Buffer.from(created.subjectDer),
      ski: Buffer.from(created.subjectKeyIdentifier),
      key_type: keyType,
      sealed_key: sealedKey,
      not_before: created.notBefore,
      not_after: created.notAfter,
    });
    await insertAuditEvent(tx, {
      accountId,
      ...actor,
      action: "account.create",
      objectType: "account",
      objectId: accountId,
      caId,
      newStatus: "active",
    });
    return { account, ca };
  }) as Promise<CreatedAccount>;
}

export async function getAccount(ctx: ServiceContext, accountId: string): Promise<AccountRow> {
  const account = await findAccount(ctx.sql, accountId);
  if (!account) throw notFound("account");
  return account;
}

export async function getManagedCa(ctx: ServiceContext, accountId: string): Promise<CertificateAuthorityRow> {
  const ca = await findActiveManagedCa(ctx.sql, accountId);
  if (!ca) throw new GatehouseError(RequestErrors.notFound, 404, "managed CA not found");
  return ca;
}
