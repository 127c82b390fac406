import fc from 'fast-check';
import { NodeError, normaliseRequest, type TemplateScope } from '../../../src/executor/node-type';
import { hasTemplate, isExactTemplate, resolveTemplates, templateRefs } from '../../../src/executor/templates';

const SECRET = 'sup3r-secret-value';

function scope(extra: Partial<TemplateScope> = {}): TemplateScope {
  return {
    request: normaliseRequest({
      method: 'post',
      path: '/users/42',
      headers: { 'X-Token': 'abc', 'Content-Type': 'application/json' },
      query: { page: '2' },
      params: { id: '42' },
      body: { email: 'a@b.c', tags: ['x', 'y'], nested: { n: 1 }, nothing: null },
    }),
    input: { qty: 3, ok: true, list: [1, 2] },
    nodes: {
      insert: { id: 'u1', count: 7 },
      all: [{ qty: 1 }, { qty: 5 }],
      'my-node': { 'a-b': 'dash' },
      zero: 0,
      nil: null,
    },
    secrets: { API_KEY: SECRET },
    ...extra,
  };
}

function templateError(fn: () => unknown): NodeError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(NodeError);
    expect((err as NodeError).code).toBe('template_error');
    return err as NodeError;
  }
  throw new Error('expected a template_error');
}

describe('resolveTemplates', () => {
  describe('a string that is exactly one reference', () => {
    it.each<[string, unknown]>([
      ['{{ nodes.insert.id }}', 'u1'],
      ['{{nodes.insert.count}}', 7],
      ['{{   input.ok   }}', true],
      ['{{ input.list }}', [1, 2]],
      ['{{ input }}', { qty: 3, ok: true, list: [1, 2] }],
      ['{{ request.body.nested }}', { n: 1 }],
      ['{{ request.body.nothing }}', null],
      ['{{ request.method }}', 'POST'],
      ['{{ request.headers.x-token }}', 'abc'],
      ['{{ request.params.id }}', '42'],
      ['{{ request.query.page }}', '2'],
      ['{{ nodes.all.0.qty }}', 1],
      ['{{ nodes.all.1 }}', { qty: 5 }],
      ['{{ nodes.my-node.a-b }}', 'dash'],
      ['{{ nodes.zero }}', 0],
      ['{{ nodes.nil }}', null],
      ['{{ secrets.API_KEY }}', SECRET],
      ['{{ request.body.tags.1 }}', 'y'],
    ])('%s keeps the JSON type of the value', (template, expected) => {
      expect(resolveTemplates(template, scope())).toEqual(expected);
    });
  });

  describe('a string with text around references', () => {
    it.each<[string, string]>([
      ['id={{ nodes.insert.id }}', 'id=u1'],
      ['{{ nodes.insert.id }}-{{ nodes.insert.count }}', 'u1-7'],
      ['Bearer {{ secrets.API_KEY }}', `Bearer ${SECRET}`],
      ['obj {{ request.body.nested }}', 'obj {"n":1}'],
      ['arr {{ input.list }}', 'arr [1,2]'],
      ['null {{ nodes.nil }}', 'null null'],
      ['bool {{ input.ok }}', 'bool true'],
      [' {{ nodes.zero }}', ' 0'],
      ['{{ nodes.insert.id }} ', 'u1 '],
      ['{{nodes.insert.id}}{{nodes.insert.id}}', 'u1u1'],
    ])('%s becomes %s', (template, expected) => {
      expect(resolveTemplates(template, scope())).toBe(expected);
    });
  });

  it('walks objects and arrays deeply and leaves keys and non-strings alone', () => {
    const config = {
      '{{ nodes.insert.id }}': 'key stays',
      body: { id: '{{ nodes.insert.id }}', list: ['{{ nodes.zero }}', 'x {{ nodes.zero }}', 5, true, null] },
      n: 1,
    };
    expect(resolveTemplates(config, scope())).toEqual({
      '{{ nodes.insert.id }}': 'key stays',
      body: { id: 'u1', list: [0, 'x 0', 5, true, null] },
      n: 1,
    });
  });

  it('does not modify its argument', () => {
    const config = { a: '{{ nodes.insert.id }}', b: ['{{ nodes.zero }}'] };
    const copy = structuredClone(config);
    resolveTemplates(config, scope());
    expect(config).toEqual(copy);
  });

  it('does not resolve references inside resolved values (no injection from data)', () => {
    const s = scope({ input: { evil: '{{ secrets.API_KEY }}' } });
    expect(resolveTemplates('{{ input.evil }}', s)).toBe('{{ secrets.API_KEY }}');
    expect(resolveTemplates('x {{ input.evil }}', s)).toBe('x {{ secrets.API_KEY }}');
  });

  it('keeps a "__proto__" key as a plain key', () => {
    const config = JSON.parse('{"__proto__": {"polluted": "{{ nodes.insert.id }}"}}') as Record<string, unknown>;
    const out = resolveTemplates(config, scope()) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(out, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('resolves item and index inside a loop', () => {
    const s = scope({ item: { name: 'n1' }, index: 0 });
    expect(resolveTemplates({ a: '{{ item.name }}', b: '{{ index }}', c: '#{{ index }}' }, s)).toEqual({
      a: 'n1',
      b: 0,
      c: '#0',
    });
  });

  it.each<[string]>([['{{ a..b }}'], ['{{}}'], ['{{ }}'], ['{ nodes.insert.id }'], ['{{ nodes.insert.id }'], ['{{ a b }}']])(
    'leaves %s, which is not a reference, as it is',
    (s) => {
      expect(resolveTemplates(s, scope())).toBe(s);
    },
  );

  describe('a reference to something missing', () => {
    it.each<[string, string, Partial<TemplateScope>]>([
      ['{{ nope.x }}', 'unknown root "nope"', {}],
      ['{{ nodes.ghost.id }}', 'node "ghost" has no output', {}],
      ['{{ nodes }}', 'name a node', {}],
      ['{{ nodes.insert.missing }}', 'nodes.insert has no "missing"', {}],
      ['{{ nodes.all.2.qty }}', 'no element 2', {}],
      ['{{ nodes.all.first }}', 'is not an element number', {}],
      ['{{ nodes.all.01 }}', 'is not an element number', {}],
      ['{{ nodes.zero.x }}', 'which is a number', {}],
      ['{{ nodes.nil.x }}', 'which is null', {}],
      ['{{ request.headers.authorization }}', 'request.headers has no "authorization"', {}],
      ['{{ request.body.toString }}', 'request.body has no "toString"', {}],
      ['{{ request.body.__proto__ }}', 'request.body has no "__proto__"', {}],
      ['{{ input.constructor }}', 'input has no "constructor"', {}],
      ['{{ item }}', '"item" is only defined inside a loop body', {}],
      ['{{ index }}', '"index" is only defined inside a loop body', {}],
      ['{{ secrets.OTHER }}', 'secret "OTHER" is not defined', {}],
      ['{{ secrets }}', 'name a secret', {}],
      ['{{ input.a }}', '"input" is not defined', { input: undefined }],
    ])('%s fails with template_error (%s)', (template, message, extra) => {
      const err = templateError(() => resolveTemplates({ deep: ['x', `pre ${template}`] }, scope(extra)));
      expect(err.message).toContain(message);
      expect(err.message).toContain(template);
    });

    it('never puts a secret value in the message', () => {
      for (const template of ['{{ secrets.API_KEY.length }}', '{{ secrets.API_KEY.0 }}', 'x{{ secrets.API_KEY.a.b }}']) {
        const err = templateError(() => resolveTemplates(template, scope()));
        expect(err.message).not.toContain(SECRET);
        expect(JSON.stringify(err.details)).not.toContain(SECRET);
      }
    });
  });

  it('leaves every string without "{{" unchanged', () => {
    fc.assert(
      fc.property(
        fc.string().filter((s) => !s.includes('{{')),
        (s) => resolveTemplates(s, scope()) === s,
      ),
    );
  });

  it('leaves every JSON value without "{{" in its strings unchanged', () => {
    const noBraces = fc.string().filter((s) => !s.includes('{{'));
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }).filter((v) => !JSON.stringify(v).includes('{{')), (v) => {
        expect(resolveTemplates(v, scope())).toEqual(v);
      }),
    );
    fc.assert(fc.property(noBraces, noBraces, (a, b) => resolveTemplates(`${a}{{ nodes.insert.id }}${b}`, scope()) === `${a}u1${b}`));
  });
});

describe('templateRefs', () => {
  it('lists every reference with the JSON pointer of its string', () => {
    const config = {
      url: 'https://x/{{ nodes.a.id }}/{{ request.params.id }}',
      body: { id: '{{ nodes.b }}', list: ['plain', '{{ item.name }}'] },
      'we/ird~key': '{{ secrets.K }}',
      n: 5,
    };
    expect(templateRefs(config)).toEqual([
      { path: ['nodes', 'a', 'id'], pointer: '/url' },
      { path: ['request', 'params', 'id'], pointer: '/url' },
      { path: ['nodes', 'b'], pointer: '/body/id' },
      { path: ['item', 'name'], pointer: '/body/list/1' },
      { path: ['secrets', 'K'], pointer: '/we~1ird~0key' },
    ]);
  });

  it.each<[unknown]>([[{}], [{ a: 'no refs', b: [1, null, true] }], ['{{ a..b }}'], [null], [42]])(
    'finds no reference in %j',
    (value) => {
      expect(templateRefs(value)).toEqual([]);
    },
  );

  it('does not look at object keys', () => {
    expect(templateRefs({ '{{ nodes.a }}': 1 })).toEqual([]);
  });

  it('finds the same references resolveTemplates resolves', () => {
    const config = { a: '{{ nodes.insert.id }}', b: 'x {{ request.body.email }} {{ nodes.all.1.qty }}' };
    expect(templateRefs(config).map((r) => r.path.join('.'))).toEqual([
      'nodes.insert.id',
      'request.body.email',
      'nodes.all.1.qty',
    ]);
    expect(resolveTemplates(config, scope())).toEqual({ a: 'u1', b: 'x a@b.c 5' });
  });
});

describe('hasTemplate / isExactTemplate', () => {
  it.each<[string, boolean, boolean]>([
    ['{{ a.b }}', true, true],
    ['x {{ a }}', true, false],
    [' {{ a }}', true, false],
    ['{{ a }}{{ b }}', true, false],
    ['plain', false, false],
    ['{{ a..b }}', false, false],
  ])('%j: has=%s exact=%s', (s, has, exact) => {
    expect(hasTemplate(s)).toBe(has);
    expect(isExactTemplate(s)).toBe(exact);
  });
});
