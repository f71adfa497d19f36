import { useEffect, useState } from 'react';
import { onNotification } from '../notifications.ts';

interface Toast {
  id: string;
  text: string;
  tone: 'info' | 'good' | 'bad';
}

const listeners = new Set<(t: Toast) => void>();
let n = 0;
/** A transient message in the corner (announced to screen readers). */
export function toast(text: string, tone: Toast['tone'] = 'info'): void {
  const t = { id: `t${++n}`, text, tone };
  for (const l of listeners) l(t);
}

export function Toasts() {
  const [toasts, setToasts] = useState<Toast[]>([]);
  useEffect(() => {
    const add = (t: Toast) => {
      setToasts((list) => [...list.slice(-4), t]);
      setTimeout(() => setToasts((list) => list.filter((x) => x.id !== t.id)), 6_000);
    };
    listeners.add(add);
    const off = onNotification((x) =>
      add({
        id: `n${x.id}`,
        text: x.title,
        tone: x.kind === 'order_fill' ? 'good' : x.kind === 'order_rejected' ? 'bad' : 'info',
      }),
    );
    return () => {
      listeners.delete(add);
      off();
    };
  }, []);
  return (
    <section className="toasts" aria-live="polite" aria-label="Notifications">
      {toasts.map((t) => (
        <div key={t.id} className={`toast ${t.tone}`} role="status">
          {t.text}
          <button
            type="button"
            aria-label="Dismiss"
            onClick={() => setToasts((list) => list.filter((x) => x.id !== t.id))}
          >
            ×
          </button>
        </div>
      ))}
    </section>
  );
}
