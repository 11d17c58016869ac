/**
 * One CSV record per RFC 4180, CRLF-terminated: a field with a comma, quote, CR or LF is quoted and
 * its quotes doubled; null and undefined are empty fields. csv-stringify is not a dependency and
 * this is all of it that the exports need.
 */
export function csvRecord(cells: readonly unknown[]): string {
  return cells.map(csvField).join(',') + '\r\n';
}

function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
