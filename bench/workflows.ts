/**
 * The workflows the benchmarks run, deployed into the bench server's WORKFLOWS_DIR
 * under the workspace `bench`.
 */
import type { WorkflowDefinition } from '../src/protocol/workflow';

export const BENCH_WORKSPACE = 'bench';

/** Padding that makes a body event frame about 1 KiB (three iterations in four). */
export const SMALL_PAD = 760;
/** Padding that makes a body event frame about 16 KiB (every fourth iteration). */
export const LARGE_PAD = 16_080;

/**
 * Fan-out: a loop of `events / 2` iterations whose body is a pass-through node (`delay`
 * 0 ms), so each iteration emits a `node.started` (input: the item) and a
 * `node.completed` (output: the item) of the same size: ~1 KiB for three items in
 * four, ~16 KiB for the fourth. The body runs no sandboxed code, so the producer is not
 * bound by the sandbox (measured on its own in scenario 5) and the fan-out is what the
 * benchmark stresses. Run it with the breakpoint `each`: viewers join while it waits.
 */
export function fanOutWorkflow(iterations: number): WorkflowDefinition {
  return {
    id: `fanout-${iterations}`,
    name: `Fan-out, ${iterations} iterations`,
    workspace: BENCH_WORKSPACE,
    nodes: [
      { id: 'start', type: 'api.start', config: { method: 'POST', path: `/fanout/${iterations}` } },
      {
        id: 'items',
        type: 'logic',
        config: {
          code: `const small = 'x'.repeat(${SMALL_PAD}), large = 'y'.repeat(${LARGE_PAD});
return Array.from({ length: ${iterations} }, (_, i) => ({ i, sku: 'SKU-' + (100000 + i), pad: i % 4 === 3 ? large : small }));`,
        },
      },
      { id: 'each', type: 'loop', config: { items: '{{ nodes.items }}', maxIterations: Math.max(1000, iterations) } },
      { id: 'body', type: 'delay', config: { ms: 0 } },
      { id: 'respond', type: 'api.response', config: { status: 200, body: { iterations } } },
    ],
    edges: [
      { from: 'start', to: 'items' },
      { from: 'items', to: 'each' },
      { from: 'each', to: 'body', when: 'each' },
      { from: 'each', to: 'respond', when: 'done' },
    ],
  } as WorkflowDefinition;
}

/** Frames a fan-out run sends after its `continue`: `node.started` of the loop, two per iteration, the loop's end, the response node, `run.completed`. */
export const fanOutFramesAfterPause = (iterations: number) => 2 * iterations + 5;

/**
 * A typical API workflow: 10 nodes run (validate the request, six sandboxed `logic`
 * steps with one `console.log`, one `condition`, the response); an eleventh, the 422
 * branch, is not taken. CPU only (no I/O node), so it is the harshest case for the
 * share of run time that streaming costs. Emits 23 events.
 */
export const orderWorkflow = {
  id: 'order',
  name: 'Price an order',
  workspace: BENCH_WORKSPACE,
  nodes: [
    { id: 'start', type: 'api.start', config: { method: 'POST', path: '/orders' } },
    {
      id: 'params',
      type: 'request.parameters',
      config: {
        body: {
          type: 'object',
          required: ['customer', 'items'],
          properties: {
            customer: { type: 'string', minLength: 3 },
            items: { type: 'array', items: { type: 'object', required: ['sku', 'qty', 'price'] } },
          },
        },
      },
    },
    { id: 'normalise', type: 'logic', config: { code: 'return { customer: input.body.customer.trim().toLowerCase(), items: input.body.items }' } },
    { id: 'check', type: 'condition', config: { expression: 'input.items.length > 0' } },
    { id: 'price', type: 'logic', config: { code: 'return { ...input, subtotal: input.items.reduce((s, it) => s + it.qty * it.price, 0) }' } },
    { id: 'discount', type: 'logic', config: { code: 'return { ...input, discount: input.subtotal > 5000 ? Math.round(input.subtotal * 0.05) : 0 }' } },
    { id: 'tax', type: 'logic', config: { code: 'return { ...input, tax: Math.round((input.subtotal - input.discount) * 0.25) }' } },
    { id: 'audit', type: 'logic', config: { code: "console.log('priced order for ' + input.customer); return input" } },
    { id: 'shape', type: 'logic', config: { code: 'return { customer: input.customer, lines: input.items.length, total: input.subtotal - input.discount + input.tax }' } },
    { id: 'respond', type: 'api.response', config: { status: 200, body: '{{ nodes.shape }}' } },
    { id: 'reject', type: 'api.response', config: { status: 422, body: { error: 'empty order' } } },
  ],
  edges: [
    { from: 'start', to: 'params' },
    { from: 'params', to: 'normalise' },
    { from: 'normalise', to: 'check' },
    { from: 'check', to: 'price', when: 'true' },
    { from: 'check', to: 'reject', when: 'false' },
    { from: 'price', to: 'discount' },
    { from: 'discount', to: 'tax' },
    { from: 'tax', to: 'audit' },
    { from: 'audit', to: 'shape' },
    { from: 'shape', to: 'respond' },
  ],
} as WorkflowDefinition;

/** The request every `order` run gets. */
export const orderInput = {
  method: 'POST',
  path: '/orders',
  headers: { 'content-type': 'application/json' },
  body: {
    customer: '  Ada.Lovelace@Example.com ',
    items: [
      { sku: 'SKU-100001', qty: 2, price: 1250 },
      { sku: 'SKU-100002', qty: 1, price: 4999 },
      { sku: 'SKU-100003', qty: 3, price: 799 },
    ],
  },
};
