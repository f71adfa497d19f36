/**
 * A tiny external store whose listeners are told at most once per animation frame: live data
 * may change hundreds of times a second, the screen needs it only when it paints.
 */
import { useSyncExternalStore } from 'react';

export interface FrameStore {
  /** call after mutating; listeners run on the next frame */
  touch(): void;
  subscribe(listener: () => void): () => void;
  version(): number;
}

const raf: (cb: () => void) => unknown =
  typeof requestAnimationFrame === 'function'
    ? (cb) => requestAnimationFrame(cb)
    : (cb) => setTimeout(cb, 16);

export function frameStore(): FrameStore {
  const listeners = new Set<() => void>();
  let v = 0;
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    v++;
    for (const l of listeners) l();
  };
  return {
    touch() {
      if (scheduled) return;
      scheduled = true;
      raf(flush);
    },
    subscribe(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    version: () => v,
  };
}

export function useFrame(store: FrameStore): number {
  return useSyncExternalStore(store.subscribe, store.version, store.version);
}

/** Adds a listener to a set; the returned function removes it. */
export function listen<T>(set: Set<T>, l: T): () => void {
  set.add(l);
  return () => {
    set.delete(l);
  };
}
