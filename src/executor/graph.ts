/**
 * Graph validation and compilation of workflow definitions (WORKFLOWS.md "Definition").
 * Every problem is reported at once, each with a JSON pointer. The result of a
 * successful validation is a `CompiledWorkflow` the executor walks.
 */
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { ProblemDetail } from '../protocol/errors';
import type { EdgeLabel, NodeDefinition, WorkflowDefinition } from '../protocol/workflow';
import { validateWorkflowShape } from '../protocol/validate';
import type { NodeRegistry } from './node-type';
import { templateRefs } from './templates';

export interface CompiledWorkflow {
  def: WorkflowDefinition;
  nodes: Map<string, NodeDefinition>;
  /** Outgoing edges by node id, by label ('' for unlabelled). */
  next: Map<string, Map<EdgeLabel | '', string>>;
  startId: string;
  /** For each node inside a loop body: the innermost loop's id. */
  loopOf: Map<string, string>;
}

export type ValidationResult = { ok: true; workflow: CompiledWorkflow } | { ok: false; problems: ProblemDetail[] };

const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
const configValidators = new WeakMap<object, ValidateFunction>();

function configValidator(schema: Record<string, unknown>): ValidateFunction {
  let v = configValidators.get(schema);
  if (!v) {
    v = ajv.compile(schema);
    configValidators.set(schema, v);
  }
  return v;
}

/**
 * Validate a definition against the workflow schema, each node type's config schema,
 * the graph rules and the static template rules. Never throws for bad input.
 */
export async function validateWorkflow(input: unknown, registry: NodeRegistry): Promise<ValidationResult> {
  const shape = validateWorkflowShape(input);
  if (shape.length > 0) return { ok: false, problems: shape };
  const def = input as WorkflowDefinition;
  const problems: ProblemDetail[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });

  const nodes = new Map<string, NodeDefinition>();
  const index = new Map<string, number>();
  def.nodes.forEach((n, i) => {
    if (nodes.has(n.id)) add(`/nodes/${i}/id`, `duplicate node id "${n.id}"`);
    else {
      nodes.set(n.id, n);
      index.set(n.id, i);
    }
  });

  // Node types and their configs.
  for (const [i, n] of def.nodes.entries()) {
    const type = registry.get(n.type);
    if (!type) {
      add(`/nodes/${i}/type`, `unknown node type "${n.type}" (known: ${registry.types().join(', ')})`);
      continue;
    }
    const validate = configValidator(type.configSchema);
    if (!validate(n.config ?? {})) {
      for (const e of validate.errors ?? []) add(`/nodes/${i}/config${e.instancePath}`, e.message ?? 'invalid');
      continue;
    }
    if (type.check) {
      try {
        for (const p of await type.check(n)) add(`/nodes/${i}/config${p.path === '/' ? '' : p.path}`, p.message);
      } catch (err) {
        add(`/nodes/${i}/config`, `check failed: ${(err as Error).message}`);
      }
    }
  }

  const starts = def.nodes.filter((n) => n.type === 'api.start');
  if (starts.length !== 1) add('/nodes', `a workflow needs exactly one api.start node, found ${starts.length}`);

  // Edges.
  const next = new Map<string, Map<EdgeLabel | '', string>>();
  const prev = new Map<string, Set<string>>();
  for (const id of nodes.keys()) {
    next.set(id, new Map());
    prev.set(id, new Set());
  }
  def.edges.forEach((e, j) => {
    let bad = false;
    if (!nodes.has(e.from)) (add(`/edges/${j}/from`, `edge from unknown node "${e.from}"`), (bad = true));
    if (!nodes.has(e.to)) (add(`/edges/${j}/to`, `edge to unknown node "${e.to}"`), (bad = true));
    if (bad) return;
    const from = nodes.get(e.from)!;
    const label: EdgeLabel | '' = e.when ?? '';
    const allowed: (EdgeLabel | '')[] =
      from.type === 'condition' ? ['true', 'false'] : from.type === 'loop' ? ['each', 'done'] : [''];
    if (!allowed.includes(label)) {
      add(
        `/edges/${j}${label ? '/when' : ''}`,
        from.type === 'condition' || from.type === 'loop'
          ? `an edge from ${from.type} node "${from.id}" needs "when": ${allowed.map((a) => `"${a}"`).join(' or ')}`
          : `an edge from "${from.id}" (${from.type}) takes no "when" label`,
      );
      return;
    }
    const out = next.get(e.from)!;
    if (out.has(label)) {
      add(`/edges/${j}`, label ? `node "${e.from}" has two "${label}" edges` : `node "${e.from}" has more than one outgoing edge`);
      return;
    }
    if (e.from === e.to) add(`/edges/${j}`, `edge from "${e.from}" to itself makes a cycle`);
    out.set(label, e.to);
    prev.get(e.to)!.add(e.from);
  });

  for (const [id, n] of nodes) {
    const out = next.get(id)!;
    const i = index.get(id)!;
    if (n.type === 'condition' && (!out.has('true') || !out.has('false')))
      add(`/nodes/${i}`, `condition node "${id}" needs one "true" and one "false" edge`);
    if (n.type === 'loop' && (!out.has('each') || !out.has('done')))
      add(`/nodes/${i}`, `loop node "${id}" needs one "each" and one "done" edge`);
    if (n.type === 'api.response' && out.size > 0) add(`/nodes/${i}`, `api.response node "${id}" ends the run: it takes no outgoing edge`);
    if (n.type === 'api.start' && prev.get(id)!.size > 0) add(`/nodes/${i}`, `api.start node "${id}" cannot have incoming edges`);
  }
  if (problems.length > 0) return { ok: false, problems };

  // Cycles (iterative DFS with colours).
  const colour = new Map<string, 0 | 1 | 2>();
  let cycle = false;
  for (const root of nodes.keys()) {
    if (colour.get(root)) continue;
    const stack: [string, Iterator<string>][] = [[root, next.get(root)!.values()]];
    colour.set(root, 1);
    while (stack.length && !cycle) {
      const top = stack[stack.length - 1]!;
      const step = top[1].next();
      if (step.done) {
        colour.set(top[0], 2);
        stack.pop();
        continue;
      }
      const c = colour.get(step.value) ?? 0;
      if (c === 1) {
        add(`/nodes/${index.get(step.value)}`, `cycle through node "${step.value}" (use a loop node to repeat work)`);
        cycle = true;
      } else if (c === 0) {
        colour.set(step.value, 1);
        stack.push([step.value, next.get(step.value)!.values()]);
      }
    }
    if (cycle) break;
  }
  if (cycle || starts.length !== 1) return { ok: false, problems };
  const startId = starts[0]!.id;

  // Reachability.
  const reach = (from: string, skipLabel?: EdgeLabel): Set<string> => {
    const seen = new Set<string>([from]);
    const todo = [from];
    while (todo.length) {
      const id = todo.pop()!;
      for (const [label, to] of next.get(id)!) {
        if (id === from && skipLabel && label === skipLabel) continue;
        if (!seen.has(to)) (seen.add(to), todo.push(to));
      }
    }
    return seen;
  };
  const reachable = reach(startId);
  for (const [id] of nodes) if (!reachable.has(id)) add(`/nodes/${index.get(id)}`, `node "${id}" is not reachable from api.start`);

  // Loop bodies: everything reachable from the "each" edge; nothing enters from outside.
  const loopOf = new Map<string, string>();
  const bodies = new Map<string, Set<string>>();
  for (const [id, n] of nodes) {
    if (n.type !== 'loop') continue;
    const body = reach(next.get(id)!.get('each')!);
    bodies.set(id, body);
    for (const b of body) {
      for (const p of prev.get(b)!) {
        if (!body.has(p) && !(p === id && next.get(id)!.get('each') === b))
          add(`/nodes/${index.get(b)}`, `node "${b}" is in the body of loop "${id}" but is also entered from "${p}" outside it`);
      }
      if (body.has(id)) add(`/nodes/${index.get(id)}`, `loop "${id}" reaches itself through its body`);
    }
  }
  // Innermost loop = the loop with the smallest body containing the node.
  for (const [loopId, body] of bodies) {
    for (const b of body) {
      const cur = loopOf.get(b);
      if (!cur || bodies.get(cur)!.size > body.size) loopOf.set(b, loopId);
    }
  }

  // Ends: outside loop bodies every path ends at api.response; inside, api.response is refused.
  for (const [id, n] of nodes) {
    const i = index.get(id)!;
    const inBody = loopOf.has(id);
    if (n.type === 'api.response' && inBody) add(`/nodes/${i}`, `api.response node "${id}" cannot be inside the body of loop "${loopOf.get(id)}"`);
    if (next.get(id)!.size === 0 && !inBody && n.type !== 'api.response')
      add(`/nodes/${i}`, `the path through "${id}" does not end at an api.response node`);
  }

  // Static template checks: nodes.X must be able to have run before; item/index only inside loops.
  // A loop's body has run by the time its "done" path runs, so it counts as before it.
  const ancestorsOf = (id: string): Set<string> => {
    const seen = new Set<string>();
    const todo = [id];
    while (todo.length) {
      const n = todo.pop()!;
      for (const p of prev.get(n)!) {
        if (!seen.has(p)) (seen.add(p), todo.push(p));
        const body = bodies.get(p);
        if (body && !body.has(n)) for (const b of body) seen.add(b);
      }
    }
    return seen;
  };
  for (const [id, n] of nodes) {
    const i = index.get(id)!;
    let ancestors: Set<string> | undefined;
    const rawKeys = registry.get(n.type)?.rawConfigKeys ?? [];
    const templated = Object.fromEntries(Object.entries(n.config ?? {}).filter(([k]) => !rawKeys.includes(k)));
    for (const ref of templateRefs(templated)) {
      const [root, name] = ref.path;
      const at = `/nodes/${i}/config${ref.pointer}`;
      if (root === 'nodes') {
        if (!name || !nodes.has(name)) add(at, `template refers to unknown node "${name ?? ''}"`);
        else if (!(ancestors ??= ancestorsOf(id)).has(name) || name === id)
          add(at, `template refers to node "${name}", which cannot have run before "${id}"`);
      } else if ((root === 'item' || root === 'index') && !loopOf.has(id)) {
        add(at, `"${root}" is only defined inside a loop body`);
      } else if (!['request', 'input', 'nodes', 'secrets', 'item', 'index'].includes(root ?? '')) {
        add(at, `unknown template root "${root ?? ''}" (use request, input, nodes, secrets, item or index)`);
      }
    }
  }

  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, workflow: { def, nodes, next, startId, loopOf } };
}
