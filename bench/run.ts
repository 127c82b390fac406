/**
 * `npm run bench [-- --quick] [-- --profile] [-- --only fanout,modes]`: runs the
 * benchmarks of issue 8 (see BENCHMARKS.md), prints the results table and writes
 * `bench/results/<YYYY-MM-DD>.json` (a full run) — or `<date>-quick.json` /
 * `<date>-partial.json`, so that a smoke run never replaces the recorded results — and
 * the same table in Markdown beside it.
 *
 * Topology: this process only orchestrates. Each server under test runs alone in a
 * forked process; two forked load generators hold the client connections. Every
 * figure that has a target is a ratio against a baseline measured in this invocation.
 */
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { forkClients, makeContext, type BenchContext } from './harness';
import { fanOutScenario } from './scenarios/fan-out';
import { concurrencyScenario } from './scenarios/concurrency';
import { connectionsScenario } from './scenarios/connections';
import { modesScenario } from './scenarios/modes';
import { componentsScenario } from './scenarios/components';
import { buildRows, renderMarkdown, renderText, type Results } from './report';
import { formatProfile } from './profile';

const SCENARIOS = ['fanout', 'concurrency', 'connections', 'modes', 'components'] as const;
type ScenarioName = (typeof SCENARIOS)[number];

interface Args {
  quick: boolean;
  profile: boolean;
  only: ScenarioName[] | null;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { quick: false, profile: false, only: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') args.quick = true;
    else if (a === '--profile') args.profile = true;
    else if (a === '--only' || a.startsWith('--only=')) {
      const v = a.includes('=') ? a.slice(7) : argv[++i] ?? '';
      const names = v.split(',').map((s) => s.trim()).filter(Boolean);
      const bad = names.filter((n) => !(SCENARIOS as readonly string[]).includes(n));
      if (bad.length) throw new Error(`--only: unknown scenario ${bad.join(', ')} (known: ${SCENARIOS.join(', ')})`);
      args.only = names as ScenarioName[];
    } else if (a === '--help' || a === '-h') {
      console.log(`usage: npm run bench -- [--quick] [--profile] [--only ${SCENARIOS.join(',')}]`);
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  return args;
}

function gitCommit(): string {
  try {
    const sha = execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    const dirty = execSync('git status --porcelain --untracked-files=no', { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    return dirty ? `${sha}+uncommitted` : sha;
  } catch {
    return 'unknown';
  }
}

function machine() {
  const cpus = os.cpus();
  return {
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    cpuModel: cpus[0]?.model ?? 'unknown',
    cpuCount: cpus.length,
    totalMemBytes: os.totalmem(),
    node: process.version,
    loadAvgAtStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const date = new Date().toISOString().slice(0, 10);
  const resultsDir = path.resolve(__dirname, '..', '..', 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const info = machine();
  const clients = await forkClients(2);
  const ctx: BenchContext = makeContext({ quick: args.quick, profile: args.profile, clients, resultsDir, date });
  ctx.log(`${args.quick ? 'quick' : 'full'} run on ${info.cpuCount} × ${info.cpuModel}, load average ${info.loadAvgAtStart.join(' ')}`);

  const results: Results = {};
  const run = async <K extends keyof Results>(name: ScenarioName, key: K, fn: (c: BenchContext) => Promise<NonNullable<Results[K]>>) => {
    if (args.only && !args.only.includes(name)) return;
    const t0 = Date.now();
    try {
      results[key] = await fn(ctx);
    } catch (err) {
      ctx.log(`${name} failed: ${(err as Error).stack ?? String(err)}`);
      results[key] = { error: (err as Error).message } as Results[K];
    }
    ctx.log(`${name}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  };
  try {
    await run('fanout', 'fanOut', fanOutScenario);
    await run('concurrency', 'concurrency', concurrencyScenario);
    await run('connections', 'connections', connectionsScenario);
    await run('modes', 'modes', modesScenario);
    await run('components', 'components', componentsScenario);
  } finally {
    await Promise.all(clients.map((c) => c.stop()));
    rmSync(ctx.root, { recursive: true, force: true });
  }

  const rows = buildRows(results);
  const elapsedS = Math.round((Date.now() - started) / 100) / 10;
  const suffix = args.only ? '-partial' : args.quick ? '-quick' : '';
  const base = path.join(resultsDir, `${date}${suffix}`);
  const doc = {
    date,
    finishedAt: new Date().toISOString(),
    mode: args.quick ? 'quick' : 'full',
    only: args.only,
    elapsedS,
    commit: gitCommit(),
    machine: { ...info, loadAvgAtEnd: os.loadavg().map((l) => Math.round(l * 100) / 100) },
    setup: {
      topology: 'orchestrator process + one forked process per server under test + 2 forked load-generator processes, all on loopback',
      clients: clients.length,
    },
    table: rows,
    scenarios: results,
  };
  writeFileSync(`${base}.json`, JSON.stringify(doc, (_k, v: unknown) => (v instanceof Float64Array ? undefined : v), 2) + '\n');
  writeFileSync(`${base}.md`, `Results of \`npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}\`, ${date}, commit ${doc.commit}, ${info.cpuCount} × ${info.cpuModel}, Node ${info.node}, load average ${info.loadAvgAtStart.join(' ')} → ${doc.machine.loadAvgAtEnd.join(' ')}, ${elapsedS} s.\n\n${renderMarkdown(rows)}\n`);

  console.log(renderText(rows));
  const fan = results.fanOut;
  if (fan && !('error' in fan) && fan.profile) console.log(`\nruncast delivering, ${formatProfile(fan.profile)}\n(profile file: ${fan.profile.file})`);
  if (fan && !('error' in fan) && fan.profileJoin) console.log(`\nruncast while the viewers join, ${formatProfile(fan.profileJoin)}\n(profile file: ${fan.profileJoin.file})`);
  if (fan && !('error' in fan) && fan.profileWs) console.log(`\nbare ws, ${formatProfile(fan.profileWs)}\n(profile file: ${fan.profileWs.file})`);
  console.log(`\nwritten: ${path.relative(process.cwd(), base)}.json and .md (${elapsedS} s)`);
  if (rows.some((r) => r.metric.startsWith('FAILED'))) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
