import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { loadSecrets, SecretsError, type SecretStore } from '../../../src/secrets';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'runcast-secrets-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function file(content: string, name = 'secrets.json'): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** The SecretsError `fn` throws (fails the test when it throws nothing else). */
function refusal(fn: () => unknown): SecretsError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SecretsError);
    return err as SecretsError;
  }
  throw new Error('expected loadSecrets to throw');
}

describe('loadSecrets', () => {
  describe('from SECRETS_FILE', () => {
    it('reads a JSON object of name → value', () => {
      const store = loadSecrets({ secretsFile: file('{"STRIPE_KEY": "sk_test_123456", "db_password": "hunter2hunter2"}'), env: {} });
      expect(store.names()).toEqual(['STRIPE_KEY', 'db_password']);
      expect(store.get('STRIPE_KEY')).toBe('sk_test_123456');
      expect(store.get('db_password')).toBe('hunter2hunter2');
      expect(store.get('missing')).toBeUndefined();
      expect(store.values()).toEqual(['sk_test_123456', 'hunter2hunter2']);
      expect(store.entries()).toEqual([
        { name: 'STRIPE_KEY', value: 'sk_test_123456' },
        { name: 'db_password', value: 'hunter2hunter2' },
      ]);
    });

    it('accepts an empty object', () => {
      expect(loadSecrets({ secretsFile: file('{}'), env: {} }).names()).toEqual([]);
    });

    it('reports a missing file', () => {
      const path = join(dir, 'nope.json');
      const err = refusal(() => loadSecrets({ secretsFile: path, env: {} }));
      expect(err.code).toBe('secrets_file_unreadable');
      expect(err.message).toBe(`SECRETS_FILE ${path} cannot be read: no such file`);
    });

    it('reports a directory', () => {
      const err = refusal(() => loadSecrets({ secretsFile: dir, env: {} }));
      expect(err.code).toBe('secrets_file_unreadable');
      expect(err.message).toMatch(/cannot be read: it is a directory/);
    });

    it('reports a path it cannot open, with the system code', () => {
      const path = join(file('{}'), 'child.json');
      const err = refusal(() => loadSecrets({ secretsFile: path, env: {} }));
      expect(err.code).toBe('secrets_file_unreadable');
      expect(err.message).toBe(`SECRETS_FILE ${path} cannot be read: ENOTDIR`);
      expect((err.cause as NodeJS.ErrnoException).code).toBe('ENOTDIR');
    });

    it.each([
      ['a truncated string', '{"API_KEY": "sk_live_abcdef'],
      ['a bare word', '{"API_KEY": sk_live_abcdef}'],
      ['trailing text', '{"API_KEY": "sk_live_abcdef"} sk_live_abcdef'],
      ['an empty file', ''],
    ])('reports invalid JSON (%s) without quoting the file', (_what, content) => {
      const err = refusal(() => loadSecrets({ secretsFile: file(content), env: {} }));
      expect(err.code).toBe('secrets_file_invalid');
      expect(err.message).toMatch(/is not valid JSON/);
      expect(err.message).not.toContain('sk_live');
      expect(String(err.cause ?? '')).not.toContain('sk_live');
    });

    it.each([
      ['an array', '["sk_live_abcdef"]'],
      ['a string', '"sk_live_abcdef"'],
      ['null', 'null'],
      ['a number', '42'],
    ])('refuses %s at the top level', (what, content) => {
      const err = refusal(() => loadSecrets({ secretsFile: file(content), env: {} }));
      expect(err.code).toBe('secrets_file_invalid');
      expect(err.message).toMatch(new RegExp(`must hold a JSON object .* not ${what}$`));
      expect(err.message).not.toContain('sk_live');
    });

    it.each([
      ['a number', '{"PIN": 12345678}'],
      ['null', '{"PIN": null}'],
      ['an object', '{"PIN": {"v": "abcdefgh"}}'],
      ['an array', '{"PIN": ["abcdefgh"]}'],
      ['a boolean', '{"PIN": true}'],
    ])('refuses a value that is %s', (what, content) => {
      const err = refusal(() => loadSecrets({ secretsFile: file(content), env: {} }));
      expect(err.code).toBe('secret_not_string');
      expect(err.message).toMatch(new RegExp(`secret "PIN" must be a string, not ${what}$`));
      expect(err.message).not.toContain('abcdefgh');
    });

    it.each([[''], ['has-dash'], ['has space'], ['dot.ted'], ['é'], ['x'.repeat(129)]])(
      'refuses the name %j without showing it',
      (name) => {
        const err = refusal(() => loadSecrets({ secretsFile: file(JSON.stringify({ OK_NAME: 'abcdefgh', [name]: 'value-123' })), env: {} }));
        expect(err.code).toBe('secret_invalid_name');
        expect(err.message).toContain(`key #2 (${name.length} characters) is not a valid secret name`);
        if (name.length > 0) expect(err.message).not.toContain(name);
      },
    );

    it('accepts a name of 128 characters', () => {
      const name = 'N'.repeat(128);
      expect(loadSecrets({ secretsFile: file(JSON.stringify({ [name]: 'value-123' })), env: {} }).names()).toEqual([name]);
    });

    it.each([[''], ['abc'], ['12345'], ['😀😀😀😀😀']])('refuses the value %j as shorter than 6 characters', (value) => {
      const err = refusal(() => loadSecrets({ secretsFile: file(JSON.stringify({ SHORTY: value })), env: {} }));
      expect(err.code).toBe('secret_too_short');
      expect(err.message).toBe(
        `secret "SHORTY" (SECRETS_FILE ${join(dir, 'secrets.json')}) is shorter than 6 characters: it cannot be masked without masking everything`,
      );
    });
  });

  describe('from SECRET_<NAME> environment variables', () => {
    it('takes the name after SECRET_ and ignores everything else', () => {
      const store = loadSecrets({
        env: { SECRET_GITHUB_TOKEN: 'ghp_abcdef123', SECRETS_FILE: '/nowhere', PATH: '/usr/bin', SECRET: 'no-prefix-x', secret_lower: 'ignored-x', SECRET_UNSET: undefined },
      });
      expect(store.names()).toEqual(['GITHUB_TOKEN']);
      expect(store.get('GITHUB_TOKEN')).toBe('ghp_abcdef123');
    });

    it('wins over the file', () => {
      const store = loadSecrets({
        secretsFile: file('{"API_KEY": "from-the-file", "OTHER": "other-value"}'),
        env: { SECRET_API_KEY: 'from-the-env', SECRET_EXTRA: 'extra-value' },
      });
      expect(store.names()).toEqual(['API_KEY', 'EXTRA', 'OTHER']);
      expect(store.get('API_KEY')).toBe('from-the-env');
      expect(store.values()).toEqual(['from-the-env', 'extra-value', 'other-value']);
    });

    it('checks the file on its own: a short value there is refused even when the environment overrides it', () => {
      const err = refusal(() => loadSecrets({ secretsFile: file('{"API_KEY": "abc"}'), env: { SECRET_API_KEY: 'long-enough' } }));
      expect(err.code).toBe('secret_too_short');
    });

    it.each([[''], ['abc'], ['12345']])('refuses the value %j as shorter than 6 characters', (value) => {
      const err = refusal(() => loadSecrets({ env: { SECRET_OTP: value } }));
      expect(err.code).toBe('secret_too_short');
      expect(err.message).toBe(
        'secret "OTP" (environment variable SECRET_OTP) is shorter than 6 characters: it cannot be masked without masking everything',
      );
    });

    it.each([['SECRET_'], ['SECRET_my-key'], ['SECRET_a.b'], [`SECRET_${'x'.repeat(129)}`]])('refuses the variable %s', (variable) => {
      const err = refusal(() => loadSecrets({ env: { [variable]: 'value-123456' } }));
      expect(err.code).toBe('secret_invalid_name');
      expect(err.message).toContain(JSON.stringify(variable));
      expect(err.message).not.toContain('value-123456');
    });
  });

  describe('the store', () => {
    let store: SecretStore;
    beforeEach(() => {
      store = loadSecrets({ secretsFile: file('{"B_KEY": "bbbbbbbb", "A_KEY": "aaaaaaaa"}'), env: {} });
    });

    it('lists names sorted, values and entries in the same order', () => {
      expect(store.names()).toEqual(['A_KEY', 'B_KEY']);
      expect(store.values()).toEqual(['aaaaaaaa', 'bbbbbbbb']);
      expect(store.entries().map((e) => e.name)).toEqual(store.names());
    });

    it('is frozen', () => {
      expect(Object.isFrozen(store)).toBe(true);
      expect(() => {
        (store as { get: unknown }).get = () => 'x';
      }).toThrow(TypeError);
      expect(Object.isFrozen(store.entries()[0])).toBe(true);
    });

    it('hands out copies of its lists', () => {
      store.names().push('EVIL');
      store.values().length = 0;
      expect(store.names()).toEqual(['A_KEY', 'B_KEY']);
      expect(store.values()).toEqual(['aaaaaaaa', 'bbbbbbbb']);
    });

    it('does not treat Object.prototype names as secrets', () => {
      expect(store.get('constructor')).toBeUndefined();
      expect(store.get('__proto__')).toBeUndefined();
    });

    it('shows no value when printed or serialised', () => {
      expect(JSON.stringify(store)).not.toContain('aaaaaaaa');
      expect(inspect(store)).not.toContain('aaaaaaaa');
    });
  });
});
