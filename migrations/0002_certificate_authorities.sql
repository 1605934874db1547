-- A CA that client certificates chain to. kind 'managed': Gatehouse holds its key (sealed with the
-- master key, AAD = certificate_authorities ‖ id). kind 'byoca': an uploaded CA certificate, no key.
-- Rotation: a new managed CA becomes active; the old one stays (active = false) to keep serving
-- CRL/OCSP for what it issued.
CREATE TABLE certificate_authorities (
  id               uuid PRIMARY KEY,
  account_id       text NOT NULL REFERENCES accounts (id),
  kind             text NOT NULL CHECK (kind IN ('managed', 'byoca')),
  name             text NOT NULL,
  certificate_pem  text NOT NULL,
  certificate_der  bytea NOT NULL,
  subject_der      bytea NOT NULL,
  ski              bytea NOT NULL,
  key_type         text,
  sealed_key       bytea,
  not_before       timestamptz NOT NULL,
  not_after        timestamptz NOT NULL,
  active           boolean NOT NULL DEFAULT true,
  created_on       timestamptz NOT NULL DEFAULT now(),
  CHECK (kind = 'byoca' OR (sealed_key IS NOT NULL AND key_type IS NOT NULL))
);
CREATE INDEX certificate_authorities_account_idx ON certificate_authorities (account_id);
CREATE UNIQUE INDEX certificate_authorities_one_active_managed
  ON certificate_authorities (account_id) WHERE kind = 'managed' AND active;
