/** Client-side routes on the History API (the gateway answers index.html for them). */
import { useSyncExternalStore } from 'react';
import { listen } from './lib/frame.ts';

const listeners = new Set<() => void>();
const notify = () => {
  for (const l of listeners) l();
};
if (typeof window !== 'undefined') window.addEventListener('popstate', notify);

export function navigate(path: string): void {
  if (path === location.pathname + location.search) return;
  history.pushState(null, '', path);
  notify();
}

export function usePath(): string {
  return useSyncExternalStore(
    (l) => listen(listeners, l),
    () => location.pathname,
    () => '/',
  );
}
