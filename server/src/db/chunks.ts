/**
 * Slices of `items` for multi-row statements (`VALUES (…), (…)`, `IN (…)`): full slices of `max`,
 * then the rest in descending powers of two. Each row count is a different SQL text, and SQLite
 * keeps one prepared statement per text (withStatementCache in kysely.ts), about 1 KB of its own
 * memory per parameter, outside the JS heap. With a slice per row count, an import made a new one
 * for nearly every batch; this way a query has at most log2(max) + 2 shapes, all of them reused.
 */
export function* statementChunks<T>(items: readonly T[], max: number): Generator<T[]> {
  let i = 0;
  for (; items.length - i >= max; i += max) yield items.slice(i, i + max);
  for (let size = 2 ** Math.floor(Math.log2(max)); size >= 1 && i < items.length; size /= 2) {
    if (items.length - i >= size) {
      yield items.slice(i, i + size);
      i += size;
    }
  }
}
