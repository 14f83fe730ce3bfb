import { describe, expect, it } from 'vitest';
import { renderCorosyncConf } from '../../../src/sandbox/conf';
import { resolveCluster } from '../../../src/sandbox/spec';

/** Minimal reader of the generated file: section path -> key -> values (in order). */
function sections(text: string): Map<string, Array<[string, string]>> {
  const out = new Map<string, Array<[string, string]>>();
  const stack: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const open = /^(\w+) \{$/.exec(line);
    if (open) {
      stack.push(open[1]!);
      if (!out.has(stack.join('.'))) out.set(stack.join('.'), []);
    } else if (line === '}') {
      expect(stack.pop()).toBeDefined();
    } else {
      const kv = /^(\w+): (\S+)$/.exec(line);
      expect(kv, `line ${JSON.stringify(raw)}`).not.toBeNull();
      out.get(stack.join('.'))!.push([kv![1]!, kv![2]!]);
    }
  }
  expect(stack).toEqual([]);
  return out;
}

describe('sandbox corosync.conf', () => {
  const c = resolveCluster(
    {
      tokenMs: 1500,
      configVersion: 7,
      nodes: [
        { nodeId: 2, prio: 99 },
        { nodeId: 4, prio: 100 },
        { nodeId: 8, prio: 98, replication: false },
      ],
    },
    'abc123',
  );
  const conf = sections(renderCorosyncConf(c));

  it('uses knet without crypto, the given token and config_version, cluster VMmanager', () => {
    expect(Object.fromEntries(conf.get('totem')!)).toEqual({
      version: '2',
      cluster_name: 'VMmanager',
      config_version: '7',
      transport: 'knet',
      crypto_cipher: 'none',
      crypto_hash: 'none',
      token: '1500',
    });
  });

  it('writes token_coefficient only when asked to', () => {
    expect(conf.get('totem')!.some(([k]) => k === 'token_coefficient')).toBe(false);
    const zero = sections(renderCorosyncConf(resolveCluster({ tokenMs: 100, tokenCoefficientMs: 0 }, 'abc123')));
    expect(Object.fromEntries(zero.get('totem')!)).toMatchObject({ token: '100', token_coefficient: '0' });
  });

  it('writes knet ping interval and timeout for link 0 only when asked to', () => {
    expect(conf.has('totem.interface')).toBe(false);
    const pinged = sections(renderCorosyncConf(resolveCluster({ knetPing: { intervalMs: 100, timeoutMs: 2000 } }, 'abc123')));
    expect(Object.fromEntries(pinged.get('totem.interface')!)).toEqual({ linknumber: '0', knet_ping_interval: '100', knet_ping_timeout: '2000' });
  });

  it('expects one vote per node and carries the ihttpd section', () => {
    expect(Object.fromEntries(conf.get('quorum')!)).toEqual({ provider: 'corosync_votequorum', expected_votes: '3' });
    expect(Object.fromEntries(conf.get('ihttpd')!)).toEqual({ count: '1', port0: '1500' });
  });

  it('lists every node with ring0_addr, nodeid, name, prio and replication', () => {
    const entries = conf.get('nodelist.node')!;
    expect(entries.filter(([k]) => k === 'nodeid').map(([, v]) => v)).toEqual(['2', '4', '8']);
    expect(entries.filter(([k]) => k === 'ring0_addr').map(([, v]) => v)).toEqual(['198.18.0.2', '198.18.0.4', '198.18.0.8']);
    expect(entries.filter(([k]) => k === 'name').map(([, v]) => v)).toEqual(['n2', 'n4', 'n8']);
    expect(entries.filter(([k]) => k === 'prio').map(([, v]) => v)).toEqual(['99', '100', '98']);
    expect(entries.filter(([k]) => k === 'replication').map(([, v]) => v)).toEqual(['on', 'on', 'off']);
  });

  it('logs to a file in the node, not to syslog', () => {
    expect(Object.fromEntries(conf.get('logging')!)).toMatchObject({ to_syslog: 'no', to_logfile: 'yes', logfile: '/var/log/corosync/corosync.log' });
  });
});

describe('sandbox corosync.conf with the fast detection profile', () => {
  it('is recognised as the profile by config check', async () => {
    const { parseCorosyncConf } = await import('../../../src/config/corosync-conf-document');
    const { detectionOf } = await import('../../../src/config/detection-profile');
    const { fastDetectionOptions } = await import('../../../src/sandbox/spec');
    const text = renderCorosyncConf(resolveCluster({ ...fastDetectionOptions(), nodes: 3 }, 'fa5701'));
    expect(sections(text).get('totem')).toEqual(
      expect.arrayContaining([
        ['token', '100'],
        ['token_coefficient', '0'],
        ['token_retransmits_before_loss_const', '3'],
        ['consensus', '120'],
      ]),
    );
    expect(detectionOf(parseCorosyncConf(text))).toMatchObject({ profile: 'fast', effectiveTokenMs: 100, consensusMs: 120, differences: [] });
  });
});
