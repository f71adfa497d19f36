import type { Load } from '../hooks.ts';

/** The visible state of a panel whose route is missing (404) or down (502/503). */
export function Unavailable({ what, detail }: { what: string; detail?: string }) {
  return (
    <p className="unavailable" role="note">
      {what} unavailable{detail ? ` (${detail})` : ''}.
    </p>
  );
}

export function LoadState<T>({ load, what }: { load: Load<T>; what: string }) {
  if (load.state === 'loading') return <p className="muted">Loading {what}…</p>;
  if (load.state === 'unavailable') return <Unavailable what={what} detail={load.message} />;
  if (load.state === 'error')
    return (
      <p className="error" role="alert">
        {what}: {load.message}
      </p>
    );
  return null;
}
