// The five systems the peers benchmark compares, each on fresh 3-node sandbox clusters.
import { FAST_DETECTION } from '../../dist/config/detection-profile';
import { fastDetectionOptions } from '../../dist/sandbox';
import { startCorolistener } from './corolistener';
import { priorityOf, startKeepalived } from './keepalived';
import { startPacemaker } from './pacemaker';
import type { PeerSystem } from './peer';
import { CLUSTER_IP, DEV, PREFIX } from './target';

const ip = { ip: CLUSTER_IP, prefix: PREFIX, dev: DEV };
const f = FAST_DETECTION;
const priorities = `priorities ${[0, 1, 2].map(priorityOf).join('/')} (the first node master), unicast VRRP between the nodes' LAN addresses`;

export const COROLISTENER_DEFAULT: PeerSystem = {
  id: 'corolistener-default',
  label: 'corolistener, corosync defaults (token 1000)',
  settings: "`corolistener run` on every node with the sandbox's fake VMmanager; corosync token 1000 ms, everything else corosync's default (token_coefficient 650, consensus 1.2 × token)",
  cluster: {},
  usesCorosync: true,
  start: startCorolistener,
};

export const COROLISTENER_FAST: PeerSystem = {
  id: 'corolistener-fast',
  label: 'corolistener, fast detection profile',
  settings: `the same, with the fast detection profile (src/config/detection-profile.ts, FAST_DETECTION): token ${f.tokenMs}, token_coefficient ${f.tokenCoefficientMs}, token_retransmits_before_loss_const ${f.tokenRetransmitsBeforeLoss}, consensus ${f.consensusMs}, knet_ping_interval ${f.knetPingIntervalMs}, knet_ping_timeout ${f.knetPingTimeoutMs}`,
  cluster: fastDetectionOptions(),
  usesCorosync: true,
  start: startCorolistener,
};

export const KEEPALIVED_DEFAULT: PeerSystem = {
  id: 'keepalived-default',
  label: 'keepalived, advert_int 1 (its default)',
  settings: `keepalived 2.2.7 (Debian), VRRPv2, advert_int 1 (its defaults), ${priorities}; no corosync`,
  cluster: { start: false, waitFormed: false },
  usesCorosync: false,
  start: async (cluster) => startKeepalived(cluster, { ...ip, advertIntS: 1, vrrpVersion: 2 }),
};

export const KEEPALIVED_TUNED: PeerSystem = {
  id: 'keepalived-tuned',
  label: 'keepalived, advert_int 0.1 (VRRPv3)',
  settings: `keepalived 2.2.7, VRRPv3, advert_int 0.1, ${priorities}; no corosync`,
  cluster: { start: false, waitFormed: false },
  usesCorosync: false,
  start: async (cluster) => startKeepalived(cluster, { ...ip, advertIntS: 0.1, vrrpVersion: 3 }),
};

export const PACEMAKER: PeerSystem = {
  id: 'pacemaker',
  label: 'Pacemaker + IPaddr2 (token 1000)',
  settings:
    "Pacemaker 2.1.5 (Debian) with ocf:heartbeat:IPaddr2 on the same corosync as corolistener at its defaults (token 1000), stonith-enabled=false, the resource preferring the first node (score 100), no-quorum-policy its default (stop), each node's /var/lib/pacemaker and /var/log/pacemaker private",
  cluster: {},
  usesCorosync: true,
  start: async (cluster) => startPacemaker(cluster, ip),
};

export const SYSTEMS: readonly PeerSystem[] = [COROLISTENER_FAST, COROLISTENER_DEFAULT, KEEPALIVED_TUNED, KEEPALIVED_DEFAULT, PACEMAKER];
