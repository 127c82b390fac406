/**
 * Every error code and close code of the protocol, in one place (PROTOCOL.md sections 4, 7).
 * Browser-safe.
 */

export const ErrorCodes = [
  'bad_json',
  'bad_frame',
  'invalid_message',
  'unknown_type',
  'forbidden',
  'not_found',
  'workflow_invalid',
  'history_expired',
  'rate_limited',
  'too_many_subscriptions',
  'internal',
  // Additions to the list of PROTOCOL.md section 4, documented in the README:
  // `unauthorized` answers HTTP requests without a valid token (401), and
  // `unavailable` refuses new runs while the instance drains or its bus is down (503).
  'unauthorized',
  'unavailable',
] as const;
export type ErrorCode = (typeof ErrorCodes)[number];

/** Error codes of nodes (`node.failed` / `run.failed`), WORKFLOWS.md. */
export const NodeErrorCodes = [
  'validation_failed',
  'code_error',
  'timeout',
  'memory_limit',
  'loop_error',
  'jwt_error',
  'jwt_invalid',
  'jwt_expired',
  'db_error',
  'http_error',
  'template_error',
  'node_error',
  'worker_lost',
  'limit_exceeded',
  'internal',
] as const;
export type NodeErrorCode = (typeof NodeErrorCodes)[number];

export const CloseCodes = {
  normal: 1000,
  goingAway: 1001,
  tooLarge: 1009,
  slowConsumer: 4008,
  unauthorized: 4401,
  authTimeout: 4408,
  rateLimited: 4429,
} as const;
export type CloseCode = (typeof CloseCodes)[keyof typeof CloseCodes];

/** HTTP status used when an error code answers an HTTP request. */
export const HttpStatusOf: Record<ErrorCode, number> = {
  bad_json: 400,
  bad_frame: 400,
  invalid_message: 400,
  unknown_type: 400,
  forbidden: 403,
  not_found: 404,
  workflow_invalid: 400,
  history_expired: 410,
  rate_limited: 429,
  too_many_subscriptions: 429,
  internal: 500,
  unauthorized: 401,
  unavailable: 503,
};

export const SUBPROTOCOL = 'runcast.v1';
export const WS_PATH = '/v1/ws';
