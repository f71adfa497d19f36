// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { useState } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { loadWatchlist, saveWatchlist } from '../lib/watchlist.ts';
import { Watchlist } from './Watchlist.tsx';

afterEach(() => {
  cleanup();
  localStorage.clear();
});

const KNOWN = new Set(['AAPL', 'MSFT', 'SPY', 'OLDCO']);

/** the terminal's wiring in small: the list kept in this browser */
function Harness() {
  const [list, setList] = useState<string[]>(() => loadWatchlist() ?? ['AAPL', 'MSFT']);
  const edit = (next: string[]) => {
    saveWatchlist(next);
    setList(next);
  };
  return (
    <Watchlist
      symbols={list}
      selected="AAPL"
      onSelect={() => {}}
      known={KNOWN}
      onAdd={(s) => edit([...list, s])}
      onRemove={(s) => edit(list.filter((x) => x !== s))}
    />
  );
}

const shown = () => screen.getAllByRole('button', { name: /^Select / }).map((b) => b.textContent);
const form = () => screen.getByRole('form', { name: 'Add to the watchlist' });
function add(text: string) {
  fireEvent.change(within(form()).getByLabelText('Symbol to add'), { target: { value: text } });
  fireEvent.click(within(form()).getByRole('button', { name: 'Add' }));
}

describe('editable watchlist', () => {
  it('adds a listed or imported symbol, removes one, and keeps the list across a reload', () => {
    render(<Harness />);
    expect(shown()).toEqual(['AAPL', 'MSFT']);
    add(' oldco ');
    expect(shown()).toEqual(['AAPL', 'MSFT', 'OLDCO']);
    fireEvent.click(screen.getByRole('button', { name: 'Remove MSFT from the watchlist' }));
    expect(shown()).toEqual(['AAPL', 'OLDCO']);
    expect(loadWatchlist()).toEqual(['AAPL', 'OLDCO']);
    cleanup();
    render(<Harness />);
    expect(shown()).toEqual(['AAPL', 'OLDCO']);
  });

  it('refuses an unknown symbol, a duplicate and a malformed one, saying why', () => {
    render(<Harness />);
    add('ZZZ');
    expect(screen.getByRole('alert').textContent).toBe('ZZZ is neither listed nor imported here');
    add('aapl');
    expect(screen.getByRole('alert').textContent).toBe('AAPL is already in the watchlist');
    add('1X');
    expect(screen.getByRole('alert').textContent).toBe('1X is not a symbol');
    expect(shown()).toEqual(['AAPL', 'MSFT']);
    expect(loadWatchlist()).toBeNull();
  });

  it('moves with the arrow keys over the symbols, not the remove buttons', () => {
    render(<Harness />);
    const [aapl, msft] = screen.getAllByRole('button', { name: /^Select / });
    aapl!.focus();
    fireEvent.keyDown(aapl!, { key: 'ArrowDown' });
    expect(document.activeElement).toBe(msft);
    fireEvent.keyDown(msft!, { key: 'ArrowDown' });
    expect(document.activeElement).toBe(aapl);
  });
});
