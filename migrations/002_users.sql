-- The users service's tables: tenants (brokerages), users, login throttling, sessions and their
-- refresh tokens, API keys, JWT signing keys, notifications and price alerts. The users service
-- is their only writer. Plain SQL that runs unchanged on PostgreSQL 15+ and PGlite.
--
-- Times are written by the service from its clock (millisecond values), never with now(), so that
-- tests with a manual clock see the same times the rows carry.
-- `seq` columns exist only to give lists a stable keyset order for cursors.
-- Secrets are never stored: passwords as argon2id PHC strings, refresh tokens and API key secrets
-- as HMAC-SHA256 under a key derived from BOURSE_SECRET, JWT private keys AES-256-GCM encrypted
-- under another key derived from it.

CREATE TABLE brokerages (
  id uuid PRIMARY KEY,
  seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
  created_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX brokerages_name_key ON brokerages (lower(name));

-- Self-registered investors land here unless they name another brokerage.
INSERT INTO brokerages (id, name, created_at)
VALUES ('00000000-0000-4000-8000-000000000001', 'Bourse Direct', '2025-01-01T00:00:00Z');

CREATE TABLE users (
  -- also the user's cash account id at the exchange
  id uuid PRIMARY KEY,
  seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  username text NOT NULL,
  email text NOT NULL,
  display_name text,
  password_hash text NOT NULL,
  role text NOT NULL CHECK (role IN ('investor', 'broker', 'admin')),
  -- the tenant; only an admin may stand outside every brokerage
  brokerage_id uuid REFERENCES brokerages (id),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  CONSTRAINT users_tenant CHECK (role = 'admin' OR brokerage_id IS NOT NULL)
);
-- Case-insensitive uniqueness: 'Alice' and 'alice' are one login.
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE INDEX users_brokerage_idx ON users (brokerage_id, seq);

-- Failed-login counters. `key` is 'u:<user id>' for an existing account and 'n:<hmac of the
-- identifier>' for an unknown one, so that a locked unknown name answers exactly like a locked
-- account (no user enumeration through lockout) and no typed-in identifier is stored in clear.
CREATE TABLE login_throttle (
  key text PRIMARY KEY,
  failures integer NOT NULL CHECK (failures >= 0),
  locked_until timestamptz,
  updated_at timestamptz NOT NULL
);

-- A session is one login: the family of refresh tokens rotated from it. Revoking the session
-- kills every refresh token of the family and every access token that names it (`sid`).
CREATE TABLE auth_sessions (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL,
  -- absolute end of the family, whatever the rotations
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz,
  revoked_reason text
);
CREATE INDEX auth_sessions_user_idx ON auth_sessions (user_id) WHERE revoked_at IS NULL;

CREATE TABLE refresh_tokens (
  token_hash text PRIMARY KEY,
  session_id uuid NOT NULL REFERENCES auth_sessions (id) ON DELETE CASCADE,
  issued_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  -- set when the token is exchanged; presenting it again is reuse and revokes the family
  used_at timestamptz
);
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);

CREATE TABLE api_keys (
  -- the public half, sent as APCA-API-KEY-ID
  id text PRIMARY KEY,
  seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name text,
  secret_hash text NOT NULL,
  created_at timestamptz NOT NULL,
  last_used_at timestamptz,
  revoked_at timestamptz
);
CREATE INDEX api_keys_user_idx ON api_keys (user_id, seq);

CREATE TABLE jwt_signing_keys (
  kid text PRIMARY KEY,
  alg text NOT NULL,
  public_jwk jsonb NOT NULL,
  -- 'v1.<iv>.<ciphertext>.<tag>', AES-256-GCM with the kid as associated data
  private_key_enc text NOT NULL,
  created_at timestamptz NOT NULL,
  -- no longer signs; still verifies until retired_at + access token lifetime + leeway
  retired_at timestamptz
);

CREATE TABLE notifications (
  id uuid PRIMARY KEY,
  seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  kind text NOT NULL,
  title text NOT NULL,
  data jsonb NOT NULL,
  -- identifies the event that caused it: every instance consumes every event, one row results
  dedupe_key text NOT NULL,
  created_at timestamptz NOT NULL,
  read_at timestamptz,
  UNIQUE (user_id, dedupe_key)
);
CREATE INDEX notifications_user_idx ON notifications (user_id, seq);
CREATE INDEX notifications_unread_idx ON notifications (user_id, seq) WHERE read_at IS NULL;

CREATE TABLE price_alerts (
  id uuid PRIMARY KEY,
  seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  symbol text NOT NULL,
  condition text NOT NULL CHECK (condition IN ('above', 'below')),
  price_cents bigint NOT NULL CHECK (price_cents > 0),
  created_at timestamptz NOT NULL,
  -- set once, by whichever instance wins the conditional UPDATE: an alert fires exactly once
  triggered_at timestamptz,
  triggered_price_cents bigint
);
CREATE INDEX price_alerts_active_idx ON price_alerts (symbol, condition, price_cents) WHERE triggered_at IS NULL;
CREATE INDEX price_alerts_user_idx ON price_alerts (user_id, seq);
