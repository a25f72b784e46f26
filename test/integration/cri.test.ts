import { CGROUPFS, crictl, criMissing, describeCri } from './support/cri-suite.js';
import { skipReason } from './support/harness.js';

// containerd's CRI with tsrun as a runtime handler beside runc, the cgroupfs driver (support/cri-suite.ts).
function reason(): { bin: string } | { why: string } {
  const base = skipReason() ?? criMissing();
  return base === undefined ? crictl() : { why: base };
}

const found = reason();
if ('why' in found) console.warn(`skipping the CRI tests: ${found.why}`);
describeCri('containerd CRI (crictl) with tsrun as a runtime handler, beside runc', 'why' in found ? found.why : undefined, 'bin' in found ? found.bin : '', CGROUPFS);
