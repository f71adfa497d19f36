import { useEffect, useRef } from 'react';

export interface Shortcuts {
  /** B / S: the ticket's side */
  onSide: (side: 'buy' | 'sell') => void;
  /** "/": the symbol search */
  onSearch: () => void;
}

/** A field takes the keys typed into it: a shortcut there would eat the letters B and S. */
function typingIn(t: EventTarget | null): boolean {
  const el = t as HTMLElement | null;
  return !!el && (/^(INPUT|SELECT|TEXTAREA)$/.test(el.tagName) || el.isContentEditable === true);
}

/** The terminal's single-key shortcuts, on the window, never while the user types in a field. */
export function useShortcuts(handlers: Shortcuts): void {
  const ref = useRef(handlers);
  ref.current = handlers;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented || typingIn(e.target)) return;
      const key = e.key.toLowerCase();
      if (key === 'b' || key === 's') {
        e.preventDefault();
        ref.current.onSide(key === 'b' ? 'buy' : 'sell');
      } else if (e.key === '/') {
        e.preventDefault();
        ref.current.onSearch();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}
