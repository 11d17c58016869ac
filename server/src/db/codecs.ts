// Row values differ by dialect only here: JSON arrives as text from SQLite and parsed from
// PostgreSQL; flags are 0/1 on both. Repos decode with these and nothing else.

export function json<T>(value: unknown): T {
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

export function jsonOrNull<T>(value: unknown): T | null {
  return value === null || value === undefined ? null : json<T>(value);
}

export const encodeJson = (value: unknown): string => JSON.stringify(value);

export const flag = (value: number | boolean | null | undefined): boolean => value === 1 || value === true;

export const toFlag = (value: boolean): number => (value ? 1 : 0);

export const iso = (d: Date): string => d.toISOString();

/**
 * A row of aggregates with every column but `key` as a number (SUMs come back as strings or null
 * from PostgreSQL, null over no rows from both).
 */
export function sumsRow<T, K extends keyof T & string>(row: Record<string, unknown>, key: K): T {
  const out: Record<string, unknown> = { [key]: row[key] };
  for (const [k, v] of Object.entries(row)) if (k !== key) out[k] = Number(v ?? 0);
  return out as T;
}
