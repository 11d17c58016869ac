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
