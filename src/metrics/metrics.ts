/** Prometheus metrics (prom-client), one registry per server instance. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  connections: Gauge;
  subscriptions: Gauge;
  activeRuns: Gauge;
  runsStarted: Counter<'mode'>;
  eventsSent: Counter;
  bytesSent: Counter;
  slowConsumerDisconnects: Counter;
  authFailures: Counter<'reason'>;
  rateLimited: Counter;
  deliveryLatency: Histogram;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'runcast_' });
  const r = [registry];
  return {
    registry,
    connections: new Gauge({ name: 'runcast_ws_connections', help: 'Open WebSocket connections', registers: r }),
    subscriptions: new Gauge({ name: 'runcast_ws_subscriptions', help: 'Run subscriptions of open connections', registers: r }),
    activeRuns: new Gauge({ name: 'runcast_active_runs', help: 'Runs executing in this process', registers: r }),
    runsStarted: new Counter({ name: 'runcast_runs_started_total', help: 'Runs started', labelNames: ['mode'], registers: r }),
    eventsSent: new Counter({ name: 'runcast_ws_events_sent_total', help: 'Event frames sent to viewers', registers: r }),
    bytesSent: new Counter({ name: 'runcast_ws_bytes_sent_total', help: 'Bytes of frames sent to viewers', registers: r }),
    slowConsumerDisconnects: new Counter({ name: 'runcast_ws_slow_consumer_disconnects_total', help: 'Connections closed with 4008', registers: r }),
    authFailures: new Counter({ name: 'runcast_auth_failures_total', help: 'Refused authentications', labelNames: ['reason'], registers: r }),
    rateLimited: new Counter({ name: 'runcast_ws_rate_limited_total', help: 'Connections closed with 4429', registers: r }),
    deliveryLatency: new Histogram({
      name: 'runcast_event_delivery_seconds',
      help: 'From an event\'s time to its frame being handed to the socket',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: r,
    }),
  };
}
