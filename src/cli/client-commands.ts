/**
 * `runcast run` and `runcast watch` (PROTOCOL.md section 10): start or follow a run
 * over the WebSocket with the client library, print it live, and exit with 0 (the run
 * completed), 1 (it failed or was cancelled) or 2 (bad usage, invalid workflow, a
 * connection or authentication failure). A dropped connection is resumed by the
 * client (fromSeq), never reported as a failure.
 */
import { existsSync, promises as fs } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import WebSocket from 'ws';
import { createClient, ClientError, type RunHandle, type RuncastClient, type WebSocketConstructor } from '../client';
import type { EventFrame } from '../protocol/events';
import type { RunInput } from '../protocol/messages';
import type { WorkflowDefinition } from '../protocol/workflow';
import { createRunOutput, type RunOutput } from './run-output';

type Io = { out: NodeJS.WritableStream; err: NodeJS.WritableStream };

/** What the commands read from the process; injectable for tests. */
export interface ClientCommandDeps {
  env: Record<string, string | undefined>;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  /** SIGINT subscription (default: the process's). */
  onInterrupt(listener: () => void): () => void;
}

export const DEFAULT_URL = 'ws://127.0.0.1:8080/v1/ws';
const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

/** An error that ends the command with a given exit status and message. */
class CommandError extends Error {
  constructor(message: string, readonly exitCode: number = EXIT_USAGE) {
    super(message);
  }
}

interface ConnectionOptions {
  url?: string;
  token?: string;
  json?: boolean;
}

interface RunCommandOptions extends ConnectionOptions {
  input?: string;
  breakpoint: string[];
}

interface WatchCommandOptions extends ConnectionOptions {
  fromSeq?: string;
}

const defaultDeps = (): ClientCommandDeps => ({
  env: process.env,
  stdin: process.stdin,
  onInterrupt(listener) {
    process.on('SIGINT', listener);
    return () => process.off('SIGINT', listener);
  },
});

/** Register `run` and `watch` on the program; `setExit` receives the exit status. */
export function registerClientCommands(program: Command, io: Io, setExit: (code: number) => void, deps: ClientCommandDeps = defaultDeps()): void {
  const connectionOptions = (cmd: Command) =>
    cmd
      .option('--json', 'print each received event frame as one line of JSON, unchanged')
      .option('--url <url>', `gateway WebSocket URL (default: RUNCAST_URL, else ${DEFAULT_URL})`)
      .option('--token <jwt>', 'token (default: RUNCAST_TOKEN)');

  connectionOptions(
    program
      .command('run <target>')
      .description('start a run and follow it live; <target> is a definition file (.json) or a deployed workflow id')
      .option('--input <file-or-json>', 'the API request {method, path, headers, query, params, body}: a JSON file or inline JSON')
      .option('--breakpoint <nodeId>', 'pause before this node (repeatable)', (v: string, all: string[]) => [...all, v], [] as string[]),
  ).action(async (target: string, opts: RunCommandOptions) => setExit(await guard(io, () => runCommand(target, opts, io, deps))));

  connectionOptions(
    program
      .command('watch <runId>')
      .description('follow a run someone else started')
      .option('--from-seq <n>', 'only events after this seq (default 0: the whole history)'),
  ).action(async (runId: string, opts: WatchCommandOptions) => setExit(await guard(io, () => watchCommand(runId, opts, io, deps))));
}

/** Turns every failure into a message and exit status 2 (or the CommandError's). */
async function guard(io: Io, fn: () => Promise<number>): Promise<number> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof CommandError) {
      io.err.write(`runcast: ${err.message}\n`);
      return err.exitCode;
    }
    if (err instanceof ClientError) {
      io.err.write(describeClientError(err));
      return EXIT_USAGE;
    }
    io.err.write(`runcast: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT_USAGE;
  }
}

function describeClientError(err: ClientError): string {
  switch (err.code) {
    case 'workflow_invalid':
    case 'invalid_message': {
      const problems = Array.isArray(err.details) ? (err.details as { path?: string; message?: string }[]) : [];
      const head = err.code === 'workflow_invalid' ? 'invalid workflow' : 'invalid request';
      const lines = problems.map((p) => `  ${p.path ?? '/'}: ${p.message ?? ''}\n`).join('');
      return `runcast: ${head}: ${err.message} (${problems.length} problem${problems.length === 1 ? '' : 's'})\n${lines}`;
    }
    case 'unauthorized':
    case 'auth_timeout':
      return `runcast: authentication failed (${err.closeCode ?? err.code}): ${err.message}\n  check --token or RUNCAST_TOKEN (\`runcast token\` prints one)\n`;
    case 'connection_failed':
      return `runcast: ${err.message}\n  is the gateway running? (--url or RUNCAST_URL; default ${DEFAULT_URL})\n`;
    default:
      return `runcast: ${err.code}: ${err.message}\n`;
  }
}

function connection(opts: ConnectionOptions, deps: ClientCommandDeps, io: Io, json: boolean, output: () => RunOutput | null): RuncastClient {
  const url = opts.url ?? deps.env.RUNCAST_URL ?? DEFAULT_URL;
  const token = opts.token ?? deps.env.RUNCAST_TOKEN;
  if (!token) throw new CommandError('no token: pass --token or set RUNCAST_TOKEN (`runcast token --sub … --workspace …` prints one)');
  return createClient({
    url,
    token,
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    reconnect: { initialDelayMs: 250, maxDelayMs: 5_000, maxAttempts: 30 },
    onStatus(status, info) {
      if (status !== 'reconnecting' || info.delayMs === undefined) return;
      const text = `↻ connection lost${info.closeCode !== undefined ? ` (${info.closeCode})` : ''}; resuming in ${info.delayMs} ms (attempt ${info.attempt})`;
      const o = output();
      if (!json && o) o.note(text);
      else io.err.write(text + '\n');
    },
  });
}

const isTty = (s: NodeJS.WritableStream) => (s as { isTTY?: boolean }).isTTY === true;

function makeOutput(io: Io, deps: ClientCommandDeps): RunOutput {
  const noColor = deps.env.NO_COLOR !== undefined && deps.env.NO_COLOR !== '';
  return createRunOutput({ out: io.out, live: isTty(io.out) && !noColor });
}

async function readJsonFile(file: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new CommandError(`cannot read ${what} ${file}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CommandError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
}

/** `--input`: inline JSON (starts with `{`) or a file holding it. */
async function readInput(value: string | undefined): Promise<RunInput | undefined> {
  if (value === undefined) return undefined;
  let input: unknown;
  if (value.trimStart().startsWith('{')) {
    try {
      input = JSON.parse(value);
    } catch (err) {
      throw new CommandError(`--input is not valid JSON: ${(err as Error).message}`);
    }
  } else input = await readJsonFile(value, 'the --input file');
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new CommandError('--input must be a JSON object: {method, path, headers, query, params, body}');
  }
  return input as RunInput;
}

const looksLikeFile = (target: string) => /\.json$/i.test(target) || /[\\/]/.test(target) || existsSync(target);

async function runCommand(target: string, opts: RunCommandOptions, io: Io, deps: ClientCommandDeps): Promise<number> {
  const json = opts.json === true;
  const input = await readInput(opts.input);
  let source: { workflow: WorkflowDefinition } | { workflowId: string };
  if (looksLikeFile(target)) {
    const def = await readJsonFile(target, 'the workflow file');
    source = { workflow: def as WorkflowDefinition };
  } else source = { workflowId: target };

  const output = json ? null : makeOutput(io, deps);
  const client = connection(opts, deps, io, json, () => output);
  try {
    const handle = await client.run({ ...source, ...(input ? { input } : {}), breakpoints: opts.breakpoint });
    const say = (text: string): void => void (output ? output.note(text) : io.err.write(text + '\n'));
    let interrupted = 0;
    const offInterrupt = deps.onInterrupt(() => {
      interrupted++;
      if (interrupted === 1) {
        say('■ cancelling the run (Ctrl-C again to stop following it)');
        handle.cancel().catch((err: unknown) => say(`cannot cancel: ${(err as Error).message}`));
      } else client.close();
    });
    try {
      return await follow(handle, { json, io, output, onPause: (frame) => decidePause(frame, handle, deps, io, say) });
    } finally {
      offInterrupt();
    }
  } finally {
    output?.stop();
    client.close();
  }
}

async function watchCommand(runId: string, opts: WatchCommandOptions, io: Io, deps: ClientCommandDeps): Promise<number> {
  const json = opts.json === true;
  let fromSeq = 0;
  if (opts.fromSeq !== undefined) {
    if (!/^\d+$/.test(opts.fromSeq)) throw new CommandError(`--from-seq must be a whole number >= 0, got ${JSON.stringify(opts.fromSeq)}`);
    fromSeq = Number(opts.fromSeq);
  }
  const output = json ? null : makeOutput(io, deps);
  const client = connection(opts, deps, io, json, () => output);
  try {
    const handle = await client.subscribe(runId, { fromSeq });
    if (output && fromSeq > 0) output.note(`following run ${runId} after seq ${fromSeq}`);
    const say = (text: string): void => void (output ? output.note(text) : io.err.write(text + '\n'));
    return await follow(handle, {
      json,
      io,
      output,
      onPause: async () => say('  waiting for whoever started the run to continue it'),
    });
  } finally {
    output?.stop();
    client.close();
  }
}

async function follow(
  handle: RunHandle,
  ctx: { json: boolean; io: Io; output: RunOutput | null; onPause(frame: EventFrame): Promise<void> },
): Promise<number> {
  for await (const { frame, raw } of handle.received()) {
    // The frame exactly as received; re-serialised only if it was not on one line.
    if (ctx.json) ctx.io.out.write((raw.includes('\n') ? JSON.stringify(JSON.parse(raw)) : raw) + '\n');
    else ctx.output!.frame(frame);
    if (frame.event.kind === 'node.paused' && handle.terminal === undefined) await ctx.onPause(frame);
  }
  const kind = handle.terminal?.event.kind;
  return kind === 'run.completed' ? EXIT_OK : EXIT_FAILED;
}

/** At a breakpoint: ask on a terminal (Enter continue, s step, c cancel), else continue. */
async function decidePause(frame: EventFrame, handle: RunHandle, deps: ClientCommandDeps, io: Io, say: (text: string) => void): Promise<void> {
  const nodeId = (frame.event as { nodeId: string }).nodeId;
  if (!deps.stdin.isTTY) {
    say(`  stdin is not a terminal: continuing past ${nodeId} automatically`);
    await handle.continue();
    return;
  }
  const choice = await askKey(deps.stdin, io.err, '  [Enter] continue · [s] step to the next node · [c] cancel the run ');
  if (choice === 'cancel') await handle.cancel();
  else await handle.continue({ step: choice === 'step' });
}

type Choice = 'continue' | 'step' | 'cancel';

function askKey(stdin: ClientCommandDeps['stdin'], err: NodeJS.WritableStream, prompt: string): Promise<Choice> {
  err.write(prompt);
  const fromKey = (key: string): Choice | null => {
    const k = key.trim().toLowerCase();
    if (key === '\u0003' || k === 'c' || k === 'q') return 'cancel';
    if (k === 's') return 'step';
    if (k === '' || key === ' ') return 'continue';
    return null;
  };
  if (typeof stdin.setRawMode === 'function') {
    return new Promise<Choice>((resolve) => {
      stdin.setRawMode!(true);
      stdin.resume();
      const onData = (chunk: Buffer | string) => {
        const choice = fromKey(chunk.toString());
        if (!choice) return;
        stdin.off('data', onData);
        stdin.setRawMode!(false);
        stdin.pause();
        err.write(`${choice}\n`);
        resolve(choice);
      };
      stdin.on('data', onData);
    });
  }
  return new Promise<Choice>((resolve) => {
    const rl = createInterface({ input: stdin });
    const onLine = (text: string) => {
      const choice = fromKey(text === '' ? '' : text);
      if (!choice) return;
      rl.off('line', onLine);
      rl.close();
      resolve(choice);
    };
    rl.on('line', onLine);
  });
}
