/**
 * Method + path matching of `api.start` nodes (`/users/:id`), shared by the executor
 * (to fill `request.params`) and the `/api/<path>` router.
 */

/** Match a concrete path against a pattern with `:param` segments; null when it does not match. */
export function matchPath(pattern: string, path: string): Record<string, string> | null {
  const strip = (p: string) => p.split('?')[0]!.replace(/\/+$/, '').split('/').filter(Boolean);
  const pat = strip(pattern);
  const got = strip(path);
  if (pat.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < pat.length; i++) {
    const p = pat[i]!;
    const g = got[i]!;
    if (p.startsWith(':')) {
      try {
        params[p.slice(1)] = decodeURIComponent(g);
      } catch {
        return null;
      }
    } else if (p !== g) return null;
  }
  return params;
}

/** How specific a pattern is: literal segments win over params when several routes match. */
export function routeSpecificity(pattern: string): number {
  return pattern.split('/').filter(Boolean).reduce((n, s) => n + (s.startsWith(':') ? 1 : 2), 0);
}
