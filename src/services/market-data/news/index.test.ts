import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FeedParseError, MAX_FEED_BYTES, parseFeed, SUMMARY_MAX, tagSymbols } from './index.ts';
import { htmlToText, truncate } from './text.ts';

const fixture = (name: string) =>
  readFileSync(new URL(`../../../../test/fixtures/market-data/${name}`, import.meta.url), 'utf8');

describe('parseFeed: RSS 2.0', () => {
  const items = parseFeed(fixture('news.rss.xml'));

  it('reads every item in order', () => {
    expect(items.map((i) => i.title)).toEqual([
      'ACME beats estimates; $WIDG slips & IT spending stays ON track',
      'Widgets Inc names new CEO',
      'Market wrap: stocks close mixed',
      'Bad link',
    ]);
  });

  it('takes guid, link and pubDate, and turns the HTML summary into text', () => {
    expect(items[0]).toEqual({
      guid: 'bourse-wire-1001',
      title: 'ACME beats estimates; $WIDG slips & IT spending stays ON track',
      url: 'https://news.example.com/2024/01/31/acme-beats',
      summary: 'Acme Corp. reported record revenue & raised guidance. P/E < 15 — analysts cheer.',
      publishedAt: new Date('2024-01-31T21:05:00Z'),
    });
  });

  it('falls back to the link for the guid and to dc:date for the date; decodes escaped HTML', () => {
    expect(items[1]).toMatchObject({
      guid: 'https://news.example.com/2024/02/01/widgets-ceo',
      publishedAt: new Date('2024-02-01T18:00:00Z'),
      summary: 'Widgets Inc said on Thursday "the board" had chosen a new chief.',
    });
  });

  it('hashes title and date when there is neither guid nor link; an unparseable date is null', () => {
    expect(items[2]!.url).toBeNull();
    expect(items[2]!.publishedAt).toBeNull();
    expect(items[2]!.guid).toMatch(/^sha256:[0-9a-f]{32}$/);
    // stable across parses, different for another title
    expect(parseFeed(fixture('news.rss.xml'))[2]!.guid).toBe(items[2]!.guid);
    expect(items[3]!.guid).not.toBe(items[2]!.guid);
  });

  it('drops a link that is not http(s)', () => {
    expect(items[3]!.url).toBeNull();
    expect(items[3]!.summary).toBe('');
  });
});

describe('parseFeed: Atom 1.0', () => {
  const entries = parseFeed(fixture('news.atom.xml'));

  it('reads entries with the alternate link, id, published date and an html summary', () => {
    expect(entries).toHaveLength(2);
    expect(entries[0]).toEqual({
      guid: 'tag:exchange.example.org,2024:notice-77',
      title: 'Trading halt lifted for ACME',
      url: 'https://exchange.example.org/notices/77',
      summary: 'Trading in Acme Corp resumes at 10:00 — see the notice.',
      publishedAt: new Date('2024-03-01T08:30:00Z'),
    });
  });

  it('uses updated when there is no published date, and reads xhtml content', () => {
    expect(entries[1]).toEqual({
      guid: 'tag:exchange.example.org,2024:notice-78',
      title: 'Quarterly index rebalance',
      url: 'https://exchange.example.org/notices/78',
      summary: 'WIDG joins the index; GIZM leaves it.',
      publishedAt: new Date('2024-02-28T17:00:00Z'),
    });
  });
});

describe('parseFeed: refusals', () => {
  it('refuses a DOCTYPE, so declared entities are never expanded (billion laughs, XXE)', () => {
    const laughs =
      '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>' +
      '<rss version="2.0"><channel><item><title>&lol2;</title></item></channel></rss>';
    expect(() => parseFeed(laughs)).toThrow(FeedParseError);
    expect(() => parseFeed(laughs)).toThrow(/DOCTYPE/);
    const xxe =
      '<?xml version="1.0"?><!doctype foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>' +
      '<rss version="2.0"><channel><item><title>&xxe;</title></item></channel></rss>';
    expect(() => parseFeed(xxe)).toThrow(/DOCTYPE/);
  });

  it('leaves unknown entities as text rather than expanding them', () => {
    const [item] = parseFeed('<rss><channel><item><title>a &foo; b</title></item></channel></rss>');
    expect(item!.title).toBe('a &foo; b');
  });

  it('refuses a feed over 5 MB', () => {
    const big = `<rss><channel><item><title>${'x'.repeat(MAX_FEED_BYTES)}</title></item></channel></rss>`;
    expect(() => parseFeed(big)).toThrow(/larger than 5 MB/);
    // multi-byte characters count as bytes, not as UTF-16 units
    const wide = `<rss><channel>${'é'.repeat(MAX_FEED_BYTES / 2 + 1)}</channel></rss>`;
    expect(wide.length).toBeLessThan(MAX_FEED_BYTES);
    expect(() => parseFeed(wide)).toThrow(/larger than 5 MB/);
  });

  it('throws a clear error for XML that is neither RSS nor Atom, and for an empty document', () => {
    expect(() => parseFeed('<?xml version="1.0"?><html><body>hi</body></html>')).toThrow(
      /root element <html> is neither RSS 2.0 <rss> nor Atom <feed>/,
    );
    expect(() => parseFeed('')).toThrow(FeedParseError);
    expect(() => parseFeed('just text')).toThrow(FeedParseError);
  });

  it('refuses XML that is not well-formed, naming the line', () => {
    expect(() => parseFeed('<rss><channel>\n<item><title>x</channel></rss>')).toThrow(
      /not well-formed XML \(line 2\): Expected closing tag 'title'/,
    );
  });

  it('uses content:encoded when the description is empty, and Atom content when there is no summary', () => {
    const [rss] = parseFeed(
      '<rss xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><item><title>t</title>' +
        '<description></description><content:encoded><![CDATA[<p>Full <i>text</i></p>]]></content:encoded>' +
        '</item></channel></rss>',
    );
    expect(rss!.summary).toBe('Full text');
    const [atom] = parseFeed(
      '<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>x</id><title>t</title>' +
        '<content type="html">&lt;p&gt;Body&lt;/p&gt;</content></entry></feed>',
    );
    expect(atom!.summary).toBe('Body');
  });

  it('an RSS channel without items is an empty list', () => {
    expect(parseFeed('<rss version="2.0"><channel><title>t</title></channel></rss>')).toEqual([]);
  });

  it('caps the summary at 1,000 characters', () => {
    const long = 'word '.repeat(500);
    const [item] = parseFeed(
      `<rss><channel><item><title>t</title><description>${long}</description></item></channel></rss>`,
    );
    expect(item!.summary.length).toBeLessThanOrEqual(SUMMARY_MAX);
    expect(item!.summary.endsWith('…')).toBe(true);
    expect(item!.summary.length).toBeGreaterThan(SUMMARY_MAX - 10);
  });
});

describe('htmlToText and truncate', () => {
  it('keeps comparison signs that are not tags and drops comments, scripts and styles', () => {
    expect(htmlToText('a < b and c > d')).toBe('a < b and c > d');
    expect(htmlToText('x<!-- hidden -->y<style>p{}</style><br/>z')).toBe('x y z');
    expect(htmlToText('&#x1F4C8; &#0; &bogus; &copy;')).toBe('📈 \ufffd &bogus; ©');
  });

  it('truncate never exceeds the limit and leaves short text alone', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 300 }),
        fc.integer({ min: 2, max: 200 }),
        (s, max) => {
          const out = truncate(s, max);
          expect(Array.from(out).length).toBeLessThanOrEqual(max);
          if (Array.from(s).length <= max) expect(out).toBe(s);
          else expect(out.endsWith('…')).toBe(true);
        },
      ),
    );
  });

  it('text out of htmlToText has no tags and no runs of whitespace', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.constantFrom('<p>', '</p>', '<b class="x">', '<br/>', ' ', '\n', '&amp;'),
            // no '&' of its own: an escaped "&lt;p&gt;" rightly decodes to the text "<p>"
            fc.string().map((s) => s.replaceAll('&', '')),
          ),
          {
            maxLength: 20,
          },
        ),
        (parts) => {
          const out = htmlToText(parts.join(''));
          expect(out).not.toMatch(/<\/?[a-zA-Z][a-zA-Z0-9-]*(?:\s[^<>]*)?\/?>/);
          expect(out).not.toMatch(/\s\s/);
          expect(out).toBe(out.trim());
        },
      ),
    );
  });
});

describe('tagSymbols', () => {
  const symbols = ['AAPL', 'MSFT', 'IT', 'ON', 'A', 'BRK.B', 'WIDG', 'F', 'NOW'];

  it('finds cashtags, including ambiguous tickers and any case', () => {
    expect(tagSymbols('Buying $it and $on, also $aapl. $F!', symbols)).toEqual(['AAPL', 'F', 'IT', 'ON']);
  });

  it('finds whole-word capitalised tickers, not parts of other words', () => {
    expect(tagSymbols('AAPL and MSFT rally; AAPLX and XMSFT do not count; msft neither', symbols)).toEqual([
      'AAPL',
      'MSFT',
    ]);
    expect(tagSymbols("AAPL's results, (MSFT), NASDAQ:WIDG, AAPL-based", symbols)).toEqual([
      'AAPL',
      'MSFT',
      'WIDG',
    ]);
    expect(tagSymbols('BRK.B climbs', symbols)).toEqual(['BRK.B']);
  });

  it('ignores single letters and common words unless written as cashtags', () => {
    expect(tagSymbols('A rally: IT spending is ON track, F grade, NOW what?', symbols)).toEqual([]);
    expect(tagSymbols('$NOW and $A', symbols)).toEqual(['A', 'NOW']);
  });

  it('does not read domains, AT&T pieces or longer class tickers as tickers', () => {
    expect(tagSymbols('see WIDG.com and MSFT&T and BRK.BX', symbols)).toEqual([]);
  });

  it('finds company names as words, as written or in capitals, preferring the longest name', () => {
    const names = { AAPL: 'Apple', MSFT: 'Microsoft', WIDG: 'Widgets Inc', XYZ: 'Unknown Co' };
    expect(tagSymbols('Apple and Microsoft earnings', symbols, names)).toEqual(['AAPL', 'MSFT']);
    expect(tagSymbols('APPLE SHARES JUMP', symbols, names)).toEqual(['AAPL']);
    expect(tagSymbols('Pineapple prices; apple pie', symbols, names)).toEqual([]);
    expect(tagSymbols("Widgets Inc's new CEO; Unknown Co", symbols, names)).toEqual(['WIDG']);
    const nested = { AAPL: 'Apple', WIDG: 'Apple Hospitality' };
    expect(tagSymbols('Apple Hospitality REIT', symbols, nested)).toEqual(['WIDG']);
  });

  it('returns the symbols as given, sorted and unique', () => {
    expect(tagSymbols('$MSFT MSFT $msft AAPL $AAPL', symbols)).toEqual(['AAPL', 'MSFT']);
  });

  it('property: output is a sorted, duplicate-free subset of the symbols and every cashtag is found', () => {
    const ticker = fc.stringMatching(/^[A-Z]{1,5}$/);
    fc.assert(
      fc.property(
        fc.uniqueArray(ticker, { minLength: 1, maxLength: 8 }),
        fc.array(fc.oneof(fc.string(), ticker, fc.constantFrom(' ', ', ', '$', '.')), { maxLength: 15 }),
        fc.nat(),
        (syms, parts, pick) => {
          const cashtagged = syms[pick % syms.length]!;
          const text = `${parts.join(' ')} $${cashtagged} ${parts.join('')}`;
          const out = tagSymbols(text, syms);
          expect(out).toEqual([...new Set(out)].sort());
          for (const s of out) expect(syms).toContain(s);
          expect(out).toContain(cashtagged);
          // deterministic
          expect(tagSymbols(text, syms)).toEqual(out);
        },
      ),
    );
  });
});
