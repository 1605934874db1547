-- Append-only audit trail of every write that changes access. Never a key, a token or a CSR body.
CREATE TABLE audit_events (
  id           bigserial PRIMARY KEY,
  occurred_on  timestamptz NOT NULL DEFAULT now(),
  account_id   text,
  actor        text NOT NULL,
  request_id   text,
  source_ip    text,
  action       text NOT NULL,
  object_type  text NOT NULL,
  object_id    text,
  ca_id        uuid,
  serial       text,
  old_status   text,
  new_status   text,
  reason       text
);
CREATE INDEX audit_events_account_idx ON audit_events (account_id, occurred_on);

CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only';
END $$;
CREATE TRIGGER audit_events_no_update_or_delete
  BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();

-- Idempotency-Key on issuance: the same key and body replay the stored response for 24 h.
CREATE TABLE idempotency_keys (
  account_id    text NOT NULL REFERENCES accounts (id),
  key           text NOT NULL,
  request_hash  bytea NOT NULL,
  status_code   integer NOT NULL,
  response      jsonb NOT NULL,
  created_on    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, key)
);
