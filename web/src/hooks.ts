import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, api, type RequestOptions } from './api.ts';

export type Load<T> =
  | { state: 'loading' }
  | { state: 'ok'; data: T }
  | { state: 'unavailable'; message: string }
  | { state: 'error'; message: string };

/** GET a resource; `every` ms re-reads it (while the page is visible); reload() on demand. */
export function useApi<T>(path: string | null, opts: RequestOptions = {}, every?: number) {
  const [load, setLoad] = useState<Load<T>>({ state: 'loading' });
  const key = path === null ? null : `${path}?${JSON.stringify(opts.query ?? {})}`;
  const optsRef = useRef(opts);
  optsRef.current = opts;
  const pathRef = useRef(path);
  pathRef.current = path;
  const seq = useRef(0);
  const reload = useCallback(async () => {
    // key (path + query) names what to read; the refs hold its current values
    if (key === null || pathRef.current === null) return;
    const mine = ++seq.current;
    try {
      const data = await api<T>(pathRef.current, optsRef.current);
      if (mine === seq.current) setLoad({ state: 'ok', data });
    } catch (err) {
      if (mine !== seq.current) return;
      if (err instanceof ApiError && err.unavailable)
        setLoad({ state: 'unavailable', message: `${err.status || 'network'}: ${err.message}` });
      else setLoad({ state: 'error', message: err instanceof Error ? err.message : String(err) });
    }
  }, [key]);
  useEffect(() => {
    setLoad({ state: 'loading' });
    void reload();
    if (!every) return;
    const t = setInterval(() => {
      if (document.visibilityState !== 'hidden') void reload();
    }, every);
    return () => clearInterval(t);
  }, [reload, every]);
  return { load, reload };
}
