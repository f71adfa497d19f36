import { useEffect, useState } from 'react';
import { useApi } from '../hooks.ts';
import { onNews } from '../market.ts';
import type { NewsItem } from '../types.ts';
import { LoadState } from './Unavailable.tsx';

export function News({ symbol }: { symbol: string }) {
  const { load } = useApi<{ news?: NewsItem[] } | NewsItem[]>(
    '/v1/market-data/news',
    {
      query: { symbols: symbol, limit: 20 },
    },
    60_000,
  );
  const [live, setLive] = useState<NewsItem[]>([]);
  useEffect(() => {
    setLive([]);
    return onNews((n) => {
      if (!n.symbols || n.symbols.includes(symbol) || n.symbol === symbol)
        setLive((l) => [n, ...l].slice(0, 20));
    });
  }, [symbol]);
  const items = load.state === 'ok' ? (Array.isArray(load.data) ? load.data : (load.data.news ?? [])) : [];
  const all = [...live, ...items].slice(0, 20);
  return (
    <section className="panel news" aria-labelledby="news-title">
      <h2 id="news-title">News {symbol}</h2>
      {load.state !== 'ok' && live.length === 0 ? (
        <LoadState load={load} what="News" />
      ) : all.length === 0 ? (
        <p className="muted">No news for {symbol}.</p>
      ) : (
        <ul>
          {all.map((n, i) => {
            const when = n.created_at ?? n.published_at;
            const title = n.headline ?? n.title ?? '(untitled)';
            return (
              <li key={String(n.id ?? i)}>
                {n.url ? (
                  <a href={n.url} target="_blank" rel="noreferrer noopener">
                    {title}
                  </a>
                ) : (
                  title
                )}
                <span className="muted small">
                  {' '}
                  {n.source ?? ''} {when ? new Date(when).toLocaleTimeString() : ''}
                </span>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
