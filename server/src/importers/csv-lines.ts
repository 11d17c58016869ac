import type { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { z } from 'zod';
import { unguardFormula } from '../lib/csv.js';

/** The options every CSV import takes, over its own column names. */
export const csvImportOptions = <const C extends readonly [string, ...string[]]>(columns: C) =>
  z.object({
    /** Header names to look for instead of the column names. */
    columns: z.partialRecord(z.enum(columns), z.string().trim().min(1)).default({}),
    /** Import nothing when any line is bad. */
    strict: z.boolean().default(false),
    /** Rows per transaction. */
    batchSize: z.number().int().min(1).max(10_000).default(500),
    /** Lines between two progress reports. */
    progressEvery: z.number().int().min(1).default(10_000),
  });

/** The whole file cannot be read (no header, a missing column, broken quoting). */
export class ImportFileError extends Error {}

/** One data line: `get` gives the trimmed field, or undefined when the file has no such column. */
export interface CsvLine<C extends string> {
  line: number;
  get(column: C): string | undefined;
}

/**
 * Streams a CSV import (UTF-8, with or without BOM) whose header names its columns in any order,
 * matched case-insensitively; `columns` renames them (`--col-<column> <header>`). Line numbers are
 * as in a text editor, the header being line 1. A field such as `'=x` that an export guarded against
 * spreadsheet formulas is read as `=x`.
 */
export async function* readCsvLines<C extends string>(
  input: Readable,
  required: readonly C[],
  optional: readonly C[],
  columns: Partial<Record<C, string>>,
): AsyncGenerator<CsvLine<C>> {
  const parser = input.pipe(parse({ bom: true, info: true, skip_empty_lines: true, relax_column_count: true, trim: true, encoding: 'utf8', max_record_size: 64 * 1024 }));
  let index: Map<C, number> | null = null;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      if (!index) {
        const headers = record.map((h) => h.trim().toLowerCase());
        const found = new Map<C, number>();
        const missing: string[] = [];
        for (const col of [...required, ...optional]) {
          const name = columns[col] ?? col;
          const i = headers.indexOf(name.toLowerCase());
          if (i >= 0) found.set(col, i);
          else if (required.includes(col)) missing.push(name === col ? col : `${col} (header "${name}")`);
        }
        if (missing.length) throw new ImportFileError(`the header line has no column ${missing.join(', ')}`);
        index = found;
        continue;
      }
      const at = index;
      yield { line: info.lines, get: (c) => (at.has(c) ? unguardFormula((record[at.get(c)!] ?? '').trim()) : undefined) };
    }
  } catch (err) {
    if (err instanceof ImportFileError) throw err;
    throw new ImportFileError(`cannot read the CSV: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    input.destroy();
  }
  if (!index) throw new ImportFileError('the file is empty: it needs a header line');
}
