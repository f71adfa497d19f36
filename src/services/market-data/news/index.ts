/**
 * News feeds: RSS 2.0 and Atom 1.0 documents to plain items, and which listed symbols an item
 * mentions. Feeds come from the internet, so the parser is configured defensively: no DOCTYPE
 * (so no declared entities, no external entities, no billion laughs), only the five predefined
 * XML entities and numeric references, and a size cap.
 */
import { createHash } from 'node:crypto';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { decodeEntities, htmlToText, truncate } from './text.ts';

export { tagSymbols } from './tags.ts';

export interface NewsItem {
  /** stable id: the feed's guid/id, else the link, else a hash of title and date */
  guid: string;
  title: string;
  url: string | null;
  /** plain text, at most SUMMARY_MAX characters */
  summary: string;
  publishedAt: Date | null;
}

export const MAX_FEED_BYTES = 5 * 1024 * 1024;
export const SUMMARY_MAX = 1000;

export class FeedParseError extends Error {
  override name = 'FeedParseError';
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  // dc:date, content:encoded, atom:link → date, encoded, link
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  // the five XML entities only; declared ones never get here (DOCTYPE is refused first)
  processEntities: true,
  htmlEntities: false,
  isArray: (name) => name === 'item' || name === 'entry' || name === 'link',
});

export function parseFeed(xml: string): NewsItem[] {
  // UTF-16 length ≤ UTF-8 length, so the cheap test first
  if (xml.length > MAX_FEED_BYTES || Buffer.byteLength(xml, 'utf8') > MAX_FEED_BYTES) {
    throw new FeedParseError(`feed is larger than ${MAX_FEED_BYTES / 1024 / 1024} MB`);
  }
  if (/<!DOCTYPE/i.test(xml) || /<!ENTITY/i.test(xml)) {
    throw new FeedParseError('feed has a DOCTYPE or entity declaration, which is not accepted');
  }
  // the parser itself is lenient: unclosed or crossed tags would give a half-read feed
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    throw new FeedParseError(`feed is not well-formed XML (line ${valid.err.line}): ${valid.err.msg}`);
  }
  let doc: Record<string, unknown>;
  try {
    doc = parser.parse(xml) as Record<string, unknown>;
  } catch (err) {
    throw new FeedParseError(`feed is not well-formed XML: ${(err as Error).message}`);
  }
  const rss = obj(doc.rss);
  if (rss) return (arr(obj(rss.channel)?.item) ?? []).map((i) => rssItem(obj(i) ?? {}));
  const atom = obj(doc.feed);
  if (atom) return (arr(atom.entry) ?? []).map((e) => atomEntry(obj(e) ?? {}));
  const root = Object.keys(doc).find((k) => !k.startsWith('?'));
  throw new FeedParseError(
    root === undefined
      ? 'not a news feed: the document is empty'
      : `not a news feed: root element <${root}> is neither RSS 2.0 <rss> nor Atom <feed>`,
  );
}

function rssItem(item: Record<string, unknown>): NewsItem {
  const title = plain(item.title);
  const link = firstLink(item.link, 'rss');
  const publishedAt = date(item.pubDate) ?? date(item.date);
  const summary = summaryOf(item.description, item.encoded);
  const guid = raw(item.guid) || link || hashId(title, publishedAt);
  return { guid, title, url: link, summary, publishedAt };
}

function atomEntry(entry: Record<string, unknown>): NewsItem {
  const title = plain(entry.title);
  const link = firstLink(entry.link, 'atom');
  const publishedAt = date(entry.published) ?? date(entry.updated);
  const summary = summaryOf(entry.summary, entry.content);
  const guid = raw(entry.id) || link || hashId(title, publishedAt);
  return { guid, title, url: link, summary, publishedAt };
}

/** RSS: the element's text. Atom: the rel="alternate" (or rel-less) link's href, else the first href. */
function firstLink(value: unknown, kind: 'rss' | 'atom'): string | null {
  const links = arr(value) ?? [];
  if (kind === 'rss') {
    for (const l of links) {
      const url = webUrl(raw(l));
      if (url) return url;
    }
    return null;
  }
  const hrefs = links.map((l) => {
    const o = obj(l);
    return { rel: o ? raw(o['@_rel']) : '', href: o ? raw(o['@_href']) : raw(l) };
  });
  const alternate = hrefs.find((h) => webUrl(h.href) && (h.rel === '' || h.rel === 'alternate'));
  return webUrl(alternate?.href ?? '') ?? webUrl(hrefs.find((h) => webUrl(h.href))?.href ?? '');
}

/** The first of the candidates with any text (an empty <description/> yields to content:encoded). */
function summaryOf(...candidates: unknown[]): string {
  for (const c of candidates) {
    const text = plain(c);
    if (text) return truncate(text, SUMMARY_MAX);
  }
  return '';
}

/** An element's text with markup and references resolved. */
function plain(value: unknown): string {
  return htmlToText(raw(value));
}

/** An element's text as the parser left it: a string, or an object holding #text beside attributes. */
function raw(value: unknown): string {
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.length > 0 ? raw(value[0]) : '';
  const o = obj(value);
  if (!o) return '';
  if (o['#text'] !== undefined) return raw(o['#text']);
  // Atom type="xhtml": the text of the child elements, attributes left out
  return Object.entries(o)
    .filter(([k]) => !k.startsWith('@_'))
    .flatMap(([, v]) => (Array.isArray(v) ? v : [v]))
    .map(raw)
    .filter((t) => t !== '')
    .join(' ');
}

/** Only absolute http(s) links: a javascript: or data: URL from a feed must never reach a page. */
function webUrl(text: string): string | null {
  if (!text) return null;
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

function date(value: unknown): Date | null {
  const text = decodeEntities(raw(value));
  if (!text) return null;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : new Date(ms);
}

function hashId(title: string, publishedAt: Date | null): string {
  const digest = createHash('sha256')
    .update(`${title}\n${publishedAt?.toISOString() ?? ''}`)
    .digest('hex');
  return `sha256:${digest.slice(0, 32)}`;
}

function obj(v: unknown): Record<string, unknown> | null {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

function arr(v: unknown): unknown[] | null {
  if (v === undefined || v === null) return null;
  return Array.isArray(v) ? v : [v];
}
