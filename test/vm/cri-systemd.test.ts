import { readFileSync } from 'node:fs';
import { crictl, criMissing, describeCri, SYSTEMD } from '../integration/support/cri-suite.js';
import { cannotRunContainers } from '../integration/support/harness.js';
import { skipUnlessRequired } from './skip-unless-required.js';

// containerd's CRI with SystemdCgroup = true, as kubelet is set up on systemd hosts: every pod
// and container a scope that systemd makes in the pods' slice, with tsrun as a runtime handler
// beside runc (the suite in test/integration/support/cri-suite.ts), in the guest booted with
// systemd as PID 1 (TSRUN_VM_INIT=systemd).

function whyNot(): { bin: string } | { why: string } {
  const reason = cannotRunContainers() ?? criMissing();
  if (reason !== undefined) return { why: reason };
  if (readFileSync('/proc/1/comm', 'utf8').trim() !== 'systemd') return { why: 'systemd is not PID 1: run this in .ci/cgroup2-vm with TSRUN_VM_INIT=systemd' };
  return crictl();
}
const found = whyNot();
const skip = skipUnlessRequired('systemd', 'test/vm/cri-systemd.test.ts', 'why' in found ? found.why : undefined);
describeCri('containerd CRI (crictl) with SystemdCgroup, tsrun as a runtime handler beside runc', skip, 'bin' in found ? found.bin : '', SYSTEMD);
