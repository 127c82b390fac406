/**
 * `jwt.verify`: verifies an HS256 JSON Web Token against a secret of the run and
 * outputs its claims.
 */
import { errors, jwtVerify } from 'jose';
import { NodeError, type NodeType } from '../executor/node-type';
import { DEFAULT_JWT_SECRET } from './jwt-generate';
import { SECRET_NAME_SCHEMA } from './schema';

/**
 * Create the `jwt.verify` node type. Config: `token` (usually a template such as
 * `{{ request.headers.authorization }}`; a leading `Bearer ` is ignored), `secret` (a
 * secret's NAME, default `JWT_SECRET`). Only HS256 is accepted. Output: the claims.
 *
 * @throws NodeError `jwt_expired` when `exp` has passed; `jwt_invalid` for anything
 *   else (bad signature, malformed token, `nbf` in the future, missing secret).
 */
export function createJwtVerifyNode(): NodeType {
  return {
    type: 'jwt.verify',
    configSchema: {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      required: ['token'],
      additionalProperties: false,
      properties: {
        token: { type: 'string', minLength: 1 },
        secret: { ...SECRET_NAME_SCHEMA, default: DEFAULT_JWT_SECRET },
      },
    },
    async run(ctx) {
      const name = (ctx.config['secret'] as string | undefined) ?? DEFAULT_JWT_SECRET;
      const raw = ctx.config['token'];
      if (typeof raw !== 'string' || raw.trim() === '') throw new NodeError('jwt_invalid', 'no token to verify');
      const token = raw.trim().replace(/^Bearer\s+/i, '');
      let key: Uint8Array;
      try {
        key = new TextEncoder().encode(ctx.secret(name));
      } catch {
        throw new NodeError('jwt_invalid', `secret "${name}" is not available to verify the token`);
      }
      try {
        const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'] });
        return { output: payload };
      } catch (err) {
        if (err instanceof errors.JWTExpired) throw new NodeError('jwt_expired', 'the token has expired');
        const reason = err instanceof errors.JOSEError ? err.message : 'malformed token';
        throw new NodeError('jwt_invalid', `the token is invalid: ${reason}`);
      }
    },
  };
}
