// The cluster IP every system moves, and the clock the runs share.
import { performance } from 'node:perf_hooks';
import { DEFAULT_CLOUD_IP } from '../../dist/sandbox';

/** The fake VMmanager's cluster IP (corolistener's), used by every system alike. */
export const CLUSTER_IP = DEFAULT_CLOUD_IP;
export const PREFIX = 24;
export const DEV = 'vmbr0';

/** Wall-clock ms with µs resolution, comparable with `ip -ts` times. */
export const nowMs = (): number => performance.timeOrigin + performance.now();
