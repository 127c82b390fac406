import fc from 'fast-check';
import { compileMatcher, MAX_SCAN_SOURCE, type Matcher } from '../../../src/redaction/matcher';

/** The obvious implementation: every occurrence of every literal, spans merged when they overlap or touch. */
function reference(literals: readonly string[], text: string, replacement: string): string {
  const spans: Array<[number, number]> = [];
  for (const literal of literals) {
    if (literal.length === 0) continue;
    for (let i = text.indexOf(literal); i >= 0; i = text.indexOf(literal, i + 1)) spans.push([i, i + literal.length]);
  }
  spans.sort((a, b) => a[0] - b[0]);
  let out = '';
  let at = 0;
  let current: [number, number] | undefined;
  for (const span of spans) {
    if (current !== undefined && span[0] <= current[1]) {
      current[1] = Math.max(current[1], span[1]);
      continue;
    }
    if (current !== undefined) {
      out += text.slice(at, current[0]) + replacement;
      at = current[1];
    }
    current = [span[0], span[1]];
  }
  if (current === undefined) return text;
  return out + text.slice(at, current[0]) + replacement + text.slice(current[1]);
}

const strategies = ['scan', 'filter'] as const;

describe.each(strategies)('compileMatcher, strategy %s', (strategy) => {
  const compile = (literals: string[]): Matcher => compileMatcher(literals, { strategy }) as Matcher;

  it('answers undefined without literals', () => {
    expect(compileMatcher([], { strategy })).toBeUndefined();
    expect(compileMatcher([''], { strategy })).toBeUndefined();
  });

  it.each<[string, string[], string, string]>([
    ['one occurrence', ['secret'], 'a secret b', 'a # b'],
    ['several occurrences', ['secret'], 'secret, secret; secret', '#, #; #'],
    ['the longest literal at a position', ['abcdef', 'abcdefgh'], 'xabcdefghx', 'x#x'],
    ['overlapping literals as one span', ['xyzabc', 'abcdef'], '1xyzabcdef2', '1#2'],
    ['a literal inside another', ['abcdefgh', 'cdefgh'], '_abcdefgh_cdefgh_', '_#_#_'],
    ['touching occurrences as one span', ['abcdef'], 'abcdefabcdef', '#'],
    ['self-overlapping occurrences', ['aaaaaa'], 'baaaaaaab', 'b#b'],
    ['metacharacters literally', ['a.b*c+(d)[e]{f}|g?^$\\/'], 'x a.b*c+(d)[e]{f}|g?^$\\/ y a-bbc', 'x # y a-bbc'],
    ['non-ASCII, astral and control units', ['é中😀\u0000\n\u2028'], '<é中😀\u0000\n\u2028>', '<#>'],
    ['a lone surrogate as a code unit', ['ab\ud800cdef'], 'x ab\ud800cdef y', 'x # y'],
    ['nothing when nothing matches', ['secret'], 'secre t', 'secre t'],
    ['literals shorter than 6 units too', ['ab', 'abc'], 'xabcx ab', 'x#x #'],
  ])('replaces %s', (_what, literals, text, expected) => {
    const matcher = compile(literals);
    expect(matcher.replace(text, '#')).toBe(expected);
    expect(matcher.test(text)).toBe(expected !== text);
  });

  it('agrees with the reference implementation on random literals and texts', () => {
    const unit = fc.constantFrom('a', 'b', 'c', '.', '\\', '(', 'é', '😀', '\ud800', ' ');
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit, minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 6 }),
        fc.string({ unit, maxLength: 60 }),
        (literals, text) => {
          const matcher = compile(literals);
          const expected = reference(literals, text, '#');
          expect(matcher.replace(text, '#')).toBe(expected);
          expect(matcher.test(text)).toBe(expected !== text);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('can be used again after a match (no state leaks between calls)', () => {
    const matcher = compile(['secret']);
    expect(matcher.replace('secret', '#')).toBe('#');
    expect(matcher.test('a secret')).toBe(true);
    expect(matcher.replace('x secret', '#')).toBe('x #');
    expect(matcher.test('none')).toBe(false);
  });
});

describe('compileMatcher, strategy auto', () => {
  it('uses the filter for a pattern too big to scan, with the same results', () => {
    // 2,000 distinct 16-character literals make a pattern far above MAX_SCAN_SOURCE.
    const literals = Array.from({ length: 2_000 }, (_, i) => `key-${String(i * 7919).padStart(8, '0')}-zz`);
    expect(literals.join('|').length).toBeGreaterThan(MAX_SCAN_SOURCE);
    const auto = compileMatcher(literals) as Matcher;
    const text = `a ${literals[1234]} b ${literals[5]}${literals[6]} c key-00000000-z`;
    expect(auto.replace(text, '#')).toBe(reference(literals, text, '#'));
    expect(auto.replace(text, '#')).toBe('a # b # c key-00000000-z');
  });
});
