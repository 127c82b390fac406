/** JSON Schema fragments shared by the built-in node types' config schemas. */

/** A string that is exactly one `{{ path }}` reference (it keeps the value's JSON type). */
export const EXACT_TEMPLATE_PATTERN = String.raw`^\{\{\s*[^\s.}]+(?:\.[^\s.}]+)*\s*\}\}$`;

/** The name of a secret (not its value): letters, digits, `_`, `.`, `-`. */
export const SECRET_NAME_SCHEMA = { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,128}$' } as const;
