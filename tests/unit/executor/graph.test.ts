import { validateWorkflow } from '../../../src/executor/graph';
import { realRegistry } from '../../helpers/registry';
import { createUser, getUser, looping } from '../../fixtures/workflows';
import type { WorkflowDefinition } from '../../../src/protocol/workflow';

const reg = realRegistry();
afterAll(() => reg.close());

const clone = (wf: WorkflowDefinition): WorkflowDefinition => JSON.parse(JSON.stringify(wf));
function edit(wf: WorkflowDefinition, f: (w: WorkflowDefinition) => void): WorkflowDefinition {
  const c = clone(wf);
  f(c);
  return c;
}

describe('validateWorkflow', () => {
  it.each([
    ['the contract example', createUser],
    ['a condition with both branches', getUser],
    ['a loop with a body and a done path', looping(3)],
  ])('accepts %s', async (_name, wf) => {
    const r = await validateWorkflow(wf, reg.registry);
    expect(r.ok ? [] : r.problems).toEqual([]);
  });

  it.each<[string, unknown, string, RegExp]>([
    ['not an object', 42, '/', /object/],
    ['a bad id', edit(createUser, (w) => (w.id = 'has space')), '/id', /pattern/],
    ['no nodes array', { id: 'x', edges: [] }, '/', /nodes/],
    ['a duplicate node id', edit(createUser, (w) => (w.nodes[2]!.id = 'params')), '/nodes/2/id', /duplicate/],
    ['an unknown node type', edit(createUser, (w) => (w.nodes[2]!.type = 'teleport')), '/nodes/2/type', /unknown node type/],
    ['a node config missing a required key', edit(createUser, (w) => delete w.nodes[3]!.config!.collection), '/nodes/3/config', /collection/],
    ['a node config with a bad enum', edit(createUser, (w) => (w.nodes[3]!.config!.operation = 'dropAll')), '/nodes/3/config/operation', /allowed/],
    ['a syntax error in code', edit(createUser, (w) => (w.nodes[2]!.config!.code = 'return {')), '/nodes/2/config', /./],
    ['two api.start nodes', edit(createUser, (w) => (w.nodes[1]!.type = 'api.start', w.nodes[1]!.config = { method: 'GET', path: '/x' })), '/nodes', /exactly one api.start/],
    ['no api.start node', edit(createUser, (w) => (w.nodes[0]!.type = 'delay', w.nodes[0]!.config = { ms: 1 })), '/nodes', /exactly one api.start/],
    ['an edge to an unknown node', edit(createUser, (w) => (w.edges[3]!.to = 'nowhere')), '/edges/3/to', /unknown node/],
    ['an edge from an unknown node', edit(createUser, (w) => w.edges.push({ from: 'ghost', to: 'respond' })), '/edges/4/from', /unknown node/],
    ['two outgoing edges', edit(createUser, (w) => w.edges.push({ from: 'start', to: 'clean' })), '/edges/4', /more than one outgoing/],
    ['a label on a plain edge', edit(createUser, (w) => (w.edges[0]!.when = 'true')), '/edges/0/when', /takes no "when"/],
    ['a condition missing its false edge', edit(getUser, (w) => w.edges.splice(3, 1)), '/nodes/2', /"true" and one "false"/],
    ['a condition edge without a label', edit(getUser, (w) => delete w.edges[2]!.when), '/edges/2', /needs "when"/],
    ['a loop missing its done edge', edit(looping(2), (w) => w.edges.splice(3, 1)), '/nodes/2', /"each" and one "done"/],
    ['a cycle', edit(createUser, (w) => (w.edges[3] = { from: 'insert', to: 'params' }, w.nodes.pop())), '/nodes', /cycle/],
    ['an unreachable node', edit(createUser, (w) => w.nodes.push({ id: 'lonely', type: 'api.response', config: {} })), '/nodes/5', /not reachable/],
    ['a path that ends without api.response', edit(createUser, (w) => (w.edges.pop(), w.nodes.pop())), '/nodes/3', /does not end at an api.response/],
    ['an edge out of api.response', edit(createUser, (w) => (w.nodes.push({ id: 'after', type: 'delay', config: { ms: 1 } }), w.edges.push({ from: 'respond', to: 'after' }))), '/nodes/4', /takes no outgoing edge/],
    ['api.response inside a loop body', edit(looping(2), (w) => (w.nodes[3]!.type = 'api.response', w.nodes[3]!.config = {})), '/nodes/3', /cannot be inside the body/],
    ['a template naming a node that cannot have run', edit(createUser, (w) => (w.nodes[2]!.config = { code: 'return 1' }, w.nodes[1]!.config = { body: { type: 'object' } }, (w.nodes[3]!.config!.data as any).email = '{{ nodes.respond.x }}')), '/nodes/3/config/data/email', /cannot have run/],
    ['a template naming an unknown node', edit(createUser, (w) => ((w.nodes[3]!.config!.data as any).email = '{{ nodes.ghost.x }}')), '/nodes/3/config/data/email', /unknown node/],
    ['item outside a loop', edit(createUser, (w) => ((w.nodes[3]!.config!.data as any).email = '{{ item }}')), '/nodes/3/config/data/email', /only defined inside a loop/],
    ['an unknown template root', edit(createUser, (w) => ((w.nodes[3]!.config!.data as any).email = '{{ env.HOME }}')), '/nodes/3/config/data/email', /unknown template root/],
  ])('refuses %s', async (_name, def, path, message) => {
    const r = await validateWorkflow(def, reg.registry);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const hit = r.problems.find((p) => p.path.startsWith(path) && message.test(p.message));
    expect(hit ?? r.problems).toEqual(expect.objectContaining({ path: expect.stringContaining(path) }));
  });

  it('reports every problem at once', async () => {
    const broken = edit(createUser, (w) => {
      w.nodes[2]!.type = 'teleport';
      w.nodes[3]!.config!.operation = 'dropAll';
      w.edges.push({ from: 'ghost', to: 'respond' });
    });
    const r = await validateWorkflow(broken, reg.registry);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const paths = r.problems.map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining(['/nodes/2/type', '/nodes/3/config/operation', '/edges/4/from']));
  });
});
