import { useFrame } from '../lib/frame.ts';
import { reconnectMarket, state, store } from '../market.ts';

export function ConnBanner() {
  useFrame(store);
  const label =
    state.conn === 'live'
      ? 'Live (stream)'
      : state.conn === 'polling'
        ? 'Live (polling every second; stream unavailable)'
        : state.conn === 'connecting'
          ? 'Connecting…'
          : 'Connection lost: reconnecting…';
  return (
    <div className={`conn ${state.conn}`} role="status" aria-live="polite" data-conn={state.conn}>
      <span className="dot" aria-hidden="true" /> {label}
      {state.conn === 'lost' && (
        <button type="button" onClick={reconnectMarket}>
          Retry now
        </button>
      )}
    </div>
  );
}
