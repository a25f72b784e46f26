import type { Prng } from './prng.js';

// A config as plain JSON: the fuzzer edits any part of it.
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Segment = string | number;

/** One change made to a valid config, and where (a JSON pointer, as tsrun's errors give it). */
export interface Mutation {
  readonly kind: string;
  /** Kept true through later mutations: a removed list entry moves those after it. */
  pointer: string;
  readonly what: string;
}

/** A mutated config: its bytes, and what was done to it. */
export interface Mutant {
  readonly bytes: Buffer;
  readonly mutations: readonly Mutation[];
  /** The parsed config, when the bytes are JSON (for the cgroup path the case may create). */
  readonly tree: Json | undefined;
}

// Special values are written into the text after JSON.stringify: a string
// token stands in for them in the tree.
const token = (n: number) => `@@FUZZ${n}@@`;

const BOUNDARY_NUMBERS = [-1, 0, 1, -2147483648, 2147483647, 2147483648, 4294967295, 4294967296, 2 ** 53, -(2 ** 63), 2 ** 64, 1e308, -1e308, 0.5, 1e-300, -0];
const EDGE_STRINGS = ['', ' ', '\u0000', 'a\u0000b', '\n', '..', '../../../..', '/../../../../', '/proc/self/root', '//', '/'.repeat(4097), 'é', '\u{1F600}', '\uFFFD', '\uD800', '$(reboot)', '%s%n', 'C:\\\\', '-1'];
const TRAVERSALS = ['../../../escape', '/../../../escape', '/proc/../../escape', '/tmp/../../../../escape', 'escape/../../..', '/./././../escape', '/dev/../../escape', '/loop-a/x', '/escape-link/x', '/self-link/self-link/x'];
const UNKNOWN_KEYS = ['x-fuzz', '__proto__', 'constructor', '', 'ÿ', 'a/b', '~1', 'ociVersion2'];
// Bytes that are not UTF-8: a lone continuation byte, an overlong "/", a UTF-16 surrogate, a truncated sequence, 0xFF.
const INVALID_UTF8 = [Buffer.from([0x80]), Buffer.from([0xc0, 0xaf]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xe2, 0x82]), Buffer.from([0xff, 0xfe])];

function pointerOf(path: readonly Segment[]): string {
  return path.map((s) => `/${String(s).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

function nodes(value: Json, path: Segment[] = [], into: Array<{ path: Segment[]; value: Json }> = []): Array<{ path: Segment[]; value: Json }> {
  if (path.length > 0) into.push({ path, value });
  if (Array.isArray(value)) value.forEach((item, i) => nodes(item, [...path, i], into));
  else if (value !== null && typeof value === 'object') for (const [key, item] of Object.entries(value)) nodes(item, [...path, key], into);
  return into;
}

function parentOf(tree: Json, path: readonly Segment[]): Json[] | { [key: string]: Json } {
  let node: Json = tree;
  for (const segment of path.slice(0, -1)) node = (node as Record<string, Json>)[segment as string] as Json;
  return node as Json[] | { [key: string]: Json };
}

function set(tree: Json, path: readonly Segment[], value: Json): void {
  const parent = parentOf(tree, path);
  const last = path[path.length - 1] as Segment;
  if (Array.isArray(parent)) parent[last as number] = value;
  else Object.defineProperty(parent, last, { value, enumerable: true, writable: true, configurable: true });
}

function remove(tree: Json, path: readonly Segment[]): void {
  const parent = parentOf(tree, path);
  const last = path[path.length - 1] as Segment;
  if (Array.isArray(parent)) parent.splice(last as number, 1);
  else delete parent[last as string];
}

function randomValue(rng: Prng, not: string): Json {
  const makers: Array<[string, () => Json]> = [
    ['null', () => null],
    ['boolean', () => rng.chance(0.5)],
    ['number', () => rng.pick(BOUNDARY_NUMBERS)],
    ['string', () => rng.pick(EDGE_STRINGS)],
    ['array', () => (rng.chance(0.5) ? [] : [rng.pick(EDGE_STRINGS), rng.pick(BOUNDARY_NUMBERS)])],
    ['object', () => (rng.chance(0.5) ? {} : { [rng.pick(UNKNOWN_KEYS)]: rng.pick(EDGE_STRINGS) })],
  ];
  const [, make] = rng.pick(makers.filter(([type]) => type !== not));
  return make();
}

function typeOf(value: Json): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}

export interface MutateOptions {
  /** The longest string a mutation writes (end-to-end cases are kept smaller). */
  readonly hugeString: number;
  /** The deepest nesting a mutation writes. */
  readonly maxDepth: number;
}

/**
 * 1 to 3 mutations of `valid` (a deep copy is edited): wrong types, boundary
 * numbers, huge strings, deep nesting, unknown fields, invalid UTF-8,
 * removed fields, edge-case strings, duplicated list entries, path
 * traversal in mount destinations, odd cgroupsPath values, broken syntax.
 */
export function mutate(rng: Prng, valid: Json, options: MutateOptions): Mutant {
  // Through JSON, not structuredClone: that keeps shared references, and the base config's
  // capability sets are one array, so a mutation of bounding[2] also changed effective[2] and
  // permitted[2], which the error then named (found with seed 0xc94ec557, case 8725). In the
  // file create reads, each is its own list.
  const tree = JSON.parse(JSON.stringify(valid)) as Json;
  const mutations: Mutation[] = [];
  const specials: Array<{ token: string; bytes: Buffer }> = [];
  let syntax: ((text: Buffer) => Buffer) | undefined;
  const count = 1 + rng.below(3);
  for (let m = 0; m < count; m++) {
    const all = nodes(tree);
    const target = rng.pick(all);
    const kind = rng.pick(['retype', 'range', 'huge-string', 'deep-nesting', 'unknown-field', 'invalid-utf8', 'remove', 'edge-string', 'duplicate', 'mount-destination', 'cgroups-path', 'syntax'] as const);
    const pointer = pointerOf(target.path);
    switch (kind) {
      case 'retype': {
        const value = randomValue(rng, typeOf(target.value));
        set(tree, target.path, value);
        mutations.push({ kind, pointer, what: `${typeOf(target.value)} -> ${JSON.stringify(value)?.slice(0, 40)}` });
        break;
      }
      case 'range': {
        const numbers = all.filter((n) => typeof n.value === 'number');
        const at = numbers.length > 0 && rng.chance(0.8) ? rng.pick(numbers) : target;
        const value = rng.pick(BOUNDARY_NUMBERS);
        set(tree, at.path, value);
        mutations.push({ kind, pointer: pointerOf(at.path), what: String(value) });
        break;
      }
      case 'huge-string': {
        const length = Math.min(options.hugeString, 2 ** (8 + rng.below(14)));
        set(tree, target.path, 'x'.repeat(length));
        mutations.push({ kind, pointer, what: `${length} characters` });
        break;
      }
      case 'deep-nesting': {
        const depth = Math.min(options.maxDepth, 10 ** (1 + rng.below(5)));
        const open = rng.chance(0.5) ? '[' : '{"a":';
        const close = open === '[' ? ']' : '}';
        const t = token(specials.length);
        specials.push({ token: `"${t}"`, bytes: Buffer.from(`${open.repeat(depth)}${open === '[' ? '' : '1'}${close.repeat(depth)}`) });
        set(tree, target.path, t);
        mutations.push({ kind, pointer, what: `${depth} levels of ${open}` });
        break;
      }
      case 'unknown-field': {
        const objects = all.filter((n) => typeOf(n.value) === 'object');
        const at = rng.chance(0.2) || objects.length === 0 ? { path: [] as Segment[] } : rng.pick(objects);
        const key = rng.pick(UNKNOWN_KEYS);
        const path = [...at.path, key];
        set(tree, path, randomValue(rng, ''));
        mutations.push({ kind, pointer: pointerOf(path), what: `added "${key}"` });
        break;
      }
      case 'invalid-utf8': {
        const strings = all.filter((n) => typeof n.value === 'string');
        const at = rng.pick(strings.length > 0 ? strings : all);
        const t = token(specials.length);
        const bad = rng.pick(INVALID_UTF8);
        specials.push({ token: t, bytes: Buffer.concat([Buffer.from('a'), bad, Buffer.from('b')]) });
        set(tree, at.path, t);
        mutations.push({ kind, pointer: pointerOf(at.path), what: `bytes ${bad.toString('hex')}` });
        break;
      }
      case 'remove':
        remove(tree, target.path);
        shiftAfterRemoval(mutations, target.path);
        mutations.push({ kind, pointer, what: 'removed' });
        break;
      case 'edge-string': {
        const value = rng.pick(EDGE_STRINGS);
        set(tree, target.path, value);
        mutations.push({ kind, pointer, what: JSON.stringify(value).slice(0, 40) });
        break;
      }
      case 'duplicate': {
        const arrays = all.filter((n) => Array.isArray(n.value) && n.value.length > 0);
        if (arrays.length === 0) break;
        const at = rng.pick(arrays);
        const list = at.value as Json[];
        const times = 1 + rng.below(50);
        const copies = Array.from({ length: times }, () => structuredClone(rng.pick(list)));
        set(tree, at.path, [...list, ...copies]);
        mutations.push({ kind, pointer: pointerOf(at.path), what: `${times} more entries` });
        break;
      }
      case 'mount-destination': {
        const mounts = (tree as { mounts?: Json[] }).mounts;
        if (!Array.isArray(mounts) || mounts.length === 0) break;
        const i = rng.below(mounts.length);
        const destination = rng.pick(TRAVERSALS);
        const mount: Json = rng.chance(0.5) ? { destination, type: 'tmpfs', source: 'tmpfs' } : { destination, type: 'bind', source: '/etc', options: ['rbind', 'ro'] };
        mounts[i] = mount;
        mutations.push({ kind, pointer: `/mounts/${i}/destination`, what: destination });
        break;
      }
      case 'cgroups-path': {
        const value = rng.pick(['', '/', '..', '../../..', 'relative/fuzz', '/fuzz/../..', 'a:b:c', 'bad.slice:x:y', 'fuzz.slice:tsrun:x', '/'.repeat(300), `/${'x'.repeat(300)}`, '/sys']);
        if (typeOf((tree as { linux?: Json }).linux ?? null) !== 'object') break;
        set(tree, ['linux', 'cgroupsPath'], value);
        mutations.push({ kind, pointer: '/linux/cgroupsPath', what: JSON.stringify(value).slice(0, 40) });
        break;
      }
      case 'syntax': {
        const cut = rng.next();
        const byte = rng.pick([0x00, 0x2c, 0x7d, 0x5d, 0x22, 0x5c, 0xff]);
        const truncate = rng.chance(0.5);
        syntax = (text) => {
          const at = cut % text.length;
          return truncate ? text.subarray(0, at) : Buffer.concat([text.subarray(0, at), Buffer.from([byte]), text.subarray(at)]);
        };
        mutations.push({ kind, pointer: '', what: truncate ? 'truncated' : `byte ${byte.toString(16)} inserted` });
        break;
      }
    }
  }
  let bytes = render(tree, specials);
  if (syntax !== undefined) bytes = syntax(bytes);
  return { bytes, mutations, tree: specials.length === 0 && syntax === undefined ? tree : undefined };
}

/** Earlier mutations below a later entry of the list a removal shortened now sit one index lower. */
function shiftAfterRemoval(mutations: Mutation[], removed: readonly Segment[]): void {
  const index = removed[removed.length - 1];
  if (typeof index !== 'number') return;
  const list = pointerOf(removed.slice(0, -1));
  for (const m of mutations) {
    if (!m.pointer.startsWith(`${list}/`)) continue;
    const [first = '', ...rest] = m.pointer.slice(list.length + 1).split('/');
    if (/^\d+$/.test(first) && Number(first) > index) m.pointer = [list, String(Number(first) - 1), ...rest].join('/');
  }
}

function render(tree: Json, specials: ReadonlyArray<{ token: string; bytes: Buffer }>): Buffer {
  let parts: Buffer[] = [Buffer.from(JSON.stringify(tree))];
  for (const special of specials) {
    parts = parts.flatMap((part) => {
      const pieces = part.toString('latin1').split(special.token);
      return pieces.flatMap((piece, i) => (i === 0 ? [Buffer.from(piece, 'latin1')] : [special.bytes, Buffer.from(piece, 'latin1')]));
    });
  }
  return Buffer.concat(parts);
}

/**
 * Whether a report names a mutated field: a JSON pointer the mutation made,
 * one of its ancestors (below the top) or descendants, in the forms tsrun
 * writes (`/mounts/3/destination`, `mounts[3].destination`, `linux.cgroupsPath`).
 */
export function namesField(text: string, pointer: string): boolean {
  const segments = pointer.split('/').slice(1);
  for (let depth = segments.length; depth >= 1; depth--) {
    const prefix = segments.slice(0, depth);
    const forms = [
      `/${prefix.join('/')}`,
      prefix.map((s, i) => (/^\d+$/.test(s) ? `[${s}]` : i === 0 ? s : `.${s}`)).join(''),
    ];
    if (depth === 1) {
      // A top-level name alone is vague: only as a pointer, or followed by a deeper part.
      if (new RegExp(`(^|[\\s:])/${escape(prefix[0] ?? '')}(\\W|$)`, 'm').test(text) || new RegExp(`\\b${escape(prefix[0] ?? '')}[.[]`).test(text)) return true;
      continue;
    }
    if (forms.some((form) => text.includes(form))) return true;
  }
  return false;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
