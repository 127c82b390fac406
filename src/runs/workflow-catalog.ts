/**
 * Deployed workflows: the `*.json` definitions of WORKFLOWS_DIR, validated at load,
 * indexed by workspace and id, and routed by their `api.start` method and path.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { WorkflowDefinition } from '../protocol/workflow';
import type { ProblemDetail } from '../protocol/errors';
import { validateWorkflow, type CompiledWorkflow } from '../executor/graph';
import type { NodeRegistry } from '../executor/node-type';
import { matchPath, routeSpecificity } from '../executor/route';

export interface DeployedWorkflow {
  workspace: string;
  workflow: CompiledWorkflow;
  method: string;
  path: string;
  file: string;
}

export interface WorkflowCatalog {
  /** A deployed workflow of this workspace, or undefined (another workspace's is invisible). */
  get(workspace: string, id: string): DeployedWorkflow | undefined;
  /** The workflow whose api.start matches, with the path params. */
  route(method: string, urlPath: string): { deployed: DeployedWorkflow; params: Record<string, string> } | undefined;
  list(): DeployedWorkflow[];
  /** Definitions that were refused at load, with their problems. */
  readonly rejected: { file: string; problems: ProblemDetail[] }[];
}

/** Load every `*.json` under `dir` (a missing directory is an empty catalog). */
export async function loadWorkflowCatalog(dir: string, registry: NodeRegistry): Promise<WorkflowCatalog> {
  const deployed: DeployedWorkflow[] = [];
  const rejected: { file: string; problems: ProblemDetail[] }[] = [];
  let files: string[] = [];
  try {
    files = (await fs.readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const seen = new Set<string>();
  for (const name of files) {
    const file = path.join(dir, name);
    let def: unknown;
    try {
      def = JSON.parse(await fs.readFile(file, 'utf8'));
    } catch (err) {
      rejected.push({ file, problems: [{ path: '/', message: `not valid JSON: ${(err as Error).message}` }] });
      continue;
    }
    const result = await validateWorkflow(def, registry);
    if (!result.ok) {
      rejected.push({ file, problems: result.problems });
      continue;
    }
    const wf = result.workflow;
    const workspace = (def as WorkflowDefinition).workspace ?? 'default';
    const key = `${workspace}\u0000${wf.def.id}`;
    if (seen.has(key)) {
      rejected.push({ file, problems: [{ path: '/id', message: `workflow id "${wf.def.id}" is deployed twice in workspace "${workspace}"` }] });
      continue;
    }
    seen.add(key);
    const start = wf.nodes.get(wf.startId)!;
    const cfg = (start.config ?? {}) as { method?: string; path?: string };
    deployed.push({ workspace, workflow: wf, method: (cfg.method ?? 'GET').toUpperCase(), path: cfg.path ?? '/', file });
  }
  const byKey = new Map(deployed.map((d) => [`${d.workspace}\u0000${d.workflow.def.id}`, d]));
  const routes = [...deployed].sort((a, b) => routeSpecificity(b.path) - routeSpecificity(a.path));
  return {
    get: (workspace, id) => byKey.get(`${workspace}\u0000${id}`),
    route(method, urlPath) {
      for (const d of routes) {
        if (d.method !== method.toUpperCase() && d.method !== 'ANY') continue;
        const params = matchPath(d.path, urlPath);
        if (params) return { deployed: d, params };
      }
      return undefined;
    },
    list: () => [...deployed],
    rejected,
  };
}
