import { describe, expect, it } from 'vitest';
import { newId } from './ids.js';

describe('newId', () => {
  it('sorts in creation order, also within one millisecond, and keeps 29 characters after the prefix', () => {
    const ids = Array.from({ length: 5_000 }, () => newId('ord'));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => /^ord_[0-9a-z]{13}[0-9a-f]{16}$/.test(id))).toBe(true);
  });
});
