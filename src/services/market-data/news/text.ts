/** Feed text to plain text: HTML tags out, character references decoded, whitespace collapsed. */

const NAMED: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  ndash: '–',
  mdash: '—',
  hellip: '…',
  lsquo: '‘',
  rsquo: '’',
  ldquo: '“',
  rdquo: '”',
  laquo: '«',
  raquo: '»',
  bull: '•',
  middot: '·',
  copy: '©',
  reg: '®',
  trade: '™',
  euro: '€',
  pound: '£',
  yen: '¥',
  cent: '¢',
  deg: '°',
  times: '×',
  divide: '÷',
  plusmn: '±',
  frac12: '½',
  frac14: '¼',
  frac34: '¾',
};

const REFERENCE = /&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z][a-zA-Z0-9]{1,31}));/g;

/** Decodes numeric references and the common named ones in one pass (so `&amp;lt;` gives `&lt;`). */
export function decodeEntities(text: string): string {
  return text.replace(
    REFERENCE,
    (whole, dec: string | undefined, hex: string | undefined, name: string | undefined) => {
      if (name !== undefined) return NAMED[name] ?? whole;
      const code = dec !== undefined ? Number(dec) : Number.parseInt(hex!, 16);
      const valid = code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff);
      return valid ? String.fromCodePoint(code) : '\ufffd';
    },
  );
}

/** Numeric character references only: what is left of XML escaping after the parser's own pass. */
export function decodeNumericReferences(text: string): string {
  return text.replace(
    /&#(\d{1,7});|&#[xX]([0-9a-fA-F]{1,6});/g,
    (_w, dec: string | undefined, hex: string | undefined) => {
      const code = dec !== undefined ? Number(dec) : Number.parseInt(hex!, 16);
      const valid = code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff);
      return valid ? String.fromCodePoint(code) : '\ufffd';
    },
  );
}

/**
 * Text content of a fragment of HTML as feeds carry it. Only things that look like tags go (`<b>`,
 * `</p>`, `<br/>`, comments), so "P/E < 15 and > 10" keeps its comparison signs.
 */
export function htmlToText(html: string): string {
  let text = decodeNumericReferences(html);
  // until nothing changes: taking out "<p>" from "<b<p>>" leaves a new tag; every pass shortens
  for (let before = ''; before !== text; ) {
    before = text;
    text = text
      .replace(/<!--[\s\S]*?(?:-->|$)/g, ' ')
      .replace(/<(script|style)\b[^>]*>[\s\S]*?(?:<\/\1\s*>|$)/gi, ' ')
      .replace(/<\/?[a-zA-Z][a-zA-Z0-9-]*(?:\s[^<>]*)?\/?>/g, ' ');
  }
  return decodeEntities(text).replace(/\s+/g, ' ').trim();
}

/** At most `max` characters, cut at a word boundary when one is near, with an ellipsis. */
export function truncate(text: string, max: number): string {
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  const cut = chars.slice(0, max - 1).join('');
  const space = cut.lastIndexOf(' ');
  return (space > max * 0.8 ? cut.slice(0, space) : cut).trimEnd() + '…';
}
