-- The FIX gateway's tables (src/services/fix): FIX 4.4 sessions with their sequence numbers,
-- the application messages they sent (for ResendRequest), the ClOrdIDs each session used and what
-- each session has reported about each order. The FIX service is their only writer. Plain SQL that
-- runs unchanged on PostgreSQL 15+ and PGlite.
--
-- A session is one (API key, SenderCompID): the same key may run several sessions under different
-- SenderCompIDs, each with its own sequence numbers. Times are written by the service.

CREATE TABLE fix_sessions (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  api_key_id text NOT NULL,
  sender_comp_id text NOT NULL,
  -- the key owner's user id (their account at the exchange)
  user_id text NOT NULL,
  -- next MsgSeqNum this side sends, next one expected from the client
  next_sender_seq integer NOT NULL CHECK (next_sender_seq >= 1),
  next_target_seq integer NOT NULL CHECK (next_target_seq >= 1),
  -- sequence numbers are reserved in blocks before they are used: after a crash the session goes
  -- on from here, so no number is ever sent twice (the skipped ones are gap-filled on request)
  sender_seq_reserved integer NOT NULL CHECK (sender_seq_reserved >= next_sender_seq),
  -- false while a process serves the session; true after it stopped cleanly
  clean boolean NOT NULL,
  -- bumped by each logon: a write carrying an older epoch is refused (fencing of a stale process)
  owner_epoch integer NOT NULL,
  -- when the current sequence numbers started (the last reset)
  reset_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL,
  last_logon_at timestamptz NOT NULL,
  UNIQUE (api_key_id, sender_comp_id)
);

-- Outbound application messages (ExecutionReport, OrderCancelReject, BusinessMessageReject) as
-- sent, so that a ResendRequest replays them with PossDupFlag=Y; administrative messages are not
-- kept (a resend gap-fills them). Emptied when the session's sequence numbers are reset.
CREATE TABLE fix_messages (
  session_id bigint NOT NULL REFERENCES fix_sessions (id) ON DELETE CASCADE,
  seq integer NOT NULL,
  msg_type text NOT NULL,
  sent_at timestamptz NOT NULL,
  -- the message body as given to the FIX engine (strings for prices and times, no header)
  body jsonb,
  -- the encoded message as it went on the wire, '|' for SOH
  raw text NOT NULL,
  PRIMARY KEY (session_id, seq)
);

-- Every ClOrdID a session used, and the order it names: the chain that OrigClOrdID (41) follows.
CREATE TABLE fix_orders (
  session_id bigint NOT NULL REFERENCES fix_sessions (id) ON DELETE CASCADE,
  cl_ord_id text NOT NULL,
  request text NOT NULL CHECK (request IN ('new', 'cancel', 'replace')),
  account text NOT NULL,
  -- null while a new order's outcome is not known yet; 0 when it was not accepted
  order_id bigint,
  orig_cl_ord_id text,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (session_id, cl_ord_id)
);
CREATE INDEX fix_orders_order_idx ON fix_orders (session_id, order_id);

-- What a session has reported about an order so far. At logon, and whenever a report may have been
-- missed, the order's current state is compared with this row and the difference is reported.
CREATE TABLE fix_order_reports (
  session_id bigint NOT NULL REFERENCES fix_sessions (id) ON DELETE CASCADE,
  order_id bigint NOT NULL,
  account text NOT NULL,
  symbol text NOT NULL,
  -- the order's current ClOrdID (a replace or cancel moves it along the chain)
  cl_ord_id text NOT NULL,
  -- the last OrdStatus reported, as the orders service names it ('pending' before the New)
  status text NOT NULL,
  cum_qty bigint NOT NULL,
  -- sum of price × qty of the fills reported, cents
  notional bigint NOT NULL,
  qty bigint NOT NULL,
  price bigint NOT NULL,
  stop_price bigint NOT NULL,
  triggered boolean NOT NULL,
  last_trade_id bigint NOT NULL,
  -- the order's updatedAt (epoch ms) of the last state reported: older observations are stale
  seen_at bigint NOT NULL,
  open boolean NOT NULL,
  PRIMARY KEY (session_id, order_id)
);
CREATE INDEX fix_order_reports_open_idx ON fix_order_reports (session_id) WHERE open;
