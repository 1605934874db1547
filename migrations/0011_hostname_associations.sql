-- Which CAs a hostname of a zone trusts for client certificates. A hostname may trust several
-- CAs at once (managed and BYOCA: how a CA is rotated without downtime), so the key is the
-- triple. hostname is lower-case, inside the zone, optionally a leading "*." that matches
-- exactly one label. The foreign key to certificate_authorities (no cascade) means a CA that is
-- still associated cannot be deleted, even by a racing request.
CREATE TABLE hostname_associations (
  zone_id     text NOT NULL REFERENCES zones (id),
  hostname    text NOT NULL,
  ca_id       uuid NOT NULL REFERENCES certificate_authorities (id),
  created_on  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT hostname_associations_key UNIQUE (zone_id, hostname, ca_id)
);
-- By CA: PUT/GET of one (zone, CA) set, the associations of an mTLS certificate, the delete check.
CREATE INDEX hostname_associations_ca_idx ON hostname_associations (ca_id, zone_id);
