/**
 * One compiled pattern for a set of literal strings: finds every occurrence of any of
 * them and masks the union of the matched spans. Imports nothing of ours.
 *
 * The literals are sorted and emitted as a single RegExp shaped like a trie: common
 * prefixes are written once and every alternation branches on one character, so the
 * engine never retries a long list of alternatives at a position, and at each
 * position the longest literal wins (a greedy optional group tries the longer
 * continuation first).
 *
 * Two ways to run it, with the same results:
 * - `scan`: the RegExp scans the text itself. Fastest while the pattern is small.
 * - `filter`: a rolling hash of every 6-character window of the text is looked up in
 *   a bitmap of the literals' first 6 characters, and the RegExp (sticky) runs only at
 *   the positions that pass. V8 stops optimising a RegExp whose source passes about
 *   20 KB (roughly 30 secrets' worth of forms), and a scan then becomes about 25×
 *   slower; the filter's cost per character does not depend on how many literals
 *   there are.
 */

export interface Matcher {
  /** True when any literal occurs in `text`. */
  test(text: string): boolean;
  /**
   * `text` with every occurrence of every literal replaced by `replacement`. Matches
   * that overlap or touch are merged into one span first, so no fragment of an
   * overlapped literal survives next to the mask.
   */
  replace(text: string, replacement: string): string;
}

export interface MatcherOptions {
  /** `auto` (default): `scan` while the pattern source is at most {@link MAX_SCAN_SOURCE} characters, else `filter`. */
  strategy?: 'auto' | 'scan' | 'filter';
}

/** Largest pattern source run as a plain scan (V8 optimises RegExps up to 20 KiB of source). */
export const MAX_SCAN_SOURCE = 16_000;

/**
 * Compile `literals` (empty strings ignored) into a matcher; `undefined` when there
 * are none.
 */
export function compileMatcher(literals: Iterable<string>, options: MatcherOptions = {}): Matcher | undefined {
  const sorted = [...new Set(literals)].filter((l) => l.length > 0).sort();
  if (sorted.length === 0) return undefined;
  const source = emit(sorted, 0, sorted.length, 0);
  const strategy = options.strategy ?? 'auto';
  const scan = strategy === 'scan' || (strategy === 'auto' && source.length <= MAX_SCAN_SOURCE);
  return scan ? scanMatcher(source) : filterMatcher(source, sorted);
}

/** Calls `each(start, end)` for the longest literal at each position where one starts, in order; stops when it returns true. */
type Matches = (text: string, each: (start: number, end: number) => boolean | void) => void;

function scanMatcher(source: string): Matcher {
  const probe = new RegExp(source);
  // Zero-width lookahead, so that exec can be restarted at every position and see
  // matches that begin inside an earlier one.
  const scanner = new RegExp(`(?=(${source}))`, 'g');
  const matches: Matches = (text, each) => {
    // Most text holds no secret: one plain scan answers that faster than the
    // lookahead scanner does.
    if (!probe.test(text)) return;
    scanner.lastIndex = 0;
    for (let m = scanner.exec(text); m !== null; m = scanner.exec(text)) {
      if (each(m.index, m.index + (m[1] as string).length) === true) break;
      scanner.lastIndex = m.index + 1;
    }
    scanner.lastIndex = 0;
  };
  return { test: (text) => probe.test(text), replace: (text, replacement) => mask(text, replacement, matches) };
}

function filterMatcher(source: string, sorted: readonly string[]): Matcher {
  // Sticky: tried at one candidate position, it answers the longest literal starting there.
  const at = new RegExp(source, 'y');
  const candidates = createPrefixFilter(sorted);
  const matches: Matches = (text, each) => {
    candidates(text, (i) => {
      at.lastIndex = i;
      const m = at.exec(text);
      return m === null ? false : each(i, i + m[0].length);
    });
  };
  return {
    test(text) {
      let hit = false;
      matches(text, () => (hit = true));
      return hit;
    },
    replace: (text, replacement) => mask(text, replacement, matches),
  };
}

/** Replaces the union of the spans `matches` reports (in order of their start). */
function mask(text: string, replacement: string, matches: Matches): string {
  let out = '';
  let copiedTo = 0; // text[0, copiedTo) is settled in out
  let spanStart = -1;
  let spanEnd = -1;
  matches(text, (start, end) => {
    if (start <= spanEnd) {
      if (end > spanEnd) spanEnd = end;
      return;
    }
    if (spanStart >= 0) {
      out += text.slice(copiedTo, spanStart) + replacement;
      copiedTo = spanEnd;
    }
    spanStart = start;
    spanEnd = end;
  });
  if (spanStart < 0) return text;
  return out + text.slice(copiedTo, spanStart) + replacement + text.slice(spanEnd);
}

const GRAM = 6;
const MULTIPLIER = 0x9e3779b1 | 0;

/**
 * A filter over the first `gram` (6, or the shortest literal's length) code units of
 * every literal: a rolling multiplicative hash of each window of the text is looked
 * up in a bitmap of about 256 bits per literal (at most 1 MiB), so a window that
 * begins no literal passes about once in 256. Never misses a literal's start.
 * Calls `candidate(i)` for each passing position until it returns true.
 */
function createPrefixFilter(literals: readonly string[]): (text: string, candidate: (i: number) => boolean | void) => void {
  const gram = Math.min(GRAM, ...literals.map((l) => l.length));
  let bits = 1 << 16;
  while (bits < literals.length * 256 && bits < 1 << 23) bits *= 2;
  const shift = 32 - Math.log2(bits);
  const bitmap = new Uint8Array(bits >>> 3);
  let outgoing = 1; // MULTIPLIER^(gram - 1): the weight of the unit leaving the window
  for (let k = 1; k < gram; k += 1) outgoing = Math.imul(outgoing, MULTIPLIER);
  const hashAt = (text: string, from: number): number => {
    let h = 0;
    for (let k = from; k < from + gram; k += 1) h = (Math.imul(h, MULTIPLIER) + text.charCodeAt(k)) | 0;
    return h;
  };
  for (const literal of literals) {
    const slot = hashAt(literal, 0) >>> shift;
    bitmap[slot >>> 3] |= 1 << (slot & 7);
  }
  return (text, candidate) => {
    const n = text.length;
    if (n < gram) return;
    let h = hashAt(text, 0);
    for (let i = 0; ; i += 1) {
      const slot = h >>> shift;
      if ((bitmap[slot >>> 3] as number) & (1 << (slot & 7)) && candidate(i) === true) return;
      if (i + gram >= n) return;
      h = (Math.imul((h - Math.imul(text.charCodeAt(i), outgoing)) | 0, MULTIPLIER) + text.charCodeAt(i + gram)) | 0;
    }
  };
}

/**
 * Pattern for `sorted[lo, hi)`, which share their first `depth` code units and are all
 * longer than that; the pattern matches what follows those units, longest first. In
 * sorted order a literal that is a prefix of others comes right before them, and the
 * common prefix of a run is the common prefix of its first and last literal.
 */
function emit(sorted: readonly string[], lo: number, hi: number, depth: number): string {
  const alternatives: string[] = [];
  let i = lo;
  while (i < hi) {
    const first = sorted[i] as string;
    const unit = first.charCodeAt(depth);
    let j = i + 1;
    while (j < hi && (sorted[j] as string).charCodeAt(depth) === unit) j += 1;
    const last = sorted[j - 1] as string;
    let common = depth + 1;
    while (common < first.length && common < last.length && first.charCodeAt(common) === last.charCodeAt(common)) common += 1;
    const chain = escapeLiteral(first.slice(depth, common));
    const endsHere = first.length === common;
    const rest = endsHere ? i + 1 : i;
    if (rest === j) alternatives.push(chain);
    else if (endsHere) alternatives.push(`${chain}(?:${emit(sorted, rest, j, common)})?`);
    else alternatives.push(`${chain}(?:${emit(sorted, rest, j, common)})`);
    i = j;
  }
  return alternatives.join('|');
}

/** RegExp metacharacters (outside a class), escaped with a backslash. */
const META = new Set('\\^$.|?*+()[]{}/'.split(''));

/**
 * A literal as pattern text: printable ASCII as itself (metacharacters backslashed),
 * every other UTF-16 code unit as `\uXXXX` — the pattern has no `u` flag, so a lone
 * surrogate is matched as the code unit it is.
 */
function escapeLiteral(literal: string): string {
  let out = '';
  for (let i = 0; i < literal.length; i += 1) {
    const c = literal.charCodeAt(i);
    const ch = literal[i] as string;
    if (c < 0x20 || c > 0x7e) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += META.has(ch) ? `\\${ch}` : ch;
  }
  return out;
}
