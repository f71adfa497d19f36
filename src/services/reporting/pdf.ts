/**
 * PDF rendering with pdfkit: a title, the period, an optional cover of key-metric cards, key
 * figures, charts drawn as vector paths (lines against each other, or a filled area such as an
 * underwater chart), and tables that run over as many pages as they need (rows may be an async
 * stream, so a long statement is drawn as it is read). Every page has a footer with its number.
 *
 * Text is set in DejaVu Sans, embedded (subset) from the dejavu-fonts-ttf package: it has every
 * glyph we print (−, →, €, ×, …), where the PDF standard fonts have only WinAnsi and print the
 * rest as garbage. The document is returned as a readable stream.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import PDFDocument from 'pdfkit';

export interface PdfSeries {
  name: string;
  values: (number | null)[];
  color?: string;
}

export interface PdfChart {
  title: string;
  /** a single series: in order; label is shown on the x axis ends */
  points?: { label: string; value: number }[];
  /** several series over the same x labels (points is ignored then) */
  labels?: string[];
  series?: PdfSeries[];
  /** 'area' fills between the line and zero (an underwater chart) */
  kind?: 'line' | 'area';
  /** how the y axis is labelled */
  axis?: 'number' | 'percent';
}

export interface PdfTable {
  title: string;
  columns: { name: string; width: number; align?: 'left' | 'right' }[];
  rows: AsyncIterable<readonly string[]> | Iterable<readonly string[]>;
  /** background of a cell (a heat map), by row values and column index */
  shade?: (row: readonly string[], column: number) => string | null;
  /** start the table on a new page */
  newPage?: boolean;
}

export interface PdfCard {
  label: string;
  value: string;
  note?: string;
}

export interface PdfSpec {
  title: string;
  subtitle: string;
  /** key metrics as cards on the first page */
  cover?: PdfCard[];
  summary: [string, string][];
  charts: PdfChart[];
  tables: PdfTable[];
  /**
   * Tables are streamed from the database: pages are written as they fill, so the footer says
   * "Page N" only (a total would need every page held until the end).
   */
  streamed?: boolean;
}

const MARGIN = 40;
const FOOTER = 24;
const ROW = 13;
const SANS = 'DejaVuSans';
const BOLD = 'DejaVuSans-Bold';
const ACCENT = '#1f5fbf';
const PALETTE = [ACCENT, '#e07b00', '#2a9d48', '#8e44ad'];

let fonts: { regular: Buffer; bold: Buffer } | undefined;
function loadFonts(): { regular: Buffer; bold: Buffer } {
  if (!fonts) {
    const require = createRequire(import.meta.url);
    fonts = {
      regular: readFileSync(require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf')),
      bold: readFileSync(require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf')),
    };
  }
  return fonts;
}

export function renderPdf(spec: PdfSpec): PDFKit.PDFDocument {
  const { regular, bold } = loadFonts();
  const doc = new PDFDocument({
    size: 'A4',
    margins: { top: MARGIN, left: MARGIN, right: MARGIN, bottom: MARGIN + FOOTER },
    info: { Title: spec.title, Creator: 'Bourse' },
    bufferPages: !spec.streamed,
    autoFirstPage: true,
  });
  doc.registerFont(SANS, regular);
  doc.registerFont(BOLD, bold);
  doc.font(SANS);
  let pages = 1;
  if (spec.streamed) {
    footer(doc, spec.title, 1, null);
    doc.on('pageAdded', () => {
      pages++;
      footer(doc, spec.title, pages, null);
    });
  }
  write(doc, spec).then(
    () => {
      if (!spec.streamed) {
        const range = doc.bufferedPageRange();
        for (let i = range.start; i < range.start + range.count; i++) {
          doc.switchToPage(i);
          footer(doc, spec.title, i + 1, range.count);
        }
        doc.flushPages();
      }
      doc.end();
    },
    (err: unknown) => doc.emit('error', err),
  );
  return doc;
}

function footer(doc: PDFKit.PDFDocument, title: string, page: number, of: number | null): void {
  const y = doc.y;
  const bottom = doc.page.margins.bottom;
  // text below the bottom margin would start a new page: lift the margin while drawing it
  doc.page.margins.bottom = 0;
  const at = doc.page.height - MARGIN;
  doc
    .save()
    .lineWidth(0.5)
    .strokeColor('#bbb')
    .moveTo(MARGIN, at - 6)
    .lineTo(doc.page.width - MARGIN, at - 6)
    .stroke()
    .restore();
  doc.font(SANS).fontSize(7).fillColor('#666');
  doc.text(title, MARGIN, at, { width: 300, lineBreak: false });
  doc.text(of === null ? `Page ${page}` : `Page ${page} of ${of}`, doc.page.width - MARGIN - 150, at, {
    width: 150,
    align: 'right',
    lineBreak: false,
  });
  doc.fillColor('black');
  doc.page.margins.bottom = bottom;
  doc.y = y;
}

const bottom = (doc: PDFKit.PDFDocument) => doc.page.height - MARGIN - FOOTER;
const width = (doc: PDFKit.PDFDocument) => doc.page.width - 2 * MARGIN;

function newPage(doc: PDFKit.PDFDocument): void {
  doc.addPage();
  doc.y = MARGIN;
}

function ensure(doc: PDFKit.PDFDocument, height: number): void {
  if (doc.y + height > bottom(doc)) newPage(doc);
}

async function write(doc: PDFKit.PDFDocument, spec: PdfSpec): Promise<void> {
  doc.font(BOLD).fontSize(18).text(spec.title, MARGIN, MARGIN);
  doc
    .font(SANS)
    .fontSize(9.5)
    .fillColor('#444')
    .text(spec.subtitle, { width: width(doc) })
    .fillColor('black');
  doc.moveDown(0.8);
  if (spec.cover && spec.cover.length > 0) drawCards(doc, spec.cover);
  for (const [label, value] of spec.summary) {
    ensure(doc, ROW);
    const y = doc.y;
    doc.font(SANS).fontSize(9).text(label, MARGIN, y, { width: 220 });
    doc.font(BOLD).text(value, MARGIN + 230, y, { width: width(doc) - 230 });
    doc.y = Math.max(doc.y, y + ROW);
  }
  for (const chart of spec.charts) drawChart(doc, chart);
  for (const table of spec.tables) await drawTable(doc, table);
}

function drawCards(doc: PDFKit.PDFDocument, cards: PdfCard[]): void {
  const perRow = 3;
  const gap = 8;
  const w = (width(doc) - gap * (perRow - 1)) / perRow;
  const h = 50;
  for (let i = 0; i < cards.length; i += perRow) {
    ensure(doc, h + gap);
    const y = doc.y;
    cards.slice(i, i + perRow).forEach((card, j) => {
      const x = MARGIN + j * (w + gap);
      doc.save().roundedRect(x, y, w, h, 4).fillAndStroke('#f3f6fb', '#d5deea').restore();
      doc
        .font(SANS)
        .fontSize(7.5)
        .fillColor('#555')
        .text(card.label, x + 8, y + 6, { width: w - 16, lineBreak: false });
      doc
        .font(BOLD)
        .fontSize(14)
        .fillColor('black')
        .text(card.value, x + 8, y + 18, { width: w - 16, lineBreak: false });
      if (card.note) {
        doc
          .font(SANS)
          .fontSize(6.5)
          .fillColor('#666')
          .text(card.note, x + 8, y + 37, { width: w - 16, lineBreak: false });
      }
    });
    doc.fillColor('black');
    doc.y = y + h + gap;
  }
  doc.moveDown(0.4);
}

function axisLabel(v: number, axis: PdfChart['axis']): string {
  if (axis === 'percent') {
    const p = v * 100;
    return `${p < 0 ? '−' : ''}${Math.abs(p).toFixed(Math.abs(p) >= 10 ? 0 : 1)}%`;
  }
  const abs = Math.abs(v);
  const text = abs >= 1000 ? abs.toLocaleString('en-US', { maximumFractionDigits: 0 }) : abs.toPrecision(4);
  return `${v < 0 ? '−' : ''}${text}`;
}

function drawChart(doc: PDFKit.PDFDocument, chart: PdfChart): void {
  const h = 150;
  ensure(doc, h + 50);
  doc.moveDown(0.6);
  doc.font(BOLD).fontSize(11).text(chart.title, MARGIN, doc.y);
  const labels = chart.series ? (chart.labels ?? []) : (chart.points ?? []).map((p) => p.label);
  const series: PdfSeries[] = chart.series ?? [
    { name: chart.title, values: (chart.points ?? []).map((p) => p.value) },
  ];
  let top = doc.y + 4;
  if (series.length > 1) {
    let x = MARGIN + 55;
    doc.font(SANS).fontSize(7.5);
    series.forEach((s, i) => {
      const color = s.color ?? PALETTE[i % PALETTE.length]!;
      doc
        .save()
        .rect(x, top + 2, 10, 3)
        .fill(color)
        .restore();
      doc.fillColor('black').text(s.name, x + 14, top, { lineBreak: false });
      x += 24 + doc.widthOfString(s.name);
    });
    top += 12;
  }
  const left = MARGIN + 55;
  const w = width(doc) - 60;
  doc.save().lineWidth(0.5).strokeColor('#999').rect(left, top, w, h).stroke().restore();
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v)));
  if (all.length > 0) {
    let min = Math.min(...all, chart.kind === 'area' ? 0 : Number.POSITIVE_INFINITY);
    let max = Math.max(...all, chart.kind === 'area' ? 0 : Number.NEGATIVE_INFINITY);
    if (min === max) {
      const pad = Math.abs(min) > 0 ? Math.abs(min) * 0.01 : 1;
      min -= pad;
      max += pad;
    }
    const n = Math.max(...series.map((s) => s.values.length));
    const x = (i: number) => left + (n === 1 ? w / 2 : (i * w) / (n - 1));
    const y = (v: number) => top + h - ((v - min) / (max - min)) * h;
    if (min < 0 && max > 0) {
      doc
        .save()
        .lineWidth(0.4)
        .strokeColor('#bbb')
        .moveTo(left, y(0))
        .lineTo(left + w, y(0))
        .stroke()
        .restore();
    }
    series.forEach((s, k) => {
      const color = s.color ?? PALETTE[k % PALETTE.length]!;
      doc.save().lineWidth(1.1).strokeColor(color);
      let drawing = false;
      let first = -1;
      let last = -1;
      s.values.forEach((v, i) => {
        if (v === null || !Number.isFinite(v)) {
          drawing = false;
          return;
        }
        if (!drawing) doc.moveTo(x(i), y(v));
        else doc.lineTo(x(i), y(v));
        if (first < 0) first = i;
        last = i;
        drawing = true;
      });
      doc.stroke().restore();
      if (chart.kind === 'area' && first >= 0) {
        doc.save().fillColor(color).fillOpacity(0.25);
        doc.moveTo(x(first), y(0));
        s.values.forEach((v, i) => {
          if (v !== null && Number.isFinite(v)) doc.lineTo(x(i), y(v));
        });
        doc.lineTo(x(last), y(0)).closePath().fill().restore();
      }
    });
    doc.font(SANS).fontSize(7).fillColor('black');
    doc.text(axisLabel(max, chart.axis), MARGIN, top - 3, { width: 50, align: 'right' });
    doc.text(axisLabel(min, chart.axis), MARGIN, top + h - 6, { width: 50, align: 'right' });
    if (labels.length > 0) {
      doc.text(labels[0]!, left, top + h + 3, { lineBreak: false });
      doc.text(labels[labels.length - 1]!, left + w - 100, top + h + 3, { width: 100, align: 'right' });
    }
  } else {
    doc
      .font(SANS)
      .fontSize(8)
      .fillColor('#666')
      .text('no data in this period', left + 8, top + h / 2 - 4);
    doc.fillColor('black');
  }
  doc.y = top + h + 16;
}

async function drawTable(doc: PDFKit.PDFDocument, table: PdfTable): Promise<void> {
  if (table.newPage) newPage(doc);
  else ensure(doc, 3 * ROW + 10);
  doc.moveDown(0.6);
  doc.font(BOLD).fontSize(11).text(table.title, MARGIN, doc.y);
  doc.moveDown(0.3);
  const header = () =>
    drawRow(
      doc,
      table,
      table.columns.map((c) => c.name),
      true,
    );
  header();
  let n = 0;
  for await (const row of table.rows) {
    if (doc.y + ROW > bottom(doc)) {
      newPage(doc);
      header();
    }
    drawRow(doc, table, row, false);
    n++;
  }
  if (n === 0) drawRow(doc, table, ['(none)'], false);
}

function drawRow(doc: PDFKit.PDFDocument, table: PdfTable, cells: readonly string[], bold: boolean): void {
  const y = doc.y;
  let x = MARGIN;
  doc.font(bold ? BOLD : SANS).fontSize(7.5);
  table.columns.forEach((c, i) => {
    const shade = !bold && table.shade ? table.shade(cells, i) : null;
    if (shade)
      doc
        .save()
        .rect(x, y - 2, c.width, ROW)
        .fill(shade)
        .restore();
    const text = cells[i] ?? '';
    doc
      .fillColor('black')
      .text(text, x + 2, y, { width: c.width - 6, align: c.align ?? 'left', lineBreak: false, height: ROW });
    x += c.width;
  });
  if (bold) {
    doc
      .save()
      .lineWidth(0.5)
      .moveTo(MARGIN, y + ROW - 2)
      .lineTo(x, y + ROW - 2)
      .stroke()
      .restore();
  }
  doc.y = y + ROW;
}
