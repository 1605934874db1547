-- EST simplereenroll (RFC 7030 §4.2.2) issues a successor; the old certificate stays valid until
-- its notAfter and records which certificate replaced it. NULL for every certificate that was
-- never renewed, including all rows that predate this migration.
ALTER TABLE client_certificates
  ADD COLUMN superseded_by uuid REFERENCES client_certificates (id);
