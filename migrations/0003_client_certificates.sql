-- Client certificates issued by a managed CA. status is 'active' or 'revoked'; a revoked row keeps
-- its reason: 'certificateHold' (reactivatable) or a final RFC 5280 reason.
-- seq gives a stable order for paging among certificates issued in the same second.
CREATE TABLE client_certificates (
  id                   uuid PRIMARY KEY,
  seq                  bigserial NOT NULL,
  zone_id              text NOT NULL REFERENCES zones (id),
  ca_id                uuid NOT NULL REFERENCES certificate_authorities (id),
  serial               bytea NOT NULL,
  status               text NOT NULL CHECK (status IN ('active', 'revoked')),
  revocation_reason    text CHECK (revocation_reason IN ('certificateHold', 'unspecified', 'keyCompromise',
                         'cACompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation')),
  revoked_on           timestamptz,
  certificate_pem      text NOT NULL,
  csr_pem              text NOT NULL,
  common_name          text,
  country              text,
  state                text,
  location             text,
  organization         text,
  organizational_unit  text,
  fingerprint_sha256   text NOT NULL,
  ski                  text NOT NULL,
  signature            text NOT NULL,
  validity_days        integer NOT NULL,
  issued_on            timestamptz NOT NULL,
  expires_on           timestamptz NOT NULL,
  CONSTRAINT client_certificates_ca_serial_key UNIQUE (ca_id, serial),
  CHECK ((status = 'revoked') = (revocation_reason IS NOT NULL AND revoked_on IS NOT NULL))
);
CREATE INDEX client_certificates_zone_order_idx ON client_certificates (zone_id, issued_on DESC, seq DESC);
CREATE INDEX client_certificates_zone_status_idx ON client_certificates (zone_id, status, issued_on DESC, seq DESC);
