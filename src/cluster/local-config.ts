// The distributor's and the sync service's view of this node's corosync.conf: read it with its
// version and digest, and install a file received from a peer (validated by our parser, checked
// with `corosync -t`, written atomically with the previous file kept as .bak; src/config).
import { ConfigError, ConfigValidationError, type WriteCorosyncConfOptions, loadCorosyncConfText, readConfigText, writeCorosyncConf } from '../config';
import type { LocalConfig } from './config-distributor';
import { sha256Hex } from './config-messages';

/**
 * config_version as corosync reads it: a missing key is 0. Read like every configuration file
 * (readConfigText): over 1 MiB or not UTF-8 is refused, naming the file.
 */
export async function readLocalConfig(path: string): Promise<LocalConfig> {
  const content = await readConfigText(path);
  const { view } = loadCorosyncConfText(content, path);
  return { version: view.configVersion ?? 0n, sha256: sha256Hex(content), content };
}

/**
 * Install `content` (received from a peer, claiming `version`) at `path`. Throws
 * ConfigValidationError naming file, line, column and field when our validation or
 * `corosync -t` refuses it, or when its config_version is not the claimed one; then nothing
 * is written.
 */
export async function installConfig(path: string, content: string, version: bigint, options: WriteCorosyncConfOptions = {}): Promise<void> {
  const { doc, view } = loadCorosyncConfText(content, path);
  if ((view.configVersion ?? 0n) !== version) {
    throw new ConfigValidationError([
      new ConfigError({
        file: path,
        line: 1,
        column: 1,
        field: 'totem.config_version',
        detail: `the file says ${view.configVersion ?? 'nothing'}, the message claims ${version}`,
      }),
    ]);
  }
  await writeCorosyncConf(path, doc, options);
}
