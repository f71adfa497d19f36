-- The market-data service's tables: its feeds (configured at runtime by an admin), candles built
-- from trades or imported from files, and news items. The market-data service is their only
-- writer; other services read md_candles. Plain SQL for PostgreSQL 15+ and PGlite.
--
-- Prices are in currency units (dollars), numeric(20,6). Several market-data instances may write
-- the same candle: every write is an upsert by primary key, so the last writer wins and a repeat
-- changes nothing.

CREATE TABLE md_feeds (
  id text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  kind text NOT NULL CHECK (kind IN ('exchange', 'simulated', 'news')),
  -- lower is preferred: 1 beats 2
  priority integer NOT NULL CHECK (priority BETWEEN 1 AND 1000),
  stale_after_ms integer NOT NULL CHECK (stale_after_ms > 0),
  enabled boolean NOT NULL,
  -- kind-specific settings (simulated: symbols, rate, seed; news: url, interval)
  config jsonb NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);

CREATE TABLE md_candles (
  symbol text NOT NULL,
  timeframe text NOT NULL CHECK (timeframe IN ('1m', '5m', '15m', '1h', '1d')),
  bucket timestamptz NOT NULL,
  open numeric(20, 6) NOT NULL,
  high numeric(20, 6) NOT NULL,
  low numeric(20, 6) NOT NULL,
  close numeric(20, 6) NOT NULL,
  volume bigint NOT NULL,
  vwap numeric(20, 6),
  trades integer NOT NULL,
  source text NOT NULL,
  PRIMARY KEY (symbol, timeframe, bucket)
);

CREATE TABLE md_news (
  id bigserial PRIMARY KEY,
  feed_id text NOT NULL,
  guid text NOT NULL,
  url text,
  title text NOT NULL,
  summary text,
  published_at timestamptz,
  symbols text[] NOT NULL,
  created_at timestamptz NOT NULL,
  UNIQUE (feed_id, guid)
);
-- news by symbol (symbols && ARRAY[...]) and newest first
CREATE INDEX md_news_symbols_idx ON md_news USING gin (symbols);
CREATE INDEX md_news_time_idx ON md_news (published_at DESC, id DESC);
