/**
 * Sets of members, by their dense ordinal in the community (member_ordinals), for the per-day sets
 * of analytics_day_sets. A set is stored in the smaller of two forms, after a 4-byte header whose
 * first byte names it: a bitset (0; little-endian 32-bit words, bit n of word n >> 5 is ordinal n)
 * or a sorted list of ordinals (1; little-endian uint32s). The header keeps the words 4-byte
 * aligned, so a stored set is read as a Uint32Array without copying. A day's active members (a few percent of a large community) are a bitset; a day's
 * joiners or payers are a short list. Unions and intersections run on 32-bit words, so a month of
 * days at a million members takes milliseconds; no bitmap library is needed for sets this simple.
 */

const BITSET = 0;
const LIST = 1;
const HEADER = 4;

/** A stored set's words after the header: a view when aligned (the usual case), else a copy. */
function storedWords(bytes: Uint8Array): Uint32Array {
  const offset = bytes.byteOffset + HEADER;
  const count = (bytes.length - HEADER) >>> 2;
  // Words are little-endian, as on every platform Node runs on here.
  if (offset % 4 === 0) return new Uint32Array(bytes.buffer, offset, count);
  return new Uint32Array(Uint8Array.prototype.slice.call(bytes, HEADER, HEADER + count * 4).buffer);
}

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
    if (bytes.length <= HEADER) return this;
    const words = storedWords(bytes);
    if (bytes[0] === LIST) {
      for (let i = 0; i < words.length; i++) this.add(words[i]!);
      return this;
    }
    this.grow(words.length);
    for (let i = 0; i < words.length; i++) this.words[i]! |= words[i]!;
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
    const list = size < top;
    const out = new Uint32Array(1 + (list ? size : top));
    if (list) {
      let i = 1;
      for (const n of this) out[i++] = n;
    } else out.set(this.words.subarray(0, top), 1);
    const bytes = new Uint8Array(out.buffer);
    bytes[0] = list ? LIST : BITSET;
    return bytes;
  }
}
