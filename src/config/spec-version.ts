/** The runtime-spec version tsrun implements and writes into new configs and states. */
export const SPEC_VERSION = '1.3.0';
