/**
 * The composition root: the one place that knows every concrete piece and wires them.
 * `startServer(config)` starts a gateway (HTTP + WebSocket) and, unless told not to,
 * an executor taking runs from the bus; `startWorker(config)` starts an executor only.
 */
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'winston';
import { nanoid } from 'nanoid';
import type { Config } from './config/config';
import { createTokenVerifier, signToken } from './auth';
import type { Bus } from './channels/types';
import { createMemoryBus } from './channels/memory';
import { createRedisBus } from './channels/redis';
import { createNodeRegistry } from './executor/node-type';
import { createBuiltinNodeTypes } from './nodes';
import { createSqliteDocumentStore } from './nodes/document-store';
import { createSandbox } from './sandbox';
import { createRedactor } from './redaction';
import type { Redactor } from './redaction/types';
import { loadSecrets } from './secrets/secret-store';
import { createLogger } from './logging/logger';
import { createMetrics } from './metrics/metrics';
import { loadWorkflowCatalog } from './runs/workflow-catalog';
import { createRunService, type RunService } from './runs/run-service';
import { createHttpRouter } from './http/router';
import { createGateway } from './gateway/gateway';
import { attachWebSocketGateway } from './gateway/ws';
import { schemaNames } from './protocol/schemas';
import { consoleHtml } from './console/page';

export interface RunningServer {
  /** `http://host:port` */
  url: string;
  port: number;
  /** A token for the dev user, printed at start when AUTH_JWT_SECRET was not set. */
  devToken: string | null;
  /** The HS256 key in use (generated when AUTH_JWT_SECRET was not set). */
  jwtSecret: string;
  logger: Logger;
  runs: RunService;
  bus: Bus;
  /** Graceful stop: no new runs, in-flight runs get SHUTDOWN_GRACE_MS, viewers get 1001. */
  close(): Promise<void>;
}

export interface StartOptions {
  /** Where log lines go (default stdout). */
  logStream?: NodeJS.WritableStream;
}

interface Core {
  logger: Logger;
  bus: Bus;
  runs: RunService;
  redactor: () => Redactor;
  registry: ReturnType<typeof createNodeRegistry>;
  catalog: Awaited<ReturnType<typeof loadWorkflowCatalog>>;
  stopConsuming: (() => Promise<void>) | null;
  dispose(): Promise<void>;
}

async function startCore(config: Config, options: StartOptions, consume: boolean): Promise<Core> {
  const secrets = loadSecrets({ secretsFile: config.secretsFile ?? undefined, env: config.secretEnv });
  const sensitiveKeys = config.sensitiveKeys ?? undefined;
  const baseRedactor = createRedactor({ secrets: secrets.values(), ...(sensitiveKeys ? { sensitiveKeys } : {}) });
  const logger = createLogger({ level: config.logLevel, redactor: () => baseRedactor, ...(options.logStream ? { stream: options.logStream } : {}) });
  const instanceId = nanoid(10);
  const bus: Bus =
    config.bus === 'redis'
      ? createRedisBus({
          url: config.redisUrl!, keyPrefix: config.redisKeyPrefix, instanceId, historyTtlMs: config.historyTtlMs, leaseMs: config.leaseMs,
          // The first error of an outage per connection (not every reconnect), lost leases, callback exceptions.
          onError: (err) => logger.warn('redis bus error', { err }),
        })
      : createMemoryBus();
  const sandbox = createSandbox({ poolSize: config.sandboxPoolSize });
  const store = createSqliteDocumentStore({ dataDir: config.dataDir });
  const registry = createNodeRegistry(
    createBuiltinNodeTypes({ sandbox, store, codeTimeoutMs: config.codeTimeoutMs, codeMemoryMb: config.codeMemoryMb, maxDelayMs: config.nodeTimeoutMs }),
  );
  const catalog = await loadWorkflowCatalog(config.workflowsDir, registry);
  for (const r of catalog.rejected)
    logger.error('a deployed workflow was refused', { file: r.file, problems: r.problems });
  const onError = (message: string, err: unknown) => logger.error(message, { err });
  const runs = await createRunService({
    bus,
    registry,
    catalog,
    secrets,
    baseRedactor,
    makeRedactor: (extra) => createRedactor({ secrets: [...secrets.values(), ...extra], ...(sensitiveKeys ? { sensitiveKeys } : {}) }),
    nodeTimeoutMs: config.nodeTimeoutMs,
    maxFieldBytes: config.maxFieldBytes,
    historyTtlMs: config.historyTtlMs,
    maxRunEvents: config.maxRunEvents,
    maxPauseMs: config.maxPauseMs,
    onError,
    onRunEnded: (summary) => logger.info('run ended', summary),
  });
  const stopConsuming = consume
    ? await bus.consume(async (job, leaseLost) => {
        try {
          await runs.executeJob(job, leaseLost);
        } catch (err) {
          onError(`run ${job.runId} failed to execute`, err);
        }
      })
    : null;
  // Scale-out buses: runs whose executor died (lease expired) end with worker_lost.
  // One pass at a time: while Redis is down a pass waits, and passes must not pile up behind it.
  let reaping = false;
  const reaper = bus.reapLostRuns
    ? setInterval(() => {
        if (reaping) return;
        reaping = true;
        Promise.all([
          bus.reapLostRuns!((job) => runs.failLostRun(job)),
          bus.reapLostHeldRuns?.((runId) => runs.failLostRunById(runId)),
        ])
          .catch((err) => onError('reaping lost runs failed', err))
          .finally(() => (reaping = false));
      }, config.leaseMs)
    : undefined;
  reaper?.unref();
  return {
    logger,
    bus,
    runs,
    redactor: () => baseRedactor,
    registry,
    catalog,
    stopConsuming,
    async dispose() {
      clearInterval(reaper);
      await stopConsuming?.();
      await runs.close();
      await bus.close();
      await sandbox.close();
      store.close();
    },
  };
}

/** Start the gateway (and an executor unless EXECUTE=false) on config.host:config.port. */
export async function startServer(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  const jwtSecret = config.authJwtSecret ?? randomBytes(32).toString('base64url');
  const core = await startCore(config, options, config.execute);
  const { logger, bus, runs } = core;
  const metrics = createMetrics();
  const verifier = createTokenVerifier({ secret: jwtSecret });
  const verify = (token: string) => verifier.verify(token);
  let draining = false;
  const ready = async () => !draining && (await bus.healthy());
  const onError = (message: string, err: unknown) => logger.error(message, { err });

  const router = createHttpRouter({
    runs,
    bus,
    catalog: core.catalog,
    verify,
    redactor: core.redactor,
    metrics,
    schemas: schemaNames,
    consoleHtml,
    maxBodyBytes: config.maxHttpBodyBytes,
    ready,
    onError,
  });
  const server = http.createServer((req, res) => void router(req, res));
  const gateway = createGateway({
    bus,
    runs,
    metrics,
    verify,
    ready,
    authTimeoutMs: config.authTimeoutMs,
    heartbeatMs: config.heartbeatMs,
    maxMessageBytes: config.maxMessageBytes,
    slowConsumerBytes: config.slowConsumerBytes,
    rateLimitPerSec: config.rateLimitPerSec,
    rateLimitBurst: config.rateLimitBurst,
    maxSubscriptions: config.maxSubscriptions,
    maxConnectionsPerUser: config.maxConnectionsPerUser,
    onError,
  });
  const ws = attachWebSocketGateway({
    server,
    gateway,
    maxMessageBytes: config.maxMessageBytes,
    heartbeatMs: config.heartbeatMs,
    allowedOrigins: config.allowedOrigins,
    verify,
    onAuthFailure: (reason) => metrics.authFailures.inc({ reason }),
  });
  const activeGauge = setInterval(() => metrics.activeRuns.set(runs.activeCount()), 1000);
  activeGauge.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  const devToken = config.authJwtSecret
    ? null
    : await signToken({ secret: jwtSecret, sub: 'dev', workspace: 'default', scopes: ['runs:execute', 'runs:watch', 'runs:cancel'], ttl: '12h' });
  logger.info('runcast gateway listening', { url, bus: config.bus, execute: config.execute, workflows: core.catalog.list().length });

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    devToken,
    jwtSecret,
    logger,
    runs,
    bus,
    close() {
      closing ??= (async () => {
        draining = true;
        await core.stopConsuming?.();
        server.close();
        await gateway.shutdown(config.shutdownGraceMs);
        await ws.close();
        server.closeAllConnections();
        clearInterval(activeGauge);
        await core.dispose();
        logger.close();
      })();
      return closing;
    },
  };
}

export interface RunningWorker {
  logger: Logger;
  close(): Promise<void>;
}

/** An executor only: takes runs from the bus (redis mode) and publishes their events. */
export async function startWorker(config: Config, options: StartOptions = {}): Promise<RunningWorker> {
  const core = await startCore(config, options, true);
  core.logger.info('runcast worker started', { bus: config.bus });
  let closing: Promise<void> | undefined;
  return {
    logger: core.logger,
    close() {
      closing ??= (async () => {
        await core.stopConsuming?.();
        await core.runs.drain(config.shutdownGraceMs);
        await core.dispose();
        core.logger.close();
      })();
      return closing;
    },
  };
}
