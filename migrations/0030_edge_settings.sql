-- Per-zone settings of the mTLS edge: where requests for the zone's hostnames go (an http or https
-- origin URL, NULL until set) and what happens to a request whose client certificate did not
-- verify: 'block' answers 403, 'forward' passes it on with the verdict headers.
-- A zone without a row uses the defaults (no origin, block).
CREATE TABLE edge_settings (
  zone_id      text PRIMARY KEY REFERENCES zones (id),
  origin       text,
  policy       text NOT NULL DEFAULT 'block' CHECK (policy IN ('block', 'forward')),
  modified_on  timestamptz NOT NULL DEFAULT now()
);
