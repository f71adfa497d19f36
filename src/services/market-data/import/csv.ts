/**
 * Just enough CSV for price files: one record per line, `"` quoting with `""` as an escaped quote.
 * A quoted field may not span lines: in a price file a newline inside quotes is a broken row, and
 * keeping records to one line lets a bad row be reported on its own line instead of swallowing
 * the rest of the file.
 */

export type Delimiter = ',' | ';' | '\t';
export const DELIMITERS: readonly Delimiter[] = [',', ';', '\t'];

export type SplitResult = { ok: true; fields: string[] } | { ok: false; message: string };

export function splitLine(line: string, delimiter: Delimiter): SplitResult {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    // leading blanks before an opening quote are tolerated (`a, "1,234"`)
    let j = i;
    while (line[j] === ' ') j++;
    if (line[j] === '"') {
      let value = '';
      j++;
      for (;;) {
        const close = line.indexOf('"', j);
        if (close < 0) return { ok: false, message: 'unterminated quoted field' };
        value += line.slice(j, close);
        if (line[close + 1] === '"') {
          value += '"';
          j = close + 2;
        } else {
          j = close + 1;
          break;
        }
      }
      while (line[j] === ' ') j++;
      if (j < line.length && line[j] !== delimiter) {
        return { ok: false, message: `unexpected text after a quoted field at column ${j + 1}` };
      }
      fields.push(value);
      if (j >= line.length) return { ok: true, fields };
      i = j + 1;
    } else {
      const end = line.indexOf(delimiter, i);
      if (end < 0) {
        fields.push(line.slice(i));
        return { ok: true, fields };
      }
      fields.push(line.slice(i, end));
      i = end + 1;
    }
  }
}

/** Splits text into lines on CRLF, LF or a lone CR; line n (1-based) is `lines[n - 1]`. */
export function splitLines(text: string): string[] {
  return text.split(/\r\n|\n|\r/);
}
