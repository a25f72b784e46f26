import { readFileSync } from 'node:fs';

/**
 * process.env, with HOME added when it has none, as runc and crun do: the
 * home directory of the process's uid in the container's own /etc/passwd,
 * or "/" when the file has no such user (or there is no file). `passwd`
 * is the host path of that file, resolved inside the container (or
 * undefined when it does not exist there).
 */
export function withHome(env: readonly string[], uid: number, passwd: string | undefined): string[] {
  if (env.some((entry) => entry.startsWith('HOME='))) return [...env];
  return [...env, `HOME=${homeOf(uid, passwd) ?? '/'}`];
}

function homeOf(uid: number, passwd: string | undefined): string | undefined {
  if (passwd === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(passwd, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    // name:password:uid:gid:gecos:home:shell
    const fields = line.split(':');
    if (fields.length >= 7 && Number(fields[2]) === uid && fields[2] !== '') return fields[5] === '' ? undefined : fields[5];
  }
  return undefined;
}
