/**
 * Sets of members, by their dense ordinal in the community (member_ordinals), for the per-day sets
 * of analytics_day_sets. A set is stored in the smaller of two forms: a bitset (byte 0 = 0, then bit
 * n of byte n >> 3 is ordinal n) or a sorted list of ordinals (byte 0 = 1, then little-endian
 * uint32s). A day's active members (a few percent of a large community) are a bitset; a day's
 * joiners or payers are a short list. Unions and intersections run on 32-bit words, so a month of
 * days at a million members takes milliseconds; no bitmap library is needed for sets this simple.
 */

const BITSET = 0;
const LIST = 1;

export class MemberSet {
  private words: Uint32Array;

  constructor(words = new Uint32Array(0)) {
    this.words = words;
  }

  static of(ordinals: Iterable<number>): MemberSet {
    const s = new MemberSet();
    for (const n of ordinals) s.add(n);
    return s;
  }

  /** Decodes a stored set (empty for null). */
  static decode(bytes: Uint8Array | null | undefined): MemberSet {
    const s = new MemberSet();
    if (bytes) s.orBytes(bytes);
    return s;
  }

  private grow(wordCount: number): void {
    if (wordCount <= this.words.length) return;
    const next = new Uint32Array(Math.max(wordCount, this.words.length * 2));
    next.set(this.words);
    this.words = next;
  }

  add(n: number): void {
    this.grow((n >>> 5) + 1);
    this.words[n >>> 5]! |= 1 << (n & 31);
  }

  delete(n: number): void {
    if (n >>> 5 < this.words.length) this.words[n >>> 5]! &= ~(1 << (n & 31));
  }

  has(n: number): boolean {
    return n >>> 5 < this.words.length && (this.words[n >>> 5]! & (1 << (n & 31))) !== 0;
  }

  clone(): MemberSet {
    return new MemberSet(this.words.slice());
  }

  /** This ∪ a stored set, in place. */
  orBytes(bytes: Uint8Array): this {
    if (bytes.length <= 1) return this;
    if (bytes[0] === LIST) {
      const view = new DataView(bytes.buffer, bytes.byteOffset + 1, bytes.length - 1);
      for (let i = 0; i + 4 <= view.byteLength; i += 4) this.add(view.getUint32(i, true));
      return this;
    }
    const n = bytes.length - 1;
    this.grow(Math.ceil(n / 4));
    const mine = new Uint8Array(this.words.buffer, this.words.byteOffset, this.words.length * 4);
    // Bytes map onto the words' bits on little-endian machines, which is every platform Node runs on here.
    for (let i = 0; i < n; i++) mine[i]! |= bytes[i + 1]!;
    return this;
  }

  or(other: MemberSet): this {
    this.grow(other.words.length);
    for (let i = 0; i < other.words.length; i++) this.words[i]! |= other.words[i]!;
    return this;
  }

  and(other: MemberSet): this {
    for (let i = 0; i < this.words.length; i++) this.words[i]! &= i < other.words.length ? other.words[i]! : 0;
    return this;
  }

  get size(): number {
    let count = 0;
    for (let i = 0; i < this.words.length; i++) {
      let v = this.words[i]!;
      v -= (v >>> 1) & 0x55555555;
      v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
      count += (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
    }
    return count;
  }

  *[Symbol.iterator](): IterableIterator<number> {
    for (let i = 0; i < this.words.length; i++) {
      let v = this.words[i]!;
      while (v !== 0) {
        const bit = 31 - Math.clz32(v & -v);
        yield i * 32 + bit;
        v &= v - 1;
      }
    }
  }

  /** The stored form: whichever of bitset and sorted list is smaller (the same set always encodes the same). */
  encode(): Uint8Array {
    const size = this.size;
    let top = this.words.length;
    while (top > 0 && this.words[top - 1] === 0) top--;
    const bytes = new Uint8Array(this.words.buffer, this.words.byteOffset, top * 4);
    let used = bytes.length;
    while (used > 0 && bytes[used - 1] === 0) used--;
    if (size * 4 < used) {
      const out = new Uint8Array(1 + size * 4);
      out[0] = LIST;
      const view = new DataView(out.buffer, 1);
      let i = 0;
      for (const n of this) view.setUint32(4 * i++, n, true);
      return out;
    }
    const out = new Uint8Array(1 + used);
    out[0] = BITSET;
    out.set(bytes.subarray(0, used), 1);
    return out;
  }
}
