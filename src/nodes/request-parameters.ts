/**
 * `request.parameters`: validates the request's `body`, `query`, `headers` and `params`
 * against JSON Schemas (ajv, draft-07, with ajv-formats) and outputs the validated parts.
 */
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { NodeError, type NodeType } from '../executor/node-type';
import type { ProblemDetail } from '../protocol/errors';

/** The request parts a `request.parameters` node can validate. */
export const REQUEST_PARTS = ['body', 'query', 'headers', 'params'] as const;
export type RequestPart = (typeof REQUEST_PARTS)[number];

/** One violation, as listed in the `validation_failed` error's details. */
export interface ParameterViolation {
  part: RequestPart;
  /** JSON pointer inside the part (`/email`); `''` for the part itself. */
  path: string;
  message: string;
}

type SchemaValue = Record<string, unknown> | boolean;

// Query, headers and params arrive as strings: coerce them to the schema's types, as
// HTTP frameworks do. The body is JSON already and is validated strictly.
// `addUsedSchema: false` keeps schemas with the same `$id` in two workflows apart.
function makeAjv(coerceTypes: boolean): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: true, coerceTypes, addUsedSchema: false });
  addFormats(ajv);
  return ajv;
}

/**
 * Compiles each distinct schema once. Keyed by the schema's JSON text, so the same
 * schema in many runs (or many workflows) shares one validator. Bounded: ad-hoc
 * workflows arrive with every `run` message, so the least recently used validators
 * are dropped past `maxEntries`.
 */
class ValidatorCache {
  private readonly strict = makeAjv(false);
  private readonly coercing = makeAjv(true);
  private readonly byText = new Map<string, ValidateFunction>();

  constructor(private readonly maxEntries = 500) {}

  get(part: RequestPart, schema: SchemaValue): ValidateFunction {
    const key = `${part === 'body' ? 'strict' : 'coerce'}:${JSON.stringify(schema)}`;
    let validate = this.byText.get(key);
    if (validate) {
      this.byText.delete(key); // re-insert: Map order is the recency order
    } else {
      const ajv = part === 'body' ? this.strict : this.coercing;
      try {
        validate = ajv.compile(schema);
      } finally {
        // ajv keeps every schema object it saw in a Map of its own; this cache is the only one.
        if (typeof schema === 'object' && schema !== null) ajv.removeSchema(schema);
      }
      if (this.byText.size >= this.maxEntries) this.byText.delete(this.byText.keys().next().value!);
    }
    this.byText.set(key, validate);
    return validate;
  }
}

function violation(part: RequestPart, e: ErrorObject): ParameterViolation {
  let path = e.instancePath;
  // Point at the missing or unexpected property itself, not at its parent.
  if (e.keyword === 'required') path += `/${String((e.params as { missingProperty: string }).missingProperty)}`;
  if (e.keyword === 'additionalProperties')
    path += `/${String((e.params as { additionalProperty: string }).additionalProperty)}`;
  return { part, path, message: e.message ?? 'is invalid' };
}

/**
 * Create the `request.parameters` node type. Config: optional JSON Schemas `body`,
 * `query`, `headers` (names are lower case) and `params`; the schemas are not
 * template-resolved. Defaults from the schemas are filled in; `query`, `headers` and
 * `params` are coerced to the schema's types (`"10"` → `10`). Output:
 * `{body, query, headers, params}` — validated parts as validated, the others as
 * received. The request itself is not modified.
 *
 * @throws NodeError `validation_failed` with `details`: every violation, as
 *   `{part, path, message}` (`ParameterViolation[]`).
 */
export function createRequestParametersNode(): NodeType {
  const cache = new ValidatorCache();
  const schemaSchema = { type: ['object', 'boolean'] };
  return {
    type: 'request.parameters',
    configSchema: {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      additionalProperties: false,
      properties: { body: schemaSchema, query: schemaSchema, headers: schemaSchema, params: schemaSchema },
    },
    rawConfigKeys: REQUEST_PARTS,
    check(node) {
      const problems: ProblemDetail[] = [];
      for (const part of REQUEST_PARTS) {
        const schema = node.config?.[part];
        if (schema === undefined) continue;
        try {
          cache.get(part, schema as SchemaValue);
        } catch (err) {
          problems.push({ path: `/${part}`, message: `invalid JSON Schema: ${(err as Error).message}` });
        }
      }
      return problems;
    },
    async run(ctx) {
      const request = ctx.scope.request;
      const output: Record<RequestPart, unknown> = {
        body: request.body,
        query: request.query,
        headers: request.headers,
        params: request.params,
      };
      const violations: ParameterViolation[] = [];
      for (const part of REQUEST_PARTS) {
        const schema = ctx.config[part] as SchemaValue | undefined;
        if (schema === undefined) continue;
        let validate: ValidateFunction;
        try {
          validate = cache.get(part, schema);
        } catch (err) {
          throw new NodeError('validation_failed', `the ${part} schema is not a valid JSON Schema: ${(err as Error).message}`);
        }
        // Defaults and coercion write into the data: work on a copy.
        const data: unknown = structuredClone(request[part]);
        if (validate(data)) output[part] = data;
        else for (const e of validate.errors ?? []) violations.push(violation(part, e));
      }
      if (violations.length > 0) {
        const summary = violations
          .slice(0, 3)
          .map((v) => `${v.part}${v.path} ${v.message}`)
          .join('; ');
        const more = violations.length > 3 ? ` (and ${violations.length - 3} more)` : '';
        throw new NodeError('validation_failed', `invalid request: ${summary}${more}`, violations);
      }
      return { output };
    },
  };
}
