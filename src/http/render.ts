import type { AccountRow } from "../db/accounts.js";
import type { ApiTokenRow } from "../db/api-tokens.js";
import type { CertificateAuthorityRow } from "../db/certificate-authorities.js";
import type { ClientCertificateRow } from "../db/client-certificates.js";
import type { ZoneRow } from "../db/zones.js";
import { rfc3339 } from "./envelope.js";

/**
 * API representations. Field names and formats follow Cloudflare's (reference §2.1): serial_number
 * lowercase hex, ski lowercase hex, times RFC 3339 in whole seconds. `revoked_on` and
 * `revocation_reason` are Gatehouse's additions (documented in openapi.yaml).
 */
export function clientCertificateView(row: ClientCertificateRow) {
  return {
    id: row.id,
    certificate: row.certificate_pem,
    certificate_authority: { id: row.ca_id, name: row.ca_name },
    common_name: row.common_name ?? "",
    country: row.country ?? "",
    csr: row.csr_pem,
    expires_on: rfc3339(row.expires_on),
    fingerprint_sha256: row.fingerprint_sha256,
    issued_on: rfc3339(row.issued_on),
    location: row.location ?? "",
    organization: row.organization ?? "",
    organizational_unit: row.organizational_unit ?? "",
    serial_number: row.serial.toString("hex"),
    signature: row.signature,
    ski: row.ski,
    state: row.state ?? "",
    status: row.status,
    validity_days: row.validity_days,
    revoked_on: row.revoked_on ? rfc3339(row.revoked_on) : null,
    revocation_reason: row.revocation_reason,
  };
}

export const accountView = (a: AccountRow) => ({ id: a.id, name: a.name, created_on: rfc3339(a.created_on) });

export const zoneView = (z: ZoneRow, account: { id: string; name?: string }) => ({
  id: z.id,
  name: z.name,
  status: "active",
  account: { id: account.id, name: account.name ?? "" },
  created_on: rfc3339(z.created_on),
});

export const tokenView = (t: ApiTokenRow) => ({
  id: t.id,
  name: t.name,
  scopes: t.scopes,
  status: t.revoked_on ? "revoked" : "active",
  created_on: rfc3339(t.created_on),
  revoked_on: t.revoked_on ? rfc3339(t.revoked_on) : null,
});

export const managedCaView = (ca: CertificateAuthorityRow) => ({
  id: ca.id,
  name: ca.name,
  certificate: ca.certificate_pem,
  key_type: ca.key_type,
  ski: ca.ski.toString("hex"),
  active: ca.active,
  issued_on: rfc3339(ca.not_before),
  expires_on: rfc3339(ca.not_after),
});
