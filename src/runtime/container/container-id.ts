// The id names a directory under --root (and usually a cgroup), so it must be
// one safe path component: runc's alphabet, no "." or "..", at most NAME_MAX.
const ALPHABET = /^[\w+\-.]+$/;
export const MAX_ID_LENGTH = 255;

export class InvalidContainerIdError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidContainerIdError';
  }
}

/** Throws InvalidContainerIdError unless `id` is usable as a container id. */
export function assertValidId(id: string): void {
  if (id === '') throw new InvalidContainerIdError('container id cannot be empty');
  const invalid = (rule: string) =>
    new InvalidContainerIdError(`invalid container ID format: ${JSON.stringify(id)} ${rule}`);
  if (id.length > MAX_ID_LENGTH) throw invalid(`is ${id.length} characters long; the limit is ${MAX_ID_LENGTH}`);
  if (!ALPHABET.test(id)) throw invalid('may contain only letters, digits, "_", "+", "-" and "."');
  if (id === '.' || id === '..') throw invalid('is not allowed (it would name the state directory itself or its parent)');
}
