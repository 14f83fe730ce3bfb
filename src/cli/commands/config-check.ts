// `corolistener config check`: the setups that make failover unsafe or slow, said before they
// bite (issue 15). Reads corosync.conf and vmmgr.conf, and corosync's votequorum when it runs
// here. Each finding is one `warning:` line naming the file and what to do; exit 0 either way
// (the files are valid: invalid ones are exit 1 as everywhere), `--json` for scripts.
import { accessSync, constants, statSync } from 'node:fs';
import { deviceTimeoutS } from '../../actions/watchdog';
import { ConfigValidationError, readCorosyncConf, readVmmgrConf, type VmmgrConf } from '../../config';
import { sectionsAt, valueAt } from '../../config/corosync-conf-document';
import { describeDetection, detectionOf, FAST_DETECTION, type DetectionVerdict } from '../../config/detection-profile';
import { defaultVmmgrConf } from '../../config/vmmgr-conf';
import { Votequorum } from '../../corosync/votequorum';
import { CliError, type CliIo } from '../io';
import { EXIT } from '../options';
import type { CommandOf } from './types';

export interface CheckFinding {
  file: string;
  /** A short stable name for scripts. */
  code: 'two-node-without-qdevice' | 'fencing-off' | 'watchdog-device' | 'watchdog-timeout' | 'detection-untested' | 'detection-redundant-links';
  message: string;
}

/** What corosync itself reports (undefined: not running here, or no libraries). */
export type LiveQuorum = { twoNode: boolean; qdeviceRegistered: boolean } | undefined;

function liveQuorum(): LiveQuorum {
  let vq: Votequorum | undefined;
  try {
    vq = new Votequorum();
    const info = vq.info();
    return { twoNode: info.twoNode, qdeviceRegistered: info.qdeviceRegistered };
  } catch {
    return undefined;
  } finally {
    vq?.close();
  }
}

/** The totem timers that risk false membership changes, or a link change costing one (issue 16). */
export function checkDetection(corosyncConf: string, v: DetectionVerdict): CheckFinding[] {
  const out: CheckFinding[] = [];
  if (v.effectiveTokenMs < FAST_DETECTION.tokenMs) {
    out.push({
      file: corosyncConf,
      code: 'detection-untested',
      message: `token ${v.effectiveTokenMs} ms: below the fast detection profile's ${FAST_DETECTION.tokenMs} ms, the shortest whose soak under CPU and I/O load showed no false membership change; a node stalled longer than the token is taken for dead (its VMs suspended, restored elsewhere)`,
    });
  }
  if (v.redundantLinks && v.profile === 'fast') {
    out.push({
      file: corosyncConf,
      code: 'detection-redundant-links',
      message: `more than one knet link with the fast profile's knet_ping_timeout (${FAST_DETECTION.knetPingTimeoutMs} ms, longer than the token): a dead link is noticed only after the token is lost, so losing one link costs a membership change; with redundant links set knet_ping_timeout below the token (e.g. knet_ping_interval 20, knet_ping_timeout 80)`,
    });
  }
  return out;
}

/** The findings for these files (pure but for the watchdog device's stat and sysfs). */
export function checkSetup(input: { corosyncConf: string; twoNode: boolean; qdeviceConfigured: boolean; vmmgrConf: string; vmmgr: VmmgrConf; live: LiveQuorum }): CheckFinding[] {
  const out: CheckFinding[] = [];
  const { live, vmmgr } = input;
  const twoNode = live?.twoNode ?? input.twoNode;
  const qdevice = live?.qdeviceRegistered ?? input.qdeviceConfigured;
  if (twoNode && !qdevice) {
    out.push({
      file: input.corosyncConf,
      code: 'two-node-without-qdevice',
      message: `two_node: 1 without a ${live === undefined ? 'quorum.device section' : 'registered qdevice (votequorum)'}: a split leaves both nodes quorate, so neither can tell a failed node from a cut link; corolistener then never restores the other node's VMs (no automatic recovery). Add a qdevice (corosync-qnetd on a third host) or a third node`,
    });
  }
  const device = vmmgr.watchdogDevice;
  if (device === undefined) {
    out.push({
      file: input.vmmgrConf,
      code: 'fencing-off',
      message:
        'no WatchdogDevice: self-fencing is off; a node that hangs, freezes or cannot suspend its VMs keeps them running while the master restores them elsewhere. Set WatchdogDevice /dev/watchdog (modprobe softdog, or a hardware watchdog)',
    });
    return out;
  }
  try {
    const st = statSync(device);
    if (!st.isCharacterDevice() && !st.isFIFO() && !st.isFile()) throw new Error('not a device, FIFO or file');
    accessSync(device, constants.W_OK);
  } catch (err) {
    out.push({ file: input.vmmgrConf, code: 'watchdog-device', message: `WatchdogDevice ${device}: ${(err as Error).message}; the daemon cannot arm it (modprobe softdog?)` });
  }
  const kernel = deviceTimeoutS(device);
  if (kernel !== undefined && kernel !== vmmgr.watchdogTimeoutS) {
    out.push({
      file: input.vmmgrConf,
      code: 'watchdog-timeout',
      message: `WatchdogTimeout ${vmmgr.watchdogTimeoutS} s but ${device} resets after ${kernel} s (sysfs): make them equal (softdog: modprobe softdog soft_margin=${vmmgr.watchdogTimeoutS}); the daemon announces the longer one`,
    });
  }
  if (vmmgr.watchdogTimeoutS < 5) {
    out.push({
      file: input.vmmgrConf,
      code: 'watchdog-timeout',
      message: `WatchdogTimeout ${vmmgr.watchdogTimeoutS} s: a crashed daemon restarted by systemd (RestartSec=1, plus about a second to start) may not feed it in time; use 5 s or more`,
    });
  }
  return out;
}

export async function check(command: CommandOf<'config'>, io: CliIo, live: () => LiveQuorum = liveQuorum): Promise<number> {
  let findings: CheckFinding[];
  let detection: DetectionVerdict;
  try {
    const { doc } = await readCorosyncConf(command.corosyncConf);
    const vmmgr = await readVmmgrConf(command.vmmgrConf).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return defaultVmmgrConf();
      throw err;
    });
    const twoNode = valueAt(doc, 'quorum', 'two_node')?.value.trim() === '1';
    const qdeviceConfigured = sectionsAt(doc, 'quorum.device').length > 0;
    detection = detectionOf(doc);
    findings = [
      ...checkDetection(command.corosyncConf, detection),
      ...checkSetup({ corosyncConf: command.corosyncConf, twoNode, qdeviceConfigured, vmmgrConf: command.vmmgrConf, vmmgr, live: live() }),
    ];
  } catch (err) {
    if (err instanceof ConfigValidationError) throw new CliError(err.message, EXIT.FAILURE);
    throw err;
  }
  if (command.json) {
    io.stdout.write(`${JSON.stringify({ findings, detection })}\n`);
    return EXIT.OK;
  }
  io.stdout.write(`${describeDetection(detection)}\n`);
  if (findings.length === 0) io.stdout.write('config check: no risky setting found\n');
  else io.stdout.write(findings.map((f) => `warning: ${f.file}: ${f.message}\n`).join(''));
  return EXIT.OK;
}
