/**
 * A small request/response protocol over the IPC channel of the forked bench processes
 * (servers under test and load generators). The orchestrator calls a command and awaits
 * its answer; the child serves a table of command handlers. `advanced` serialisation
 * (structured clone), so typed arrays of latency samples cross without JSON.
 */
import { fork, type ChildProcess } from 'node:child_process';

interface Request {
  id: number;
  cmd: string;
  args: unknown;
}

type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

export interface WorkerProcess {
  readonly pid: number;
  /** Run a command in the child; rejects with the child's error or after `timeoutMs`. */
  call<T = unknown>(cmd: string, args?: unknown, timeoutMs?: number): Promise<T>;
  /** Ask the child to exit, and wait for it (killed after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
}

export interface ForkOptions {
  execArgv?: string[];
  env?: NodeJS.ProcessEnv;
  /** Default deadline of `call`, in ms. */
  timeoutMs?: number;
}

/** Fork a compiled bench file and wait until it serves commands. */
export function forkWorker(file: string, options: ForkOptions = {}): Promise<WorkerProcess> {
  const child: ChildProcess = fork(file, [], {
    execArgv: options.execArgv ?? [],
    env: options.env ?? process.env,
    serialization: 'advanced',
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const defaultTimeout = options.timeoutMs ?? 120_000;
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void; timer: NodeJS.Timeout }>();
  let nextId = 1;
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = true;
      for (const p of pending.values()) {
        clearTimeout(p.timer);
        p.reject(new Error(`bench worker ${file} exited (${signal ?? code}) before answering`));
      }
      pending.clear();
      resolve();
    }),
  );
  return new Promise((resolveUp, rejectUp) => {
    const upTimer = setTimeout(() => {
      child.kill('SIGKILL');
      rejectUp(new Error(`bench worker ${file} did not start`));
    }, 60_000);
    child.once('error', rejectUp);
    void exit.then(() => rejectUp(new Error(`bench worker ${file} exited at start`)));
    child.on('message', (raw) => {
      const m = raw as Reply | { up: true };
      if ('up' in m) {
        clearTimeout(upTimer);
        resolveUp(worker);
        return;
      }
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      clearTimeout(p.timer);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(m.error));
    });
    const worker: WorkerProcess = {
      pid: child.pid ?? -1,
      call<T>(cmd: string, args?: unknown, timeoutMs = defaultTimeout): Promise<T> {
        if (exited) return Promise.reject(new Error(`bench worker ${file} has exited`));
        const id = nextId++;
        return new Promise<T>((resolve, reject) => {
          const timer = setTimeout(() => {
            pending.delete(id);
            reject(new Error(`bench worker ${file}: ${cmd} timed out after ${timeoutMs} ms`));
          }, timeoutMs);
          pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
          child.send({ id, cmd, args } satisfies Request);
        });
      },
      async stop(graceMs = 15_000) {
        if (exited) return;
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        worker.call('exit', undefined, graceMs).catch(() => undefined);
        await exit;
        clearTimeout(timer);
      },
    };
  });
}

export type Handler = (args: never) => unknown;

/**
 * In the child: answer commands with `handlers` (`exit` is built in: it runs `onExit`,
 * then exits). The child exits when the orchestrator goes away.
 */
export function serveCommands(handlers: Record<string, Handler>, onExit: () => Promise<void> = async () => undefined): void {
  const send = (m: Reply | { up: true }) => process.send?.(m);
  process.on('message', (raw) => {
    const { id, cmd, args } = raw as Request;
    if (cmd === 'exit') {
      void onExit()
        .catch(() => undefined)
        .finally(() => {
          send({ id, ok: true, result: null });
          setImmediate(() => process.exit(0));
        });
      return;
    }
    const handler = handlers[cmd];
    Promise.resolve()
      .then(() => {
        if (!handler) throw new Error(`unknown bench command ${cmd}`);
        return (handler as (a: unknown) => unknown)(args);
      })
      .then(
        (result) => send({ id, ok: true, result }),
        (err: unknown) => send({ id, ok: false, error: err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err) }),
      );
  });
  process.on('disconnect', () => process.exit(0));
  send({ up: true });
}

/** Resolve after `ms`. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
