import type { CompiledNode } from './compile.js';

/**
 * The pure step: which node follows `node` when it took `branch`. The wired connector for that
 * branch, else `Default`, else -1 (a dead end). CASE values match case-insensitively.
 */
export function nextNode(node: CompiledNode, branch: string): number {
  const index = node.next.get(node.definition.caseBranches ? branch.toLowerCase() : branch);
  return index === undefined ? node.defaultNext : index;
}
