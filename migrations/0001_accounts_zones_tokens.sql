-- Accounts own zones, tokens and CAs. Ids follow Cloudflare: accounts and zones are 32 lowercase hex.
CREATE TABLE accounts (
  id          text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{32}$'),
  name        text NOT NULL,
  created_on  timestamptz NOT NULL DEFAULT now()
);

-- A zone is a DNS name, unique across the deployment: a hostname belongs to the zone with the
-- longest name that is a suffix of it on a label boundary.
CREATE TABLE zones (
  id          text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{32}$'),
  account_id  text NOT NULL REFERENCES accounts (id),
  name        text NOT NULL,
  created_on  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT zones_name_key UNIQUE (name)
);
CREATE INDEX zones_account_idx ON zones (account_id);

-- API tokens are stored as SHA-256 digests only: 256 random bits need no slow KDF.
CREATE TABLE api_tokens (
  id          uuid PRIMARY KEY,
  account_id  text NOT NULL REFERENCES accounts (id),
  name        text NOT NULL,
  digest      bytea NOT NULL UNIQUE,
  scopes      text[] NOT NULL,
  created_on  timestamptz NOT NULL DEFAULT now(),
  revoked_on  timestamptz
);
CREATE INDEX api_tokens_account_idx ON api_tokens (account_id);

-- settings holds deployment-wide values, such as the master-key canary checked at start-up.
CREATE TABLE settings (
  name   text PRIMARY KEY,
  value  bytea NOT NULL
);
