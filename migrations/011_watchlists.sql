-- Alpaca-style watchlists (GET/POST/PUT/DELETE /v2/watchlists), owned by the users service: a named,
-- ordered list of symbols per user. Names are unique per user (Alpaca addresses lists by name too).
CREATE TABLE watchlists (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name text NOT NULL,
  symbols text[] NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  UNIQUE (user_id, name)
);
