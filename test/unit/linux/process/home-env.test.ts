import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withHome } from '../../../../src/linux/process/home-env.js';
import { temporaryDir } from '../fixtures.js';

function passwd(text: string): string {
  const file = join(temporaryDir(), 'passwd');
  writeFileSync(file, text);
  return file;
}

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nweb:x:1000:1000::/srv/web:/bin/false\nnohome:x:1001:1001:::/bin/false\n';

describe('withHome', () => {
  it('adds HOME from the container\'s /etc/passwd for the process uid', () => {
    expect(withHome(['PATH=/bin'], 0, passwd(PASSWD))).toEqual(['PATH=/bin', 'HOME=/root']);
    expect(withHome([], 1000, passwd(PASSWD))).toEqual(['HOME=/srv/web']);
  });

  it('gives "/" for a uid the file does not list, one without a home, or no file', () => {
    expect(withHome([], 4242, passwd(PASSWD))).toEqual(['HOME=/']);
    expect(withHome([], 1001, passwd(PASSWD))).toEqual(['HOME=/']);
    expect(withHome([], 0, undefined)).toEqual(['HOME=/']);
    expect(withHome([], 0, join(temporaryDir(), 'missing'))).toEqual(['HOME=/']);
  });

  it('keeps a HOME the config sets, even an empty one', () => {
    expect(withHome(['HOME=/data', 'A=1'], 0, passwd(PASSWD))).toEqual(['HOME=/data', 'A=1']);
    expect(withHome(['HOME='], 0, passwd(PASSWD))).toEqual(['HOME=']);
  });
});
