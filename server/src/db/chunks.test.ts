import { describe, expect, it } from 'vitest';
import { statementChunks } from './chunks.js';

const sizes = (n: number, max: number) => [...statementChunks(Array.from({ length: n }, (_, i) => i), max)].map((c) => c.length);

describe('statementChunks', () => {
  it('cuts full slices, then the rest in descending powers of two', () => {
    expect(sizes(0, 1000)).toEqual([]);
    expect(sizes(1, 1000)).toEqual([1]);
    expect(sizes(1000, 1000)).toEqual([1000]);
    // 2,777 = 1000 + 1000 + 512 + 256 + 8 + 1
    expect(sizes(2777, 1000)).toEqual([1000, 1000, 512, 256, 8, 1]);
    expect(sizes(499, 500)).toEqual([256, 128, 64, 32, 16, 2, 1]);
  });

  it('keeps every item once, in order', () => {
    const items = Array.from({ length: 1234 }, (_, i) => i);
    expect([...statementChunks(items, 250)].flat()).toEqual(items);
  });
});
