// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { useState } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { useShortcuts } from '../lib/shortcuts.ts';
import type { SymbolEntry } from '../lib/symbols.ts';
import { SymbolSearch } from './SymbolSearch.tsx';

afterEach(cleanup);

const SYMBOLS: SymbolEntry[] = [
  { symbol: 'AAPL', source: 'exchange', tradable: true },
  { symbol: 'BABA', source: 'exchange', tradable: true },
  { symbol: 'QQQ', source: 'sim', tradable: false },
  { symbol: 'SPXHIST', source: 'import', tradable: false },
  { symbol: 'XSPX', source: 'import', tradable: false },
];

/** The terminal's wiring in small: the shortcuts, the search they open, what was picked. */
function Harness() {
  const [open, setOpen] = useState(false);
  const [sides, setSides] = useState<string[]>([]);
  const [picked, setPicked] = useState('AAPL');
  useShortcuts({ onSide: (s) => setSides((l) => [...l, s]), onSearch: () => setOpen(true) });
  return (
    <div>
      <output aria-label="sides">{sides.join(',')}</output>
      <output aria-label="picked">{picked}</output>
      {open && (
        <SymbolSearch
          symbols={SYMBOLS}
          onClose={() => setOpen(false)}
          onPick={(s) => {
            setPicked(s);
            setOpen(false);
          }}
        />
      )}
    </div>
  );
}

/** A key as the browser delivers it: keydown on the focused element, bubbling to the window. */
function type(el: Element, text: string) {
  for (const ch of text) {
    fireEvent.keyDown(el, { key: ch });
    const input = el as HTMLInputElement;
    fireEvent.change(input, { target: { value: input.value + ch } });
  }
}

const options = () => screen.queryAllByRole('option').map((o) => o.getAttribute('data-symbol'));

describe('symbol search', () => {
  it('opens on "/", and B and S typed into it are search text, not buy/sell', () => {
    render(<Harness />);
    fireEvent.keyDown(document.body, { key: 'b' });
    expect(screen.getByLabelText('sides').textContent).toBe('buy');
    expect(screen.queryByRole('dialog')).toBeNull();

    fireEvent.keyDown(document.body, { key: '/' });
    const input = screen.getByRole('combobox', { name: 'Search symbols' });
    expect(document.activeElement).toBe(input);
    type(input, 'bs');
    expect((input as HTMLInputElement).value).toBe('bs');
    expect(screen.getByLabelText('sides').textContent).toBe('buy');
  });

  it('ranks exact, then prefix, then anywhere; imported history is offered too; Enter picks', () => {
    render(<Harness />);
    fireEvent.keyDown(document.body, { key: '/' });
    const input = screen.getByRole('combobox', { name: 'Search symbols' });
    expect(options()).toEqual(['AAPL', 'BABA', 'QQQ', 'SPXHIST', 'XSPX']);
    type(input, 'spx');
    expect(options()).toEqual(['SPXHIST', 'XSPX']);
    expect(screen.getByRole('option', { name: /SPXHIST/ }).textContent).toContain('imported history');
    fireEvent.keyDown(input, { key: 'ArrowDown' });
    expect(screen.getByRole('option', { selected: true }).getAttribute('data-symbol')).toBe('XSPX');
    fireEvent.keyDown(input, { key: 'Enter' });
    expect(screen.getByLabelText('picked').textContent).toBe('XSPX');
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(screen.getByLabelText('sides').textContent).toBe('');
  });

  it('picks by click, says when nothing matches, and closes on Escape', () => {
    render(<Harness />);
    fireEvent.keyDown(document.body, { key: '/' });
    const input = screen.getByRole('combobox', { name: 'Search symbols' });
    type(input, 'zz');
    expect(screen.getByText('No symbol matches “zz”.')).toBeTruthy();
    fireEvent.keyDown(input, { key: 'Escape' });
    expect(screen.queryByRole('dialog')).toBeNull();
    fireEvent.keyDown(document.body, { key: '/' });
    fireEvent.click(screen.getByRole('option', { name: /QQQ/ }));
    expect(screen.getByLabelText('picked').textContent).toBe('QQQ');
  });
});
