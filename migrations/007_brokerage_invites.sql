-- Invitations to join a brokerage. Self-registration into a brokerage other than the default one
-- needs one: a broker of that brokerage (or an admin) creates it, and the code is good for one
-- registration before it expires. Only an HMAC of the code is stored (like API key secrets), so a
-- database copy cannot be used to join.

CREATE TABLE brokerage_invites (
  id uuid PRIMARY KEY,
  seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  brokerage_id uuid NOT NULL REFERENCES brokerages (id),
  code_hash text NOT NULL UNIQUE,
  created_by uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  used_by uuid REFERENCES users (id) ON DELETE SET NULL,
  CONSTRAINT brokerage_invites_expiry CHECK (expires_at > created_at)
);
CREATE INDEX brokerage_invites_brokerage_idx ON brokerage_invites (brokerage_id, seq);
