/** Scopes of a principal (PROTOCOL.md section 2): `runs:execute`, `runs:watch`, `runs:cancel`. */
import { Scopes, type Scope } from '../protocol/messages';

export { parseTtl } from './ttl';

/** Who a connection or request acts as, from a verified token. */
export interface Principal {
  /** The token's `sub`. */
  user: string;
  /** The workspace (tenant) the user acts in; runs of other workspaces are invisible. */
  workspace: string;
  /** Known scopes of the token's `scope` claim, without duplicates. */
  scopes: Scope[];
  /** The token's expiry, in seconds since the epoch (JWT NumericDate). */
  exp: number;
}

const known: ReadonlySet<string> = new Set(Scopes);

export function isScope(value: string): value is Scope {
  return known.has(value);
}

/**
 * Parses a space-separated `scope` claim. Unknown scopes are ignored (a token may carry
 * scopes of other services); duplicates are dropped; order of first appearance is kept.
 */
export function parseScopes(claim: string | undefined): Scope[] {
  if (!claim) return [];
  const scopes: Scope[] = [];
  for (const word of claim.split(/\s+/)) {
    if (isScope(word) && !scopes.includes(word)) scopes.push(word);
  }
  return scopes;
}

/** Whether the principal holds `scope`. */
export function hasScope(principal: Pick<Principal, 'scopes'>, scope: Scope): boolean {
  return principal.scopes.includes(scope);
}
