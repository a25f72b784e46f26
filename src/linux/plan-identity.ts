import type { Spec } from '../config/types.js';
import type { ChainWriter } from './chain-writer.js';

/** hostname, domainname and sysctl: set from inside the container's namespaces, after pivot_root. */
export function planIdentity(spec: Spec, w: ChainWriter): void {
  if (spec.hostname !== undefined) {
    w.check(`sethostname ${JSON.stringify(spec.hostname)}`, 'sethostname', [spec.hostname, Buffer.byteLength(spec.hostname)]);
  }
  if (spec.domainname !== undefined) {
    w.check(`setdomainname ${JSON.stringify(spec.domainname)}`, 'setdomainname', [spec.domainname, Buffer.byteLength(spec.domainname)]);
  }
  for (const [key, value] of Object.entries(spec.linux?.sysctl ?? {})) {
    w.writeFile(`linux.sysctl ${key}`, `/proc/sys/${key.replace(/\./g, '/')}`, value);
  }
}
