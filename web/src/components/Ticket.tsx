import { type FormEvent, useEffect, useId, useRef, useState } from 'react';
import { ApiError, api } from '../api.ts';
import { fmtCents } from '../lib/money.ts';
import {
  checkTicket,
  classLabel,
  type OrderClass,
  type OrderType,
  type Side,
  type TicketContext,
  type TimeInForce,
  type TrailUnit,
  typeLabel,
} from '../lib/ticket.ts';
import type { Order } from '../types.ts';

export interface TicketProps {
  symbol: string;
  context: TicketContext;
  /** a price picked in the book: fills the limit price */
  pickedPrice?: { cents: number; n: number } | null;
  /** a side chosen from the keyboard (B / S): sets it and focuses the quantity */
  sideRequest?: { side: Side; n: number } | null;
  onPlaced?: (order: Order) => void;
  /** test seam; default POST /v2/orders */
  submit?: (body: unknown) => Promise<Order>;
}

const postOrder = (body: unknown) => api<Order>('/v2/orders', { method: 'POST', body });

export function Ticket({
  symbol,
  context,
  pickedPrice,
  sideRequest,
  onPlaced,
  submit = postOrder,
}: TicketProps) {
  const id = useId();
  const [side, setSide] = useState<Side>('buy');
  const [type, setType] = useState<OrderType>('limit');
  const [tif, setTif] = useState<TimeInForce>('gtc');
  const [qty, setQty] = useState('');
  const [limitPrice, setLimitPrice] = useState('');
  const [stopPrice, setStopPrice] = useState('');
  const [trail, setTrail] = useState('');
  const [trailUnit, setTrailUnit] = useState<TrailUnit>('price');
  const [orderClass, setOrderClass] = useState<OrderClass>('simple');
  const [takeProfit, setTakeProfit] = useState('');
  const [stopLoss, setStopLoss] = useState('');
  const [stopLossTrail, setStopLossTrail] = useState('');
  const [tried, setTried] = useState(false);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);

  const qtyInput = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (pickedPrice) setLimitPrice((pickedPrice.cents / 100).toFixed(2));
  }, [pickedPrice]);
  useEffect(() => {
    if (!sideRequest) return;
    setSide(sideRequest.side);
    qtyInput.current?.focus();
  }, [sideRequest]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new symbol starts a clean ticket
  useEffect(() => {
    setResult(null);
    setTried(false);
  }, [symbol]);

  const check = checkTicket(
    {
      symbol,
      side,
      type,
      tif,
      qty,
      limitPrice,
      stopPrice,
      trail,
      trailUnit,
      orderClass,
      takeProfit,
      stopLoss,
      stopLossTrail,
    },
    context,
  );
  const show = (f: keyof typeof check.errors, dirty: boolean) =>
    tried || dirty ? check.errors[f] : undefined;
  const qtyError = show('qty', qty !== '');
  const limitError = show('limit_price', limitPrice !== '');
  const stopError = show('stop_price', stopPrice !== '');
  const formError = show('form', qty !== '');
  const trailError = show('trail', trail !== '');
  const tpError = show('take_profit', takeProfit !== '');
  const slError = show('stop_loss', stopLoss !== '' || stopLossTrail !== '');

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    setTried(true);
    setResult(null);
    if (!check.body) return;
    setBusy(true);
    try {
      const order = await submit({ ...check.body, client_order_id: crypto.randomUUID() });
      const price = order.limit_price ? ` @ ${order.limit_price}` : '';
      setResult({
        ok: true,
        text: `Order ${order.status}: ${order.side} ${order.qty} ${order.symbol} ${typeLabel[order.type]}${price}`,
      });
      setTried(false);
      onPlaced?.(order);
    } catch (err) {
      const msg = err instanceof ApiError ? err.message : String(err);
      setResult({ ok: false, text: `Order refused: ${msg}` });
    } finally {
      setBusy(false);
    }
  }

  const needsLimit = type === 'limit' || type === 'stop_limit';
  const needsStop = type === 'stop' || type === 'stop_limit';
  const est = check.estimate;
  return (
    <form className={`panel ticket ${side}`} onSubmit={onSubmit} aria-labelledby={`${id}-t`} noValidate>
      <h2 id={`${id}-t`}>Order ticket {symbol}</h2>
      <fieldset className="sides">
        <legend className="sr-only">Side</legend>
        {(['buy', 'sell'] as const).map((s) => (
          <label key={s} className={`side ${s}${side === s ? ' on' : ''}`}>
            <input
              type="radio"
              name={`${id}-side`}
              value={s}
              checked={side === s}
              onChange={() => setSide(s)}
            />
            {s === 'buy' ? 'Buy' : 'Sell'}
          </label>
        ))}
      </fieldset>
      <div className="row2">
        <label>
          Type
          <select aria-label="Type" value={type} onChange={(e) => setType(e.target.value as OrderType)}>
            {(Object.keys(typeLabel) as OrderType[]).map((t) => (
              <option key={t} value={t}>
                {typeLabel[t]}
              </option>
            ))}
          </select>
        </label>
        <label>
          Time in force
          <select
            aria-label="Time in force"
            value={tif}
            onChange={(e) => setTif(e.target.value as TimeInForce)}
          >
            <option value="day">Day</option>
            <option value="gtc">Good till cancelled</option>
            <option value="ioc">Immediate or cancel</option>
            <option value="fok">Fill or kill</option>
          </select>
        </label>
      </div>
      <label>
        Class
        <select
          aria-label="Class"
          value={orderClass}
          onChange={(e) => setOrderClass(e.target.value as OrderClass)}
        >
          {(Object.keys(classLabel) as OrderClass[]).map((c) => (
            <option key={c} value={c}>
              {classLabel[c]}
            </option>
          ))}
        </select>
      </label>
      <label>
        Quantity
        <input
          ref={qtyInput}
          inputMode="numeric"
          value={qty}
          onChange={(e) => setQty(e.target.value)}
          aria-invalid={qtyError ? true : undefined}
          aria-describedby={qtyError ? `${id}-qe` : undefined}
        />
      </label>
      {qtyError && (
        <p id={`${id}-qe`} className="field-error">
          {qtyError}
        </p>
      )}
      {needsStop && (
        <>
          <label>
            Stop price
            <input
              inputMode="decimal"
              value={stopPrice}
              onChange={(e) => setStopPrice(e.target.value)}
              aria-invalid={stopError ? true : undefined}
              aria-describedby={stopError ? `${id}-se` : undefined}
            />
          </label>
          {stopError && (
            <p id={`${id}-se`} className="field-error">
              {stopError}
            </p>
          )}
        </>
      )}
      {needsLimit && (
        <>
          <label>
            Limit price
            <input
              inputMode="decimal"
              value={limitPrice}
              onChange={(e) => setLimitPrice(e.target.value)}
              aria-invalid={limitError ? true : undefined}
              aria-describedby={limitError ? `${id}-le` : undefined}
            />
          </label>
          {limitError && (
            <p id={`${id}-le`} className="field-error">
              {limitError}
            </p>
          )}
        </>
      )}
      {(type === 'trailing_stop' || stopLossTrail !== '') && (
        <label>
          Trail in
          <select
            aria-label="Trail in"
            value={trailUnit}
            onChange={(e) => setTrailUnit(e.target.value as TrailUnit)}
          >
            <option value="price">Dollars</option>
            <option value="percent">Percent</option>
          </select>
        </label>
      )}
      {type === 'trailing_stop' && (
        <Field id={`${id}-tr`} label="Trail" value={trail} onChange={setTrail} error={trailError} />
      )}
      {(orderClass === 'bracket' || orderClass === 'oto') && (
        <Field
          id={`${id}-tp`}
          label="Take profit"
          value={takeProfit}
          onChange={setTakeProfit}
          error={tpError}
        />
      )}
      {orderClass !== 'simple' && (
        <>
          <Field id={`${id}-sl`} label="Stop loss" value={stopLoss} onChange={setStopLoss} error={slError} />
          <Field
            id={`${id}-slt`}
            label="or trailing stop loss"
            value={stopLossTrail}
            onChange={setStopLossTrail}
          />
        </>
      )}
      <dl className="estimate" aria-label="Estimate">
        <dt>Buying power</dt>
        <dd className="num">{fmtCents(context.buyingPowerCents)}</dd>
        {side === 'sell' && (
          <>
            <dt>Shares available</dt>
            <dd className="num">{context.availableShares ?? '—'}</dd>
          </>
        )}
        <dt>Est. {side === 'buy' ? 'cost' : 'proceeds'}</dt>
        <dd className="num" data-testid="est-notional">
          {est ? fmtCents(est.notionalCents) : '—'}
        </dd>
        <dt>Est. fee {est ? `(${est.liquidity}, ${est.liquidity === 'maker' ? 1 : 3} bps)` : ''}</dt>
        <dd className="num" data-testid="est-fee">
          {est ? fmtCents(est.feeCents) : '—'}
        </dd>
        <dt>Est. total</dt>
        <dd className="num" data-testid="est-total">
          {est ? fmtCents(est.totalCents) : '—'}
        </dd>
      </dl>
      {formError && (
        <p className="field-error" role="alert">
          {formError}
        </p>
      )}
      <button type="submit" className={`primary ${side}`} disabled={busy}>
        {side === 'buy' ? 'Buy' : 'Sell'} {symbol}
      </button>
      {result && (
        <p className={result.ok ? 'result ok' : 'result bad'} role={result.ok ? 'status' : 'alert'}>
          {result.text}
        </p>
      )}
    </form>
  );
}

/** A decimal input with its label and error text. */
function Field(props: {
  id: string;
  label: string;
  value: string;
  onChange: (v: string) => void;
  error?: string | undefined;
}) {
  const { id, label, value, onChange, error } = props;
  return (
    <>
      <label>
        {label}
        <input
          inputMode="decimal"
          value={value}
          onChange={(e) => onChange(e.target.value)}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? `${id}-e` : undefined}
        />
      </label>
      {error && (
        <p id={`${id}-e`} className="field-error">
          {error}
        </p>
      )}
    </>
  );
}
