import { SPEC_VERSION } from '../config/spec-version.js';
import type { Spec, State } from '../config/types.js';
import type { ContainerRecord } from './container-record.js';

/** The runtime-spec state of a recorded container, as hooks and listeners receive it. */
export function ociState(record: ContainerRecord, status: State['status'], spec: Spec | undefined): State {
  return {
    ociVersion: SPEC_VERSION,
    id: record.id,
    status,
    pid: record.pid,
    bundle: record.bundle,
    ...(spec?.annotations === undefined ? {} : { annotations: spec.annotations }),
  };
}
