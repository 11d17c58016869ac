/**
 * One CSV record per RFC 4180, CRLF-terminated: a field with a comma, quote, CR or LF is quoted and
 * its quotes doubled; null and undefined are empty fields. A text that a spreadsheet would run as a
 * formula (=, +, -, @, tab, CR first) gets a leading `'`, as the explain CSV does; the CSV imports
 * drop it again (`unguardFormula`), so an export imports back unchanged. csv-stringify is not a
 * dependency and this is all of it that the exports need.
 */
export function csvRecord(cells: readonly unknown[]): string {
  return cells.map(csvField).join(',') + '\r\n';
}

const FORMULA = /^[=+\-@\t\r]/;

function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  let s = String(v);
  if (typeof v === 'string' && FORMULA.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The field as written before `csvRecord` guarded it against formula injection. */
export const unguardFormula = (s: string): string => (s.startsWith("'") && FORMULA.test(s.slice(1)) ? s.slice(1) : s);
