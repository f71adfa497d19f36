/**
 * PDF rendering with pdfkit: a title, the period, key figures, line charts drawn as vector
 * paths, and tables that run over as many pages as they need (rows may be an async stream, so a
 * long statement is drawn as it is read). The document is returned as a readable stream.
 */
import PDFDocument from 'pdfkit';

export interface PdfChart {
  title: string;
  /** in order; label is shown on the x axis ends */
  points: { label: string; value: number }[];
}

export interface PdfTable {
  title: string;
  columns: { name: string; width: number; align?: 'left' | 'right' }[];
  rows: AsyncIterable<readonly string[]> | Iterable<readonly string[]>;
}

export interface PdfSpec {
  title: string;
  subtitle: string;
  summary: [string, string][];
  charts: PdfChart[];
  tables: PdfTable[];
}

const MARGIN = 40;
const ROW = 13;

export function renderPdf(spec: PdfSpec): PDFKit.PDFDocument {
  const doc = new PDFDocument({ size: 'A4', margin: MARGIN, info: { Title: spec.title } });
  write(doc, spec).then(
    () => doc.end(),
    (err: unknown) => doc.emit('error', err),
  );
  return doc;
}

const bottom = (doc: PDFKit.PDFDocument) => doc.page.height - MARGIN;
const width = (doc: PDFKit.PDFDocument) => doc.page.width - 2 * MARGIN;

function ensure(doc: PDFKit.PDFDocument, height: number): void {
  if (doc.y + height > bottom(doc)) {
    doc.addPage();
    doc.y = MARGIN;
  }
}

async function write(doc: PDFKit.PDFDocument, spec: PdfSpec): Promise<void> {
  doc.font('Helvetica-Bold').fontSize(18).text(spec.title, MARGIN, MARGIN);
  doc.font('Helvetica').fontSize(10).fillColor('#444').text(spec.subtitle).fillColor('black');
  doc.moveDown(0.8);
  for (const [label, value] of spec.summary) {
    ensure(doc, ROW);
    const y = doc.y;
    doc.font('Helvetica').fontSize(9).text(label, MARGIN, y, { width: 220 });
    doc.font('Helvetica-Bold').text(value, MARGIN + 230, y, { width: 200 });
    doc.y = y + ROW;
  }
  for (const chart of spec.charts) drawChart(doc, chart);
  for (const table of spec.tables) await drawTable(doc, table);
}

function drawChart(doc: PDFKit.PDFDocument, chart: PdfChart): void {
  const h = 170;
  ensure(doc, h + 40);
  doc.moveDown(0.8);
  doc.font('Helvetica-Bold').fontSize(11).text(chart.title, MARGIN, doc.y);
  const top = doc.y + 6;
  const left = MARGIN + 55;
  const w = width(doc) - 60;
  doc.save().lineWidth(0.5).strokeColor('#999').rect(left, top, w, h).stroke().restore();
  const values = chart.points.map((p) => p.value);
  if (values.length > 0) {
    let min = Math.min(...values);
    let max = Math.max(...values);
    if (min === max) {
      min -= 1;
      max += 1;
    }
    const x = (i: number) => left + (values.length === 1 ? w / 2 : (i * w) / (values.length - 1));
    const y = (v: number) => top + h - ((v - min) / (max - min)) * h;
    doc.save().lineWidth(1.2).strokeColor('#1f5fbf');
    doc.moveTo(x(0), y(values[0]!));
    for (let i = 1; i < values.length; i++) doc.lineTo(x(i), y(values[i]!));
    doc.stroke().restore();
    doc.font('Helvetica').fontSize(7);
    doc.text(fmt(max), MARGIN, top - 3, { width: 50, align: 'right' });
    doc.text(fmt(min), MARGIN, top + h - 6, { width: 50, align: 'right' });
    doc.text(chart.points[0]!.label, left, top + h + 3);
    doc.text(chart.points[chart.points.length - 1]!.label, left + w - 80, top + h + 3, {
      width: 80,
      align: 'right',
    });
  }
  doc.y = top + h + 16;
}

const fmt = (v: number) => (Math.abs(v) >= 1000 ? v.toFixed(0) : v.toPrecision(6));

async function drawTable(doc: PDFKit.PDFDocument, table: PdfTable): Promise<void> {
  ensure(doc, 3 * ROW + 10);
  doc.moveDown(0.8);
  doc.font('Helvetica-Bold').fontSize(11).text(table.title, MARGIN, doc.y);
  doc.moveDown(0.3);
  const header = () => {
    drawRow(
      doc,
      table,
      table.columns.map((c) => c.name),
      true,
    );
  };
  header();
  let n = 0;
  for await (const row of table.rows) {
    if (doc.y + ROW > bottom(doc)) {
      doc.addPage();
      doc.y = MARGIN;
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
  doc.font(bold ? 'Helvetica-Bold' : 'Helvetica').fontSize(8);
  table.columns.forEach((c, i) => {
    const text = cells[i] ?? '';
    doc.text(text, x, y, { width: c.width - 4, align: c.align ?? 'left', lineBreak: false, height: ROW });
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
