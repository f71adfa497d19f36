-- Order classes and trailing stops (issue 13): bracket / oco / oto legs and trailing stops in the
-- orders table. Numbered 010 to leave room for migrations other branches add meanwhile.
--
-- order_class: 'simple' for plain orders; parent_id: a leg's entry (or an oco's limit);
-- trail_price (cents) / trail_bps: a trailing stop's trail, one of them 0; hwm: its high-water
-- mark (0 until it tracks); activation_price: 0 for none. 'held' is the status of an exit leg
-- waiting for its entry to fill.

ALTER TABLE orders DROP CONSTRAINT orders_type_check;
ALTER TABLE orders ADD CONSTRAINT orders_type_check
  CHECK (type IN ('market', 'limit', 'stop', 'stop_limit', 'trailing_stop'));
ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check
  CHECK (status IN ('held', 'new', 'partially_filled', 'filled', 'canceled', 'expired', 'rejected'));

ALTER TABLE orders ADD COLUMN order_class text NOT NULL DEFAULT 'simple'
  CHECK (order_class IN ('simple', 'bracket', 'oco', 'oto'));
ALTER TABLE orders ADD COLUMN parent_id bigint;
ALTER TABLE orders ADD COLUMN trail_price bigint NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN trail_bps integer NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN hwm bigint NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN activation_price bigint NOT NULL DEFAULT 0;

DROP INDEX orders_open_by_account;
CREATE INDEX orders_open_by_account ON orders (account, id) WHERE status IN ('held', 'new', 'partially_filled');
CREATE INDEX orders_parent_id ON orders (parent_id) WHERE parent_id IS NOT NULL;
