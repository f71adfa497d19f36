/** The API's shapes the terminal reads (Alpaca v2, decimal strings). */

export type Role = 'investor' | 'broker' | 'admin';

export interface Me {
  id: string;
  username: string;
  email: string;
  display_name: string | null;
  role: Role;
  brokerage_id: string | null;
}

export interface Account {
  id: string;
  cash: string;
  buying_power: string;
  equity: string;
  last_equity: string;
  long_market_value: string;
  bourse_reserved_cash?: string;
}

export interface Order {
  id: string;
  client_order_id: string;
  created_at: string;
  symbol: string;
  qty: string;
  filled_qty: string;
  filled_avg_price: string | null;
  type: 'market' | 'limit' | 'stop' | 'stop_limit' | 'trailing_stop';
  side: 'buy' | 'sell';
  time_in_force: 'day' | 'gtc' | 'ioc' | 'fok';
  limit_price: string | null;
  stop_price: string | null;
  status: string;
  order_class?: 'simple' | 'bracket' | 'oco' | 'oto';
  /** an entry's legs: take-profit first, then stop-loss */
  legs?: Order[] | null;
  trail_price?: string | null;
  trail_percent?: string | null;
  /** a trailing stop's high-water mark */
  hwm?: string | null;
}

export interface Position {
  symbol: string;
  qty: string;
  qty_available: string;
  avg_entry_price: string;
  market_value: string;
  cost_basis: string;
  unrealized_pl: string;
  current_price: string;
  lastday_price: string;
  change_today: string;
}

export interface Fill {
  id: string;
  activity_type: string;
  transaction_time?: string;
  type?: string;
  price?: string;
  qty?: string;
  side?: string;
  symbol?: string;
  order_id?: string;
}

export interface Asset {
  symbol: string;
  name: string;
  status: string;
  tradable: boolean;
  price_increment: string;
  min_order_size: string;
}

export interface Level {
  price: string;
  size: string;
  orders: number;
}

export interface Snapshot {
  symbol: string;
  latest_trade: { price: string; size: string; timestamp: string; trade_id: number } | null;
  latest_quote: { bid_price: string | null; bid_size: string; ask_price: string | null; ask_size: string };
  book: { bids: Level[]; asks: Level[] };
  seq: number;
}

export interface Bar {
  t: string;
  o: number;
  h: number;
  l: number;
  c: number;
  v: number;
  vw?: number;
  n?: number;
}

export interface Notification {
  id: string;
  kind: string;
  title: string;
  data: Record<string, unknown>;
  created_at: string;
  read_at: string | null;
}

export interface NewsItem {
  id?: string | number;
  headline?: string;
  title?: string;
  summary?: string;
  source?: string;
  url?: string;
  created_at?: string;
  published_at?: string;
  symbols?: string[];
}
