import type { Actor } from "../db/audit.js";
import { findActiveManagedCa } from "../db/certificate-authorities.js";
import {
  existingZoneNames,
  hostnamesOf,
  labelSuffixes,
  lockCertificateAuthority,
  replaceHostnames,
} from "../db/hostname-associations.js";
import { findMtlsCertificate } from "../db/mtls-certificates.js";
import type { TxSql } from "../db/sql.js";
import type { ZoneRow } from "../db/zones.js";
import { GatehouseError, notFound } from "../errors.js";
import type { ServiceContext } from "./context.js";
import { UUID } from "./ids.js";

/** HostnameAssociationErrors: codes of the hostname-association family (1500–1599). */
export const HostnameAssociationErrors = {
  badHostnames: 1500,
  tooManyHostnames: 1501,
  badCertificateId: 1502,
  notACa: 1503,
  badHostname: 1504,
  outsideZone: 1505,
  inMoreSpecificZone: 1506,
  noManagedCa: 1507,
} as const;

/** MAX_HOSTNAMES_PER_PUT bounds one PUT (entries as sent, before de-duplication). */
export const MAX_HOSTNAMES_PER_PUT = 100;

/** HOSTNAME: lower-case LDH labels of 1–63 characters, optionally led by "*." (one label), 253 characters at most. */
const HOSTNAME = /^(?=.{1,253}$)(?:\*\.)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

const fail = (code: number, message: string, status = 400) => new GatehouseError(code, status, message);

/**
 * normaliseHostnames checks a PUT's `hostnames` and returns them lower-cased, without trailing
 * dots, de-duplicated and sorted (a stable order, so infrastructure-as-code tools see no drift).
 * Each must be the zone's name or a name under it on a label boundary; `*.` matches one label.
 */
export function normaliseHostnames(zone: ZoneRow, raw: unknown): string[] {
  if (raw === undefined || raw === null) {
    throw fail(HostnameAssociationErrors.badHostnames, "hostnames is required: a list of DNS names in the zone (send [] to clear it)");
  }
  if (!Array.isArray(raw)) throw fail(HostnameAssociationErrors.badHostnames, "hostnames must be a list of strings");
  if (raw.length > MAX_HOSTNAMES_PER_PUT) {
    throw fail(HostnameAssociationErrors.tooManyHostnames, `hostnames may hold at most ${MAX_HOSTNAMES_PER_PUT} entries per request`);
  }
  const out = new Set<string>();
  raw.forEach((entry, i) => {
    if (typeof entry !== "string") throw fail(HostnameAssociationErrors.badHostnames, `hostnames[${i}] must be a string`);
    const h = entry.trim().toLowerCase().replace(/\.$/, "");
    if (!HOSTNAME.test(h)) {
      throw fail(
        HostnameAssociationErrors.badHostname,
        `hostnames[${i}] is not a DNS name: use letters, digits and hyphens in dot-separated labels, optionally starting with *.`,
      );
    }
    const base = h.startsWith("*.") ? h.slice(2) : h;
    if (base !== zone.name && !base.endsWith("." + zone.name)) {
      throw fail(HostnameAssociationErrors.outsideZone, `hostnames[${i}] is not in the zone: use the zone's name or a name under it`);
    }
    out.add(h);
  });
  return [...out].sort();
}

/**
 * checkNoMoreSpecificZone refuses a hostname that belongs to a longer zone (DESIGN.md: a hostname
 * belongs to the longest zone suffix; only that zone's associations would ever apply to it).
 */
async function checkNoMoreSpecificZone(sql: TxSql, zone: ZoneRow, hostnames: string[]): Promise<void> {
  const owners = new Map<string, number>();
  hostnames.forEach((h, i) => {
    const base = h.startsWith("*.") ? h.slice(2) : h;
    for (const suffix of labelSuffixes(base)) {
      if (suffix.length > zone.name.length && !owners.has(suffix)) owners.set(suffix, i);
    }
  });
  const taken = await existingZoneNames(sql, [...owners.keys()]);
  if (taken.length > 0) {
    throw fail(
      HostnameAssociationErrors.inMoreSpecificZone,
      "a hostname belongs to another, more specific zone; associate it in that zone instead",
    );
  }
}

/**
 * parseCertificateId reads `mtls_certificate_id` (body or query): absent means the account's
 * active managed CA. A value that cannot be an id is "not found", like any unknown id.
 */
export function parseCertificateId(raw: unknown): string | undefined {
  if (raw === undefined || raw === null || raw === "") return undefined;
  if (typeof raw !== "string") {
    throw fail(HostnameAssociationErrors.badCertificateId, "mtls_certificate_id must be a string: the id of a CA uploaded with ca: true");
  }
  return raw.toLowerCase();
}

/**
 * findAssociationTarget resolves `mtls_certificate_id` inside the zone's account before any scope
 * check (DESIGN.md: 404 for another account's ids, bodies included, then 403).
 */
export async function findAssociationTarget(ctx: ServiceContext, zone: ZoneRow, certificateId: string | undefined): Promise<void> {
  if (certificateId === undefined) return;
  if (!UUID.test(certificateId) || !(await findMtlsCertificate(ctx.sql, zone.account_id, certificateId))) throw notFound("mTLS certificate");
}

/** resolveCa names the CA a request is about: the given BYOCA upload, or the account's active managed CA. */
async function resolveCa(sql: TxSql, zone: ZoneRow, certificateId: string | undefined): Promise<string> {
  if (certificateId === undefined) {
    const managed = await findActiveManagedCa(sql, zone.account_id);
    if (!managed) throw fail(HostnameAssociationErrors.noManagedCa, "the account has no active managed CA; give an mtls_certificate_id", 409);
    return managed.id;
  }
  const cert = UUID.test(certificateId) ? await findMtlsCertificate(sql, zone.account_id, certificateId) : undefined;
  if (!cert) throw notFound("mTLS certificate");
  if (!cert.ca) {
    throw fail(
      HostnameAssociationErrors.notACa,
      "mtls_certificate_id names a certificate uploaded with ca: false; hostnames can only be associated with CAs (ca: true)",
    );
  }
  return cert.id;
}

/** getHostnames returns the hostnames of the zone associated with the CA, sorted. */
export async function getHostnames(ctx: ServiceContext, zone: ZoneRow, certificateId: string | undefined): Promise<string[]> {
  const caId = await resolveCa(ctx.sql, zone, certificateId);
  return (await hostnamesOf(ctx.sql, zone.id, caId)).sort();
}

/**
 * putHostnames replaces the set of the zone's hostnames associated with the CA, atomically: the
 * CA row is locked, the set rewritten, one audit event written per hostname added or removed, and
 * an `association` change published for the zone (edges drop their cached trust) — all in one
 * transaction. An empty list clears the set.
 */
export async function putHostnames(
  ctx: ServiceContext,
  zone: ZoneRow,
  input: { hostnames: unknown; certificateId: string | undefined },
  actor: Actor,
): Promise<string[]> {
  const hostnames = normaliseHostnames(zone, input.hostnames);
  await checkNoMoreSpecificZone(ctx.sql, zone, hostnames);
  return (await ctx.sql.begin(async (tx) => {
    const caId = await resolveCa(tx, zone, input.certificateId);
    if (!(await lockCertificateAuthority(tx, zone.account_id, caId))) throw notFound("mTLS certificate");
    const { added, removed } = await replaceHostnames(tx, zone.id, caId, hostnames, { accountId: zone.account_id, ...actor });
    if (added.length > 0 || removed.length > 0) await ctx.bus.publish(tx, { topic: "association", id: zone.id });
    return hostnames;
  })) as string[];
}
