/** Workflow definitions (WORKFLOWS.md). Browser-safe. */

export type EdgeLabel = 'true' | 'false' | 'each' | 'done';

export interface NodeDefinition {
  id: string;
  type: string;
  name?: string;
  config?: Record<string, unknown>;
}

export interface EdgeDefinition {
  from: string;
  to: string;
  when?: EdgeLabel;
}

export interface WorkflowDefinition {
  id: string;
  name?: string;
  workspace?: string;
  nodes: NodeDefinition[];
  edges: EdgeDefinition[];
}
