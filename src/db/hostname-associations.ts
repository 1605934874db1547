import type { Actor } from "./audit.js";
import type { TxSql } from "./sql.js";

/**
 * Hostname associations (migration 0011): which CAs a hostname of a zone trusts. A (zone, CA) pair
 * owns a set of hostnames that PUT replaces whole; a hostname may be in the sets of several CAs.
 */

/** labelSuffixes: every suffix of `name` on a label boundary, longest first ("a.b.c" → a.b.c, b.c, c). */
export function labelSuffixes(name: string): string[] {
  const labels = name.split(".");
  return labels.map((_, i) => labels.slice(i).join("."));
}

/** hostnamesOf returns the hostnames associated with one CA in one zone, sorted. */
export async function hostnamesOf(sql: TxSql, zoneId: string, caId: string): Promise<string[]> {
  const rows = await sql<{ hostname: string }[]>`SELECT hostname FROM hostname_associations
    WHERE zone_id = ${zoneId} AND ca_id = ${caId} ORDER BY hostname COLLATE "C"`;
  return rows.map((r) => r.hostname);
}

/**
 * lockCertificateAuthority locks a CA row of an account for a change of its associations and
 * returns its kind (undefined when it does not exist, e.g. deleted by a racing request). Two PUTs
 * on the same CA serialise here, so the second reads the first's committed set and the result is
 * exactly one of the two lists. FOR NO KEY UPDATE does not block issuance, whose inserts take a
 * key-share lock on the CA; a CA delete (FOR UPDATE) waits for it, and it for the delete.
 */
export async function lockCertificateAuthority(sql: TxSql, accountId: string, caId: string): Promise<{ id: string; kind: string } | undefined> {
  const [row] = await sql<{ id: string; kind: string }[]>`SELECT id, kind FROM certificate_authorities
    WHERE id = ${caId} AND account_id = ${accountId} FOR NO KEY UPDATE`;
  return row;
}

/**
 * replaceHostnames makes the (zone, CA) set equal `hostnames`: it removes what is gone, adds what
 * is new (kept rows keep their created_on, which orders BYOCAs at the edge), and writes one audit
 * event per hostname added or removed, in three statements. The caller holds the CA row lock.
 */
export async function replaceHostnames(
  sql: TxSql,
  zoneId: string,
  caId: string,
  hostnames: readonly string[],
  audit: Actor & { accountId: string },
): Promise<{ added: string[]; removed: string[] }> {
  const current = new Set(await hostnamesOf(sql, zoneId, caId));
  const wanted = new Set(hostnames);
  const added = hostnames.filter((h) => !current.has(h));
  const removed = [...current].filter((h) => !wanted.has(h));
  if (removed.length > 0) {
    await sql`DELETE FROM hostname_associations
      WHERE zone_id = ${zoneId} AND ca_id = ${caId} AND hostname = ANY(${removed}::text[])`;
  }
  if (added.length > 0) {
    await sql`INSERT INTO hostname_associations (zone_id, hostname, ca_id)
      SELECT ${zoneId}, h, ${caId} FROM unnest(${added}::text[]) AS h ON CONFLICT DO NOTHING`;
  }
  const changes = [...added.map((h) => ["add", h]), ...removed.map((h) => ["remove", h])];
  if (changes.length > 0) {
    await sql`INSERT INTO audit_events (account_id, actor, request_id, source_ip, action, object_type, object_id, ca_id, old_status, new_status)
      SELECT ${audit.accountId}, ${audit.actor}, ${audit.requestId ?? null}, ${audit.sourceIp ?? null},
        'hostname_association.' || c.action, 'hostname_association', ${zoneId} || '/' || c.hostname, ${caId}::uuid,
        CASE WHEN c.action = 'add' THEN NULL ELSE 'associated' END, CASE WHEN c.action = 'add' THEN 'associated' ELSE NULL END
      FROM unnest(${changes.map((c) => c[0])}::text[], ${changes.map((c) => c[1])}::text[]) AS c(action, hostname)`;
  }
  return { added, removed };
}

/** countAssociationsOfCa counts hostnames (in any zone) associated with a CA: a delete is refused while any remain. */
export async function countAssociationsOfCa(sql: TxSql, caId: string): Promise<number> {
  const [row] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM hostname_associations WHERE ca_id = ${caId}`;
  return row.n;
}

/** zonesUsingCa lists the zones with at least one hostname associated with a CA. */
export async function zonesUsingCa(sql: TxSql, caId: string): Promise<string[]> {
  const rows = await sql<{ zone_id: string }[]>`SELECT DISTINCT zone_id FROM hostname_associations WHERE ca_id = ${caId} ORDER BY zone_id`;
  return rows.map((r) => r.zone_id);
}

/**
 * existingZoneNames returns the names, among `candidates`, of zones that exist: a hostname whose
 * name (or whose wildcard's base) has a longer zone suffix belongs to that zone, not this one.
 */
export async function existingZoneNames(sql: TxSql, candidates: readonly string[]): Promise<string[]> {
  if (candidates.length === 0) return [];
  const rows = await sql<{ name: string }[]>`SELECT name FROM zones WHERE name = ANY(${candidates as string[]}::text[])`;
  return rows.map((r) => r.name);
}

/** HostnameTrust: the zone owning a hostname and the CAs the hostname accepts, in the order the edge offers them. */
export interface HostnameTrust {
  zoneId: string;
  accountId: string;
  zoneName: string;
  cas: Array<{ caId: string; kind: "managed" | "byoca"; certificateDer: Buffer }>;
}

interface TrustRow {
  zone_id: string;
  account_id: string;
  zone_name: string;
  exact: boolean | null;
  ca_id: string | null;
  kind: "managed" | "byoca" | null;
  certificate_der: Buffer | null;
}

/**
 * One round trip: the zone owning `hostname` (longest zone name that is a suffix on a label
 * boundary), and the CAs associated with the hostname in that zone — exact associations before
 * wildcard (`*.` matches exactly one label) ones; undefined when no zone owns it. cas is empty
 * when the hostname has no associations.
 *
 * Within each group the most recently associated CA comes first ("the most recently deployed
 * certificate will be prioritized", as Cloudflare says of BYOCAs), then by CA id; a CA matched
 * both exactly and by a wildcard appears once, in the exact group. The hostname is compared
 * lower-cased, without a trailing dot.
 */
export async function trustForHostname(sql: TxSql, hostname: string): Promise<HostnameTrust | undefined> {
  const name = hostname.toLowerCase().replace(/\.$/, "");
  if (name === "") return undefined;
  const suffixes = labelSuffixes(name);
  const dot = name.indexOf(".");
  const candidates = dot > 0 ? [name, "*" + name.slice(dot)] : [name];
  const rows = await sql<TrustRow[]>`WITH owner AS (
      SELECT id, account_id, name FROM zones WHERE name = ANY(${suffixes}::text[]) ORDER BY length(name) DESC LIMIT 1)
    SELECT o.id AS zone_id, o.account_id, o.name AS zone_name, ha.hostname = ${name} AS exact,
      ca.id AS ca_id, ca.kind, ca.certificate_der
    FROM owner o
    LEFT JOIN hostname_associations ha ON ha.zone_id = o.id AND ha.hostname = ANY(${candidates}::text[])
    LEFT JOIN certificate_authorities ca ON ca.id = ha.ca_id
    ORDER BY ha.hostname = ${name} DESC, ha.created_on DESC, ca.id`;
  if (rows.length === 0) return undefined;
  const seen = new Set<string>();
  const cas: HostnameTrust["cas"] = [];
  for (const r of rows) {
    if (r.ca_id === null || seen.has(r.ca_id)) continue;
    seen.add(r.ca_id);
    cas.push({ caId: r.ca_id, kind: r.kind!, certificateDer: r.certificate_der! });
  }
  return { zoneId: rows[0].zone_id, accountId: rows[0].account_id, zoneName: rows[0].zone_name, cas };
}
