import { pointer } from './json-pointer.js';

/**
 * The deepest nesting of objects and arrays tsrun takes in a config. JSON.parse
 * reads any depth, but JSON.stringify recurses, and create writes the config
 * into its state: 5,000 levels overflow Node's call stack there (measured; the
 * fuzzer's 100,000-level cases died with a bare "Maximum call stack size
 * exceeded"). Go's decoder, which runc uses, stops at 10,000; the deepest field
 * of the runtime-spec (a seccomp argument's value) is 6 levels down, so 256
 * leaves room for any extension without coming near the stack.
 */
export const MAX_NESTING = 256;

/** A value on the walk, and how it was reached (kept as links: copying each path would cost depth times the size). */
interface Step {
  readonly node: unknown;
  readonly depth: number;
  readonly key: string | number;
  readonly parent: Step | undefined;
}

/**
 * The pointer to the first value nested deeper than MAX_NESTING, or undefined.
 * Walks with an explicit stack, for the same reason as the limit.
 */
export function tooDeep(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const pending: Step[] = [{ node: value, depth: 0, key: '', parent: undefined }];
  for (let step = pending.pop(); step; step = pending.pop()) {
    const { node, depth } = step;
    if (depth === MAX_NESTING) return pointer(...pathOf(step));
    // Only objects and arrays are walked: a config of 150,000 strings adds no steps.
    const push = (key: string | number, item: unknown) => {
      if (typeof item === 'object' && item !== null) pending.push({ node: item, depth: depth + 1, key, parent: step });
    };
    if (Array.isArray(node)) node.forEach((item: unknown, i) => push(i, item));
    else for (const key in node as object) push(key, (node as Record<string, unknown>)[key]);
  }
  return undefined;
}

function pathOf(step: Step): Array<string | number> {
  const path: Array<string | number> = [];
  for (let at: Step | undefined = step; at?.parent !== undefined; at = at.parent) path.push(at.key);
  return path.reverse();
}
