/**
 * Why a test file of test/vm cannot run here, reported as a skip, unless
 * the run names the file's requirement in TSRUN_VM_REQUIRE (space- or
 * comma-separated; .ci/run sets it for each boot of the guest). Then the
 * reason is an error: in CI, a guest that lost AppArmor, SELinux or its
 * cgroup v2 controllers must fail the run, not skip the tests that prove them.
 */
export function skipUnlessRequired(requirement: string, file: string, reason: string | undefined): string | undefined {
  if (reason === undefined) return undefined;
  const required = (process.env['TSRUN_VM_REQUIRE'] ?? '').split(/[\s,]+/).includes(requirement);
  if (required) throw new Error(`${file}: TSRUN_VM_REQUIRE names ${requirement}, but it cannot run here: ${reason}`);
  console.warn(`skipping ${file}: ${reason}`);
  return reason;
}
