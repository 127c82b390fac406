/**
 * The runcast client library, browser-safe (no `node:` imports, no `ws`): pass a
 * WebSocket class in Node. See `createClient`.
 */
export { createClient, ClientError, decodeJwtPayload, refreshDelay, backoffDelay, runcastClientLibrary } from './client';
export type * from './types';
