/**
 * The `runcast` command line (PROTOCOL.md section 10). Exit status: 0 the run
 * completed; 1 it failed or was cancelled; 2 bad usage, invalid workflow, or a
 * connection or authentication failure.
 */
import { Command, CommanderError } from 'commander';
import { loadConfig } from '../config/config';
import { signToken } from '../auth';
import { toRuncastError } from '../protocol/errors';
import { registerClientCommands } from './client-commands';

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Run the CLI; resolves with the exit status (never calls process.exit, so it is testable). */
export async function main(argv: string[], io: { out: NodeJS.WritableStream; err: NodeJS.WritableStream } = { out: process.stdout, err: process.stderr }): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = new Command()
    .name('runcast')
    .description('Realtime execution gateway for API workflows')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out.write(s), writeErr: (s) => io.err.write(s) });

  program
    .command('serve')
    .description('start the gateway (what `npm start` runs); configured by the environment (see README)')
    .action(async () => {
      const { startServer } = await import('../main');
      const config = loadConfig(process.env);
      const server = await startServer(config);
      io.out.write(`runcast gateway listening on ${server.url}  (console: ${server.url}/console, WebSocket: ${server.url.replace(/^http/, 'ws')}/v1/ws)\n`);
      if (server.devToken) {
        io.out.write(`AUTH_JWT_SECRET is not set: a random key was made for this process. Dev token (user "dev", workspace "default", 12h):\n\n${server.devToken}\n\n`);
      }
      await waitForSignal(async () => server.close());
    });

  program
    .command('worker')
    .description('start an executor that takes runs from the bus (BUS=redis)')
    .action(async () => {
      const { startWorker } = await import('../main');
      const worker = await startWorker(loadConfig(process.env));
      await waitForSignal(async () => worker.close());
    });

  program
    .command('token')
    .description('print a token signed with AUTH_JWT_SECRET')
    .requiredOption('--sub <user>', 'user id')
    .requiredOption('--workspace <ws>', 'workspace')
    .option('--scope <scopes>', 'space-separated scopes', 'runs:execute runs:watch runs:cancel')
    .option('--ttl <ttl>', 'lifetime (30s, 15m, 1h, 7d)', '1h')
    .action(async (o: { sub: string; workspace: string; scope: string; ttl: string }) => {
      const secret = process.env.AUTH_JWT_SECRET;
      if (!secret) throw Object.assign(new Error('AUTH_JWT_SECRET is not set: a token needs the key the gateway verifies with'), { exitCode: EXIT.usage });
      const token = await signToken({ secret, sub: o.sub, workspace: o.workspace, scopes: o.scope.split(/\s+/).filter(Boolean), ttl: o.ttl });
      io.out.write(token + '\n');
    });

  program
    .command('validate <file>')
    .description('check a workflow definition; print every problem')
    .action(async (file: string) => {
      // Loaded on demand: it compiles every node schema, which other commands do not need.
      const { validateDefinitionFile } = await import('./validate-command');
      exitCode = await validateDefinitionFile(file, io);
    });

  registerClientCommands(program, io, (code) => (exitCode = code));

  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    const e = err as { exitCode?: number };
    io.err.write(`runcast: ${toRuncastError(err).message}\n`);
    return typeof e.exitCode === 'number' ? e.exitCode : EXIT.usage;
  }
}

function waitForSignal(stop: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    const onSignal = () => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      stop().then(resolve, resolve);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
