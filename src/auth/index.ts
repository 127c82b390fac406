/** Authentication and authorization: token verification and signing, scopes. */
export { createTokenVerifier, signToken } from './tokens';
export type { SignTokenOptions, TokenVerifier, TokenVerifierOptions } from './tokens';
export { hasScope, isScope, parseScopes } from './scopes';
export type { Principal } from './scopes';
export { parseTtl } from './ttl';
