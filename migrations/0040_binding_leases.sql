-- binding_leases: a running outbound binding (createBindings) registered as an association of its
-- `ca: false` mTLS certificate. The process renews its lease while it runs; a lease whose
-- expires_on has passed (database clock) no longer counts. An active lease makes DELETE of the
-- certificate answer 409 unless ?force=true; deleting the certificate removes its leases.
CREATE TABLE binding_leases (
  id                   uuid PRIMARY KEY,
  account_id           text NOT NULL REFERENCES accounts (id),
  mtls_certificate_id  uuid NOT NULL REFERENCES mtls_certificates (id) ON DELETE CASCADE,
  binding              text NOT NULL,
  holder               text NOT NULL,
  actor                text NOT NULL,
  created_on           timestamptz NOT NULL DEFAULT now(),
  renewed_on           timestamptz NOT NULL DEFAULT now(),
  expires_on           timestamptz NOT NULL
);
CREATE INDEX binding_leases_certificate_idx ON binding_leases (mtls_certificate_id, expires_on);
