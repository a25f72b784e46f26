import { describe, expect, it } from 'vitest';
import { assertValidId, InvalidContainerIdError, MAX_ID_LENGTH } from '../../../../src/runtime/container/container-id.js';

describe('assertValidId', () => {
  it.each(['a', 'web-1', 'A_b.c+d', '..a', 'a..', '0', 'x'.repeat(MAX_ID_LENGTH)])('accepts %j', (id) => {
    expect(() => assertValidId(id)).not.toThrow();
  });

  it('rejects the empty id with runc’s message', () => {
    expect(() => assertValidId('')).toThrow('container id cannot be empty');
  });

  it.each(['a/b', '../etc', 'a b', 'a:b', 'é', 'a\nb', '/abs'])('rejects %j naming the id and the alphabet', (id) => {
    expect(() => assertValidId(id)).toThrow(InvalidContainerIdError);
    expect(() => assertValidId(id)).toThrow(`${JSON.stringify(id)} may contain only letters, digits`);
  });

  it.each(['.', '..'])('rejects %j', (id) => {
    expect(() => assertValidId(id)).toThrow(/invalid container ID format: "\.\.?" is not allowed/);
  });

  it('rejects ids longer than one path component may be', () => {
    expect(() => assertValidId('x'.repeat(MAX_ID_LENGTH + 1))).toThrow(`is ${MAX_ID_LENGTH + 1} characters long`);
  });
});
