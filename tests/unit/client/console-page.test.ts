/**
 * The console page is self-contained and its inlined script is valid, dependency-free
 * browser JavaScript (the browser itself is exercised in tests/e2e/console.test.ts).
 */
import { consoleHtml } from '../../../src/console/page';
import { runcastClientLibrary } from '../../../src/client/client';

const scriptOf = (html: string) => {
  const m = /<script>([\s\S]*)<\/script>/.exec(html);
  if (!m) throw new Error('no inline script');
  return m[1]!;
};

describe('consoleHtml', () => {
  it('returns one HTML page with inline style and script, and nothing loaded from elsewhere', () => {
    const html = consoleHtml();
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('<style>');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|@import/);
    expect(html.match(/<\/script>/g)).toHaveLength(1);
  });

  it('inlines a script that parses and references no module system', () => {
    const script = scriptOf(consoleHtml());
    // Compiles (as a function body: parsed, not run).
    expect(() => new Function(script)).not.toThrow();
    expect(script).not.toMatch(/\brequire\(|\bexports\.|\bmodule\.exports|_1\.|cov_/);
  });

  it('has every element the app and the tests rely on', () => {
    const html = consoleHtml();
    for (const id of ['token', 'connect', 'run-id', 'watch', 'workflow-id', 'definition', 'input', 'breakpoints', 'start', 'cancel', 'continue', 'step', 'viewers', 'run-status', 'nodes', 'timeline', 'response', 'failure']) {
      expect(html).toContain(`id="${id}"`);
    }
  });
});

describe('runcastClientLibrary', () => {
  it('runs with the Node-only globals hidden', () => {
    // Every Node-only global is shadowed by an undefined parameter: the library must not need one.
    const hidden = ['process', 'require', 'module', 'exports', 'Buffer', 'global', '__dirname', '__filename', 'setImmediate'];
    const lib = new Function(...hidden, `return (${runcastClientLibrary.toString()})()`)() as ReturnType<typeof runcastClientLibrary>;
    expect(Object.keys(lib).sort()).toEqual(['ClientError', 'backoffDelay', 'createClient', 'decodeJwtPayload', 'refreshDelay']);
    const b64 = Buffer.from(JSON.stringify({ exp: 7 })).toString('base64url');
    expect(lib.decodeJwtPayload(`x.${b64}.y`)).toEqual({ exp: 7 });
    expect(() => lib.createClient({ url: 'ws://x', token: 't' })).toThrow(/no WebSocket class/);
  });
});
