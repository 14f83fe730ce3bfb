// corosync is installed in CI; elsewhere tests that need it skip with a printed reason.
// In CI (process.env.CI) a missing corosync is a failure, never a silent skip.
import { findCorosync } from '../../../src/config';

export async function corosyncForTests(what: string): Promise<{ binary: string | undefined; skip: boolean }> {
  const binary = await findCorosync();
  const skip = binary === undefined && !process.env['CI'];
  if (skip) console.warn(`SKIPPED ${what}: corosync is not installed (apt-get install corosync); CI requires it`);
  return { binary, skip };
}
