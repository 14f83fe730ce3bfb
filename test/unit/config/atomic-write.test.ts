import { fork } from 'node:child_process';
import { chmod, link, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { transpileSources } from '../../support/transpile';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigValidationError,
  atomicWriteFile,
  corosyncCheckFile,
  corosyncRefusalError,
  editCorosyncConf,
  parseCorosyncConf,
  raiseNodePrioAboveOthers,
  readCorosyncConf,
  writeCorosyncConf,
} from '../../../src/config';
import { corosyncForTests } from './corosync-availability';

/** A valid corosync.conf, padded with comment lines so that writing it takes a while. */
function document(version: number, padLines: number): string {
  const pad = Array.from({ length: padLines }, (_, i) => `# v${version} padding ${i} ${'.'.repeat(400)}`);
  return [
    `# version ${version}`,
    ...pad,
    'totem {',
    '\tversion: 2',
    '\tcluster_name: crash',
    `\tconfig_version: ${version}`,
    '}',
    'nodelist {',
    '\tnode {',
    '\t\tring0_addr: 127.0.0.1',
    '\t\tnodeid: 1',
    `\t\tprio: ${version}`,
    '\t}',
    '}',
    '',
  ].join('\n');
}

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'corolistener-atomic-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('atomic write', () => {
  it('keeps the previous file as .bak and the mode of the file', async () => {
    const target = join(dir, 'keep.conf');
    await atomicWriteFile(target, 'one\n');
    await chmod(target, 0o640);
    await atomicWriteFile(target, 'two\n');
    expect(await readFile(target, 'utf8')).toBe('two\n');
    expect(await readFile(`${target}.bak`, 'utf8')).toBe('one\n');
    expect((await stat(target)).mode & 0o777).toBe(0o640);
    await atomicWriteFile(target, 'three\n');
    expect(await readFile(`${target}.bak`, 'utf8')).toBe('two\n');
    expect((await readdir(dir)).filter((n) => n.startsWith('.keep.conf'))).toEqual([]);
  });

  it('a backup that is a link to the live file (writer killed between its renames) leaves no temp behind', async () => {
    const target = join(dir, 'linked.conf');
    await atomicWriteFile(target, 'one\n');
    await link(target, `${target}.bak`); // what a writer killed after its first rename leaves
    await atomicWriteFile(target, 'two\n');
    expect(await readFile(target, 'utf8')).toBe('two\n');
    expect(await readFile(`${target}.bak`, 'utf8')).toBe('one\n');
    expect((await readdir(dir)).filter((n) => n.startsWith('.linked.conf'))).toEqual([]);
  });

  it('SIGKILLed writers leave the complete old or the complete new file, never a mix', async () => {
    // The child runs the real atomic writer, transpiled to CommonJS next to a tiny driver.
    transpileSources(dir, ['util/atomic-file.ts', 'util/process-identity.ts']);
    const contents = [1, 2, 3, 4, 5].map((v) => document(v, 300 + v * 500));
    await Promise.all(contents.map((c, i) => writeFile(join(dir, `content${i}`), c)));
    await writeFile(
      join(dir, 'writer.js'),
      `
      const { readFileSync } = require('node:fs');
      const { atomicWriteFile } = require('./util/atomic-file.js');
      const [target, n] = process.argv.slice(2);
      const contents = Array.from({ length: Number(n) }, (_, i) => readFileSync(__dirname + '/content' + i, 'utf8'));
      (async () => {
        for (let i = 0; ; i++) {
          await atomicWriteFile(target, contents[i % contents.length]);
          if (i === 0) process.send('ready'); // writing now (Node starts slowly on a loaded machine)
        }
      })();
    `,
    );
    const target = join(dir, 'corosync.conf');
    const initial = document(0, 10);
    await writeFile(target, initial);
    const allowed = new Set([initial, ...contents]);
    let killedMidWrite = 0;
    for (let round = 0; round < 30; round++) {
      const child = fork(join(dir, 'writer.js'), [target, String(contents.length)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
      await new Promise<void>((resolve) => child.once('message', () => resolve()));
      const until = Date.now() + 5 + Math.floor(Math.random() * 40);
      while (Date.now() < until) {
        // Readers during the writes see whole files too.
        expect(allowed.has(await readFile(target, 'utf8'))).toBe(true);
      }
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
      const names = await readdir(dir);
      if (names.some((n) => n.startsWith('.corosync.conf.'))) killedMidWrite++;
      const now = await readFile(target, 'utf8');
      expect(allowed.has(now), `round ${round}: torn file of ${now.length} bytes`).toBe(true);
      expect(parseCorosyncConf(now).syntaxErrors).toEqual([]);
      const backup = await readFile(`${target}.bak`, 'utf8').catch(() => initial);
      expect(allowed.has(backup), `round ${round}: torn backup`).toBe(true);
    }
    // The kills must really have hit writes in progress, or this test proves nothing.
    expect(killedMidWrite).toBeGreaterThan(5);
    // The next writer clears the temp files of the dead ones.
    await atomicWriteFile(target, initial);
    expect((await readdir(dir)).filter((n) => n.startsWith('.corosync.conf.'))).toEqual([]);
  });
});

describe('writeCorosyncConf refuses invalid documents', () => {
  const valid = document(7, 0);

  it('our validation: nothing is written, the file and its backup are unchanged', async () => {
    const target = join(dir, 'refuse.conf');
    await writeFile(target, valid);
    await writeFile(`${target}.bak`, 'older\n');
    const before = await stat(target);
    const invalid = parseCorosyncConf(valid.replace('prio: 7', 'prio: high'), target);
    const error = await writeCorosyncConf(target, invalid, { corosyncCheck: 'off' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigValidationError);
    expect(String((error as ConfigValidationError).errors[0])).toBe(`${target}:11:9: nodelist.node[0].prio: must be an integer (0 or more), got "high"`);
    expect(await readFile(target, 'utf8')).toBe(valid);
    expect((await stat(target)).ino).toBe(before.ino);
    expect(await readFile(`${target}.bak`, 'utf8')).toBe('older\n');
    expect((await readdir(dir)).filter((n) => n.startsWith('.refuse.conf'))).toEqual([]);
  });

  it('a file that is not UTF-8 is refused on read, naming the line (it could not round-trip)', async () => {
    const target = join(dir, 'latin1.conf');
    await writeFile(target, Buffer.concat([Buffer.from(valid.replace('cluster_name: crash', 'cluster_name: caf')), Buffer.from([0xe9, 0x0a])]));
    const error = await readCorosyncConf(target).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigValidationError);
    expect(String((error as ConfigValidationError).errors[0])).toBe(`${target}:14:1: (file): not valid UTF-8`);
  });

  it('reads back what it wrote, with warnings separate from errors', async () => {
    const target = join(dir, 'roundtrip.conf');
    const text = valid.replace('totem {', 'quorum {\n\texpected_votes: 5\n}\ntotem {');
    const result = await writeCorosyncConf(target, parseCorosyncConf(text), { corosyncCheck: 'off' });
    expect(result.warnings.map(String)).toEqual([`${target}:3:18: quorum.expected_votes: is 5 but the nodelist has 1 vote (1 node, quorum_votes default 1)`]);
    expect(await readFile(target, 'utf8')).toBe(text);
    const loaded = await readCorosyncConf(target);
    expect(loaded.view.nodes[0]!.prio).toBe(7);
    expect(loaded.warnings).toHaveLength(1);
  });
});

const { binary, skip } = await corosyncForTests('writeCorosyncConf with corosync -t');

describe.skipIf(skip)('writeCorosyncConf runs corosync -t before installing the file', () => {
  it('corosync is installed (required in CI)', () => {
    expect(binary).toBeDefined();
  });

  it('a file corosync refuses is not installed', async () => {
    const target = join(dir, 'corosync-refuses.conf');
    const valid = document(3, 0);
    await writeFile(target, valid);
    // Valid for our validator, but below corosync's minimum join timeout.
    const doc = parseCorosyncConf(valid.replace('\tversion: 2', '\tversion: 2\n\tjoin: 7'));
    const error = await writeCorosyncConf(target, doc, { corosyncCheck: 'required' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigValidationError);
    // corosync names no line for its timeout checks: the error points at the join entry.
    expect(String((error as ConfigValidationError).errors[0])).toBe(
      `${target}:4:8: totem.join: corosync -t refuses the file: parse error in config: The join timeout parameter (7 ms) may not be less than (30 ms).`,
    );
    expect(await readFile(target, 'utf8')).toBe(valid);
    expect((await readdir(dir)).filter((n) => n.startsWith('.corosync-refuses.conf'))).toEqual([]);
  });

  // Real corosync messages (each file is run through corosync -t) mapped back to the entry.
  // Our own validation refuses most of these first; the mapping must still hold, because the
  // writer may meet a corosync that refuses more than we model.
  const base =
    [
      'totem {',
      '\tversion: 2',
      '\tcluster_name: refusals',
      '}', // 1-4
      'logging {',
      '\ttimestamp: on',
      '}', // 5-7
      'nodelist {',
      '\tnode {',
      '\t\tring0_addr: 127.0.0.1',
      '\t\tnodeid: 1',
      '\t}', // 8-12 (the local node)
      '\tnode {',
      '\t\tring0_addr: 10.0.0.2',
      '\t\tnodeid: 2',
      '\t}',
      '}', // 13-17
    ].join('\n') + '\n';
  const REFUSALS: Array<[string, string, string, string]> = [
    ['unknown value for X', '\ttimestamp: on', '\ttimestamp: on\n\tto_syslog: maybe', '7:13: logging.to_syslog'],
    ['unknown value in logger_subsys', '\ttimestamp: on', '\ttimestamp: on\n\tlogger_subsys {\n\t\tsubsys: QUORUM\n\t\tdebug: x\n\t}', '9:10: logging.logger_subsys.debug'],
    ['unknown syslog facility', '\ttimestamp: on', '\ttimestamp: on\n\tsyslog_facility: DAEMON', '7:19: logging.syslog_facility'],
    ['unknown logfile priority', '\ttimestamp: on', '\ttimestamp: on\n\tlogfile_priority: warn', '7:20: logging.logfile_priority'],
    ['timeout parameter', '\tversion: 2', '\tversion: 2\n\tconsensus: 5', '3:13: totem.consensus'],
    ['token hold timeout parameter', '\tversion: 2', '\tversion: 2\n\thold: 1', '3:8: totem.hold'],
    ['consensus less than join', '\tversion: 2', '\tversion: 2\n\ttoken: 1000\n\tconsensus: 1000\n\tjoin: 1100', '4:13: totem.consensus'],
    ['not appropriate token', '\tversion: 2', '\tversion: 2\n\ttoken: 100', '3:9: totem.token'],
    ['crypto_cipher requires crypto_hash', '\tversion: 2', '\tversion: 2\n\tcrypto_cipher: aes256\n\tcrypto_hash: none', '4:15: totem.crypto_hash'],
    ['failed to parse node address', 'ring0_addr: 10.0.0.2', 'ring0_addr: 10.0.0.080', '14:15: nodelist.node[1].ring0_addr'],
    ['link mode', '\tversion: 2', '\tversion: 2\n\tlink_mode: RR', '3:13: totem.link_mode'],
    ['knet_transport', '\tversion: 2', '\tversion: 2\n\tinterface {\n\t\tknet_transport: tcp\n\t}', '4:19: totem.interface[0].knet_transport'],
    ['no node is this host', 'ring0_addr: 127.0.0.1', 'ring0_addr: 10.0.0.1', '8:1: nodelist'],
  ];
  it('the base of the refusal cases is accepted by corosync', async () => {
    const file = join(dir, 'refusal-base.conf');
    await writeFile(file, base);
    expect(await corosyncCheckFile(binary!, file)).toMatchObject({ ok: true });
  });
  for (const [what, from, to, where] of REFUSALS) {
    it(`corosync's "${what}" is reported at the entry (${where})`, async () => {
      const text = base.replace(from, to);
      const file = join(dir, `refusal-${what.replace(/\W+/g, '-')}.conf`);
      await writeFile(file, text);
      const result = await corosyncCheckFile(binary!, file);
      expect(result.ok, 'corosync must refuse this file').toBe(false);
      const error = corosyncRefusalError(parseCorosyncConf(text, file), result.message);
      expect(`${error.line}:${error.column}: ${error.field}`).toBe(where);
      expect(error.message).toBe(`${file}:${where}: corosync -t refuses the file: ${result.message}`);
    });
  }
  it("a message naming no entry keeps corosync's line, or line 1", () => {
    const doc = parseCorosyncConf(base, 'x.conf');
    expect(String(corosyncRefusalError(doc, 'parser error: x.conf:10: something new'))).toBe(
      'x.conf:10:3: nodelist.node[0].ring0_addr: corosync -t refuses the file: parser error: x.conf:10: something new',
    );
    expect(String(corosyncRefusalError(doc, 'something else'))).toBe('x.conf:1:1: corosync -t: corosync -t refuses the file: something else');
  });

  it('takeover edit on disk: prio raised, config_version bumped, previous file kept', async () => {
    const target = join(dir, 'takeover.conf');
    const two = document(5, 0).replace('\t}\n}', '\t}\n\tnode {\n\t\tring0_addr: 10.0.0.2\n\t\tnodeid: 2\n\t\tprio: 50\n\t}\n}');
    await writeFile(target, two);
    let raised = { prio: 0, changed: false };
    const first = await editCorosyncConf(
      target,
      (doc) => {
        const r = raiseNodePrioAboveOthers(doc, 1);
        raised = r;
        return r.doc;
      },
      { corosyncCheck: 'required' },
    );
    expect(first.changed).toBe(true);
    expect(raised).toMatchObject({ prio: 51, changed: true });
    expect(await readFile(`${target}.bak`, 'utf8')).toBe(two);
    const view = (await readCorosyncConf(target)).view;
    expect([view.configVersion, view.nodes.map((n) => n.prio)]).toEqual([6n, [51, 50]]);
    const second = await editCorosyncConf(target, (doc) => raiseNodePrioAboveOthers(doc, 1).doc, { corosyncCheck: 'required' });
    expect(second.changed).toBe(false);
    expect(await readFile(`${target}.bak`, 'utf8')).toBe(two);
  });

  it('a file corosync accepts is installed and reported as checked', async () => {
    const target = join(dir, 'corosync-accepts.conf');
    const result = await writeCorosyncConf(target, parseCorosyncConf(document(4, 0)), { corosyncCheck: 'required' });
    expect(result.corosyncChecked).toBe(true);
    expect(await readFile(target, 'utf8')).toBe(document(4, 0));
  });
});
