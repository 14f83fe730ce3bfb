// Reading and writing corosync.conf on disk. Nothing invalid is ever written: the document
// must pass validateCorosyncConf, then (when corosync is installed) `corosync -t` on the
// complete temp file, before it replaces the old file (see src/util/atomic-file.ts).

import { ConfigError, ConfigValidationError } from './config-error';
import { atomicWriteFile } from '../util/atomic-file';
import { readConfigText } from './config-file-text';
import { corosyncCheckFile, findCorosync } from './corosync-check';
import { type CorosyncConfDocument, parseCorosyncConf, serializeCorosyncConf } from './corosync-conf-document';
import { validateCorosyncConf } from './corosync-conf-validate';
import { corosyncRefusalError } from './corosync-refusal';
import { type CorosyncConfView, viewCorosyncConf } from './corosync-conf-view';

export { decodeUtf8 } from './config-file-text';

export interface LoadedCorosyncConf {
  readonly doc: CorosyncConfDocument;
  readonly view: CorosyncConfView;
  readonly warnings: readonly ConfigError[];
}

/** Parse and validate; throws ConfigValidationError listing every error. */
export function loadCorosyncConfText(text: string, file = 'corosync.conf'): LoadedCorosyncConf {
  const doc = parseCorosyncConf(text, file);
  const { errors, warnings } = validateCorosyncConf(doc);
  if (errors.length > 0) throw new ConfigValidationError(errors, warnings);
  return { doc, view: viewCorosyncConf(doc), warnings };
}

export async function readCorosyncConf(path: string): Promise<LoadedCorosyncConf> {
  return loadCorosyncConfText(await readConfigText(path), path);
}

export interface WriteCorosyncConfOptions {
  /**
   * 'auto' (default): run `corosync -t` when corosync is installed; 'required': fail when it
   * is not; 'off': our validation only (for files not meant for this host, e.g. in tests).
   */
  readonly corosyncCheck?: 'auto' | 'required' | 'off';
  readonly corosyncBinary?: string;
  /** Backup suffix for the previous file (default ".bak"). */
  readonly backupSuffix?: string | null;
}

export interface WriteResult {
  readonly warnings: readonly ConfigError[];
  /** Whether `corosync -t` approved the file before it was installed. */
  readonly corosyncChecked: boolean;
}

export async function writeCorosyncConf(path: string, doc: CorosyncConfDocument, options: WriteCorosyncConfOptions = {}): Promise<WriteResult> {
  const text = serializeCorosyncConf(doc);
  // Validate the exact bytes that will be written, under the file name they will have.
  const written = parseCorosyncConf(text, path);
  const { errors, warnings } = validateCorosyncConf(written);
  if (errors.length > 0) throw new ConfigValidationError(errors, warnings);
  const mode = options.corosyncCheck ?? 'auto';
  const binary = mode === 'off' ? undefined : await findCorosync(options.corosyncBinary);
  if (mode === 'required' && binary === undefined) {
    throw new Error(`corosync (${options.corosyncBinary ?? 'corosync'}) is not installed: cannot check ${path} with corosync -t`);
  }
  await atomicWriteFile(path, text, {
    backupSuffix: options.backupSuffix,
    beforeCommit:
      binary === undefined
        ? undefined
        : async (temp) => {
            const result = await corosyncCheckFile(binary, temp);
            // corosync names the temp file: report against the real file name.
            if (!result.ok) throw new ConfigValidationError([corosyncRefusalError(written, result.message.split(temp).join(path))]);
          },
  });
  return { warnings, corosyncChecked: binary !== undefined };
}

/**
 * Read-edit-write: apply `edit` to the file's document and install the result (validated,
 * checked, atomic) when the text changed. Returns the document now on disk and whether it was
 * rewritten. Callers serialise their edits (the daemon runs one plan at a time).
 */
export async function editCorosyncConf(
  path: string,
  edit: (doc: CorosyncConfDocument) => CorosyncConfDocument,
  options: WriteCorosyncConfOptions = {},
): Promise<{ readonly doc: CorosyncConfDocument; readonly changed: boolean; readonly warnings: readonly ConfigError[] }> {
  const { doc, warnings } = await readCorosyncConf(path);
  const edited = edit(doc);
  if (serializeCorosyncConf(edited) === serializeCorosyncConf(doc)) return { doc, changed: false, warnings };
  const result = await writeCorosyncConf(path, edited, options);
  return { doc: edited, changed: true, warnings: result.warnings };
}
