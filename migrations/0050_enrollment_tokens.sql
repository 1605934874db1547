-- Enrollment tokens let devices enroll into one zone over EST (RFC 7030 simpleenroll and
-- serverkeygen). Only the SHA-256 digest of a token's value is stored: the value is shown once.
-- `uses` is counted by a conditional UPDATE inside the transaction that records the certificate,
-- so concurrent enrollments can never exceed max_uses; the CHECK is the last line of defence.
-- A DELETE through the API sets revoked_on: the row stays, so audit events naming it still resolve.
CREATE TABLE enrollment_tokens (
  id                   uuid PRIMARY KEY,
  account_id           text NOT NULL REFERENCES accounts (id),
  zone_id              text NOT NULL REFERENCES zones (id),
  name                 text NOT NULL,
  digest               bytea NOT NULL,
  max_uses             integer CHECK (max_uses IS NULL OR max_uses >= 1),
  uses                 integer NOT NULL DEFAULT 0,
  expires_on           timestamptz,
  common_name_pattern  text,
  validity_days        integer NOT NULL DEFAULT 365 CHECK (validity_days BETWEEN 1 AND 3650),
  created_on           timestamptz NOT NULL DEFAULT now(),
  revoked_on           timestamptz,
  CONSTRAINT enrollment_tokens_digest_key UNIQUE (digest),
  CHECK (uses >= 0 AND (max_uses IS NULL OR uses <= max_uses))
);
CREATE INDEX enrollment_tokens_zone_idx ON enrollment_tokens (zone_id, created_on, id);
