/**
 * One compiled pattern for a set of literal strings: finds every occurrence of any of
 * them and masks the union of the matched spans. Imports nothing of ours.
 *
 * The literals are sorted and emitted as a single RegExp shaped like a trie: common
 * prefixes are written once and every alternation branches on one character, so the
 * engine never retries a long list of alternatives at a position, and at each
 * position the longest literal wins (a greedy optional group tries the longer
 * continuation first).
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

/** Compile `literals` (empty strings ignored) into a matcher; `undefined` when there are none. */
export function compileMatcher(literals: Iterable<string>): Matcher | undefined {
  const sorted = [...new Set(literals)].filter((l) => l.length > 0).sort();
  if (sorted.length === 0) return undefined;

  const source = emit(sorted, 0, sorted.length, 0);
  const probe = new RegExp(source);
  // Zero-width lookahead so that exec can be restarted at every position and see
  // matches that begin inside an earlier one.
  const scanner = new RegExp(`(?=(${source}))`, 'g');

  return {
    test: (text) => probe.test(text),
    replace(text, replacement) {
      // Most text holds no secret: one plain scan answers that faster than the
      // lookahead scanner does.
      if (!probe.test(text)) return text;
      scanner.lastIndex = 0;
      let m = scanner.exec(text);
      if (m === null) return text;
      let out = '';
      let copiedTo = 0; // text[0, copiedTo) is already in out
      let spanStart = -1;
      let spanEnd = -1;
      while (m !== null) {
        const start = m.index;
        const end = start + (m[1] as string).length;
        if (start <= spanEnd) {
          if (end > spanEnd) spanEnd = end;
        } else {
          if (spanStart >= 0) {
            out += text.slice(copiedTo, spanStart) + replacement;
            copiedTo = spanEnd;
          }
          spanStart = start;
          spanEnd = end;
        }
        scanner.lastIndex = start + 1;
        m = scanner.exec(text);
      }
      out += text.slice(copiedTo, spanStart) + replacement + text.slice(spanEnd);
      scanner.lastIndex = 0;
      return out;
    },
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

/** Letters, digits and `_` as they are; every other UTF-16 code unit as `\uXXXX` (no metacharacter can slip through). */
function escapeLiteral(literal: string): string {
  let out = '';
  for (let i = 0; i < literal.length; i += 1) {
    const c = literal.charCodeAt(i);
    const plain = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
    out += plain ? literal[i] : `\\u${c.toString(16).padStart(4, '0')}`;
  }
  return out;
}
