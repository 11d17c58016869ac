// MemberSet against plain JS sets: stored forms round-trip, unions and intersections of stored sets
// count what Set arithmetic counts, and the smaller form is chosen.
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { MemberSet } from './day-sets.js';

const ordinals = fc.oneof(
  fc.array(fc.integer({ min: 1, max: 200 }), { maxLength: 150 }),
  fc.array(fc.integer({ min: 1, max: 2_000_000 }), { maxLength: 40 }),
);

it('round-trips through the stored form and keeps membership, size and order', () => {
  fc.assert(
    fc.property(ordinals, (list) => {
      const expected = [...new Set(list)].sort((a, b) => a - b);
      const back = MemberSet.decode(MemberSet.of(list).encode());
      expect([...back]).toEqual(expected);
      expect(back.size).toBe(expected.length);
      for (const n of list) expect(back.has(n)).toBe(true);
    }),
  );
});

it('unions and intersections of stored sets match Set arithmetic', () => {
  fc.assert(
    fc.property(fc.array(ordinals, { minLength: 1, maxLength: 6 }), ordinals, (days, other) => {
      const union = new MemberSet();
      for (const d of days) union.orBytes(MemberSet.of(d).encode());
      const expectedUnion = new Set(days.flat());
      expect(union.size).toBe(expectedUnion.size);
      const inter = union.clone().and(MemberSet.decode(MemberSet.of(other).encode()));
      expect(inter.size).toBe(new Set(other.filter((n) => expectedUnion.has(n))).size);
      // `and` and `or` leave the argument alone; deleting takes a member out.
      const o = MemberSet.of(other);
      union.or(o);
      expect(o.size).toBe(new Set(other).size);
      for (const n of other) union.delete(n);
      expect([...union].some((n) => other.includes(n))).toBe(false);
    }),
  );
});

it('stores dense sets as a bitset and sparse ones as a list', () => {
  const dense = MemberSet.of(Array.from({ length: 1000 }, (_, i) => i + 1)).encode();
  expect(dense[0]).toBe(0);
  expect(dense.length).toBe(4 + 4 * Math.ceil(1001 / 32));
  const sparse = MemberSet.of([5, 900_000]).encode();
  expect(sparse[0]).toBe(1);
  expect(sparse.length).toBe(4 + 2 * 4);
  expect(new MemberSet().encode().length).toBe(4);
  // A stored set read from an unaligned place (a Buffer slice) decodes the same.
  const shifted = new Uint8Array(dense.length + 1);
  shifted.set(dense, 1);
  expect([...MemberSet.decode(shifted.subarray(1))]).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
});
