/**
 * `jwt.generate`: signs an HS256 JSON Web Token with a secret of the run. The token
 * becomes one of the run's secrets, so it is redacted wherever it appears.
 */
import { SignJWT } from 'jose';
import { NodeError, type NodeType } from '../executor/node-type';
import { SECRET_NAME_SCHEMA } from './schema';

/** The secret used when `secret` is not set. */
export const DEFAULT_JWT_SECRET = 'JWT_SECRET';

/**
 * Create the `jwt.generate` node type. Config: `payload` (object of claims, templated),
 * `expiresIn` (`30s`, `10m`, `1h`, `7d`), `secret` (a secret's NAME, default
 * `JWT_SECRET`). Sets `iat` and `exp`. Output: `{token}`; the token is added to the
 * run's secrets.
 *
 * @throws NodeError `jwt_error` when the secret is missing or signing fails.
 */
export function createJwtGenerateNode(): NodeType {
  return {
    type: 'jwt.generate',
    configSchema: {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      required: ['payload', 'expiresIn'],
      additionalProperties: false,
      properties: {
        payload: { type: 'object' },
        expiresIn: { type: 'string', pattern: String.raw`^\d+[smhd]$` },
        secret: { ...SECRET_NAME_SCHEMA, default: DEFAULT_JWT_SECRET },
      },
    },
    async run(ctx) {
      const name = (ctx.config['secret'] as string | undefined) ?? DEFAULT_JWT_SECRET;
      const payload = ctx.config['payload'];
      const expiresIn = ctx.config['expiresIn'];
      if (payload === null || typeof payload !== 'object' || Array.isArray(payload))
        throw new NodeError('jwt_error', 'jwt.generate payload must be an object');
      if (typeof expiresIn !== 'string' || !/^\d+[smhd]$/.test(expiresIn))
        throw new NodeError('jwt_error', 'jwt.generate expiresIn must look like 30s, 10m, 1h or 7d');
      let key: Uint8Array;
      try {
        key = new TextEncoder().encode(ctx.secret(name));
      } catch {
        throw new NodeError('jwt_error', `secret "${name}" is not available to sign the token`);
      }
      let token: string;
      try {
        token = await new SignJWT(payload as Record<string, unknown>)
          .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
          .setIssuedAt()
          .setExpirationTime(expiresIn)
          .sign(key);
      } catch (err) {
        throw new NodeError('jwt_error', `could not sign the token: ${(err as Error).message}`);
      }
      ctx.addSecret(token);
      return { output: { token } };
    },
  };
}
