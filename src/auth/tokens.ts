/**
 * Token verification and signing (PROTOCOL.md section 2). Tokens are HS256 JWTs with
 * `sub`, `workspace`, `exp` (required), `scope` (space-separated) and an optional `nbf`.
 * Every other algorithm — including `none` and asymmetric ones — is refused.
 */
import { SignJWT, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import { RuncastError } from '../protocol/errors';
import { isScope, parseScopes, type Principal } from './scopes';
import { parseTtl } from './ttl';

export type { Principal } from './scopes';

const ALGORITHM = 'HS256';

export interface TokenVerifierOptions {
  /** The HS256 key (`AUTH_JWT_SECRET`); must not be empty. */
  secret: string;
  /** Leeway for `exp` and `nbf`, in seconds (default 0: `exp` means what it says). */
  clockToleranceSec?: number;
  /** Clock in milliseconds since the epoch (default `Date.now`); injectable for tests. */
  now?: () => number;
}

export interface TokenVerifier {
  /**
   * Verifies a token and returns who it stands for.
   * @throws RuncastError `unauthorized`, whose message says why: `token expired`,
   * `token not yet valid`, `bad signature`, `missing claim "workspace"`,
   * `algorithm "none" not allowed`, `malformed token`, …
   */
  verify(token: string): Promise<Principal>;
}

function keyOf(secret: string): Uint8Array {
  if (typeof secret !== 'string' || secret.length === 0) {
    throw new RuncastError('internal', 'the token secret (AUTH_JWT_SECRET) must be a non-empty string');
  }
  return new TextEncoder().encode(secret);
}

const unauthorized = (reason: string, cause?: unknown): RuncastError =>
  new RuncastError('unauthorized', reason, cause === undefined ? {} : { cause });

/** Normalises what jose throws into one clear `unauthorized` reason. */
function fromJoseError(err: unknown, token: string): RuncastError {
  const { code, claim, reason } = (err ?? {}) as { code?: string; claim?: string; reason?: string };
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return unauthorized('token expired', err);
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (reason === 'missing') return unauthorized(`missing claim "${claim}"`, err);
      if (claim === 'nbf' && reason === 'check_failed') return unauthorized('token not yet valid (nbf is in the future)', err);
      return unauthorized(`invalid claim "${claim}": ${(err as Error).message}`, err);
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return unauthorized('bad signature', err);
    case 'ERR_JOSE_ALG_NOT_ALLOWED': {
      let alg = 'unknown';
      try {
        alg = String(decodeProtectedHeader(token).alg);
      } catch {
        // keep "unknown": the header was readable enough for jose to reject its alg
      }
      return unauthorized(`algorithm ${JSON.stringify(alg)} not allowed: only ${ALGORITHM} tokens are accepted`, err);
    }
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
      return unauthorized('malformed token', err);
    default:
      return unauthorized('invalid token', err);
  }
}

function requireString(payload: JWTPayload, claim: string): string {
  const value = payload[claim];
  if (typeof value !== 'string' || value.length === 0) {
    throw unauthorized(`invalid claim "${claim}": must be a non-empty string`);
  }
  return value;
}

/**
 * Creates the default verifier: HS256 only, `sub`, `workspace` and `exp` required,
 * `nbf` honoured, unknown scopes ignored.
 * @throws RuncastError `internal` when the secret is empty.
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const key = keyOf(options.secret);
  const { clockToleranceSec = 0, now } = options;
  return {
    async verify(token: string): Promise<Principal> {
      if (typeof token !== 'string' || token.length === 0) throw unauthorized('malformed token: empty');
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, key, {
          algorithms: [ALGORITHM],
          requiredClaims: ['sub', 'workspace', 'exp'],
          clockTolerance: clockToleranceSec,
          ...(now ? { currentDate: new Date(now()) } : {}),
        }));
      } catch (err) {
        throw fromJoseError(err, token);
      }
      const user = requireString(payload, 'sub');
      const workspace = requireString(payload, 'workspace');
      const scope = payload.scope;
      if (scope !== undefined && typeof scope !== 'string') {
        throw unauthorized('invalid claim "scope": must be a space-separated string');
      }
      return { user, workspace, scopes: parseScopes(scope), exp: payload.exp as number };
    },
  };
}

export interface SignTokenOptions {
  /** The HS256 key (`AUTH_JWT_SECRET`). */
  secret: string;
  /** The user id (`sub`). */
  sub: string;
  workspace: string;
  /** Scopes to grant; an unknown scope is refused (it is a typo, not a wish). */
  scopes: readonly string[];
  /** Lifetime: `90s`, `15m`, `1h`, `7d`, … (see {@link parseTtl}). */
  ttl: string;
  /** Clock in milliseconds since the epoch (default `Date.now`). */
  now?: () => number;
}

/**
 * Signs an HS256 token for the dev token printed at start and for `runcast token`.
 * @throws RuncastError `invalid_message` for an empty sub or workspace, an unknown
 * scope or a bad ttl; `internal` for an empty secret.
 */
export async function signToken(options: SignTokenOptions): Promise<string> {
  const key = keyOf(options.secret);
  const { sub, workspace, scopes, ttl, now = Date.now } = options;
  if (!sub) throw new RuncastError('invalid_message', 'a token needs a subject (sub)');
  if (!workspace) throw new RuncastError('invalid_message', 'a token needs a workspace');
  const unknown = scopes.filter((s) => !isScope(s));
  if (unknown.length > 0) {
    throw new RuncastError(
      'invalid_message',
      `unknown scope ${unknown.map((s) => JSON.stringify(s)).join(', ')}: expected runs:execute, runs:watch or runs:cancel`,
    );
  }
  const iat = Math.floor(now() / 1000);
  const claims: JWTPayload = { workspace };
  const scope = [...new Set(scopes)].join(' ');
  if (scope) claims.scope = scope;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
    .setSubject(sub)
    .setIssuedAt(iat)
    .setExpirationTime(iat + parseTtl(ttl))
    .sign(key);
}
