-- CRLs and OCSP for managed CAs (RFC 5280 §5, RFC 6960). Gatehouse holds no BYOCA key, so these
-- tables only ever hold rows of managed CAs.

-- crl_entry_der is a revoked certificate's revokedCertificates element (serial, revocation date,
-- reasonCode), encoded once when it is revoked, in the transaction that revokes it, and cleared on
-- reactivation. A CRL build streams these bytes instead of re-encoding every entry. Rows revoked
-- before this migration have none: the next build of their CA encodes and stores them.
ALTER TABLE client_certificates ADD COLUMN crl_entry_der bytea;

-- The revoked set of one CA as a CRL build reads it: an index-only scan over (ca_id, expires_on).
CREATE INDEX client_certificates_crl_idx ON client_certificates (ca_id, expires_on)
  INCLUDE (crl_entry_der) WHERE status = 'revoked';
-- Revoked rows still lacking a stored entry (only rows older than this migration).
CREATE INDEX client_certificates_crl_missing_idx ON client_certificates (ca_id)
  WHERE status = 'revoked' AND crl_entry_der IS NULL;

-- One row per managed CA that has needed a CRL: created by its first revocation (or the first
-- request for its CRL) and never deleted, so row counts only change with those requests.
--   changes        bumped in every transaction that revokes or reactivates one of its certificates
--   built_through  `changes` as read by the build that made the current CRL: pending work is
--                  changes > built_through (a change committed during a build stays pending)
--   crl_number …   the current CRL; crl_number 0 and der NULL until the first build
-- A build runs under the CA row's lock (FOR NO KEY UPDATE, which issuance's foreign-key checks do
-- not wait for) and reads the revoked set in the transaction that takes crl_number + 1, so a
-- higher number never holds older state. der is stored uncompressed: a CRL is mostly random serials.
CREATE TABLE crls (
  ca_id          uuid PRIMARY KEY REFERENCES certificate_authorities (id),
  changes        bigint NOT NULL DEFAULT 0,
  built_through  bigint NOT NULL DEFAULT 0,
  crl_number     bigint NOT NULL DEFAULT 0 CHECK (crl_number >= 0),
  this_update    timestamptz,
  next_update    timestamptz,
  built_on       timestamptz,
  entries        integer,
  sha256         bytea,
  der            bytea,
  CHECK ((crl_number = 0) = (der IS NULL)),
  CHECK (der IS NULL OR (this_update IS NOT NULL AND next_update > this_update AND built_on IS NOT NULL
    AND entries IS NOT NULL AND sha256 IS NOT NULL))
);
ALTER TABLE crls ALTER COLUMN der SET STORAGE EXTERNAL;
CREATE INDEX crls_refresh_idx ON crls (this_update) WHERE crl_number > 0;
