-- Account-level mTLS certificates (Cloudflare's mtls_certificates): an uploaded CA (ca = true,
-- BYOCA) or a leaf with its private key (ca = false, for the outbound binding).
-- certificates is the normalised PEM chain exactly as the API returns it. The private key of a
-- ca = false upload is only stored sealed (AES-256-GCM under the master key, AAD =
-- mtls_certificates ‖ id); a CA upload never has one. A ca = true row has a certificate_authorities
-- row of kind 'byoca' with the same id, holding only the first certificate (the trust anchor).
-- serial_number is decimal (as Cloudflare shows it); issuer is RFC 4514, most specific RDN first.
-- seq gives a stable listing order among rows uploaded in the same instant.
CREATE TABLE mtls_certificates (
  id                  uuid PRIMARY KEY,
  seq                 bigserial NOT NULL,
  account_id          text NOT NULL REFERENCES accounts (id),
  ca                  boolean NOT NULL,
  name                text NOT NULL DEFAULT '',
  certificates        text NOT NULL,
  sealed_private_key  bytea,
  issuer              text NOT NULL,
  serial_number       text NOT NULL,
  signature           text NOT NULL,
  expires_on          timestamptz NOT NULL,
  uploaded_on         timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT mtls_certificates_key_only_for_leaves CHECK (ca = (sealed_private_key IS NULL))
);
CREATE INDEX mtls_certificates_account_idx ON mtls_certificates (account_id, uploaded_on, seq);
