// Reading a configuration file (corosync.conf, vmmgr.conf) as text, refusing what no sane
// configuration is: a file over MAX_CONFIG_FILE_BYTES (a runaway generator or the wrong path
// must not make the daemon read gigabytes) and bytes that are not UTF-8 (the document model
// is text; a file that could not be written back byte for byte is refused, not altered).

import { isUtf8 } from 'node:buffer';
import { open } from 'node:fs/promises';
import { fileError } from '../util/file-error';
import { ConfigError, ConfigValidationError } from './config-error';

/** corosync.conf and vmmgr.conf are a few KiB; a thousand times that is not a configuration. */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024;

/** Reads at most MAX_CONFIG_FILE_BYTES (+1 to notice more) and decodes it as UTF-8, or throws a ConfigValidationError. */
export async function readConfigText(path: string): Promise<string> {
  // A missing file or a directory is said in words, naming the file (src/util/file-error.ts).
  const fh = await open(path, 'r').catch((err: unknown) => {
    throw fileError(err, path);
  });
  let bytes: Buffer;
  try {
    // Read through the limit rather than trusting fstat: the file may grow while we read,
    // and /proc-like files report size 0.
    const buffer = Buffer.alloc(MAX_CONFIG_FILE_BYTES + 1);
    let filled = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buffer, filled, buffer.length - filled, null);
      if (bytesRead === 0) break;
      filled += bytesRead;
      if (filled === buffer.length) break;
    }
    bytes = buffer.subarray(0, filled);
  } catch (err) {
    throw fileError(err, path);
  } finally {
    await fh.close();
  }
  if (bytes.length > MAX_CONFIG_FILE_BYTES) {
    // The line where the limit is crossed, so the operator sees where the file runs away.
    let line = 1;
    for (let i = bytes.indexOf(10); i !== -1 && i < MAX_CONFIG_FILE_BYTES; i = bytes.indexOf(10, i + 1)) line++;
    throw new ConfigValidationError([
      new ConfigError({
        file: path,
        line,
        column: 1,
        field: '(file)',
        detail: `file is larger than ${MAX_CONFIG_FILE_BYTES} bytes: not a configuration file corolistener will read`,
      }),
    ]);
  }
  return decodeUtf8(bytes, path);
}

/**
 * UTF-8 bytes to text; otherwise a ConfigValidationError naming the first line that is not
 * UTF-8.
 */
export function decodeUtf8(bytes: Buffer, file: string): string {
  if (isUtf8(bytes)) return bytes.toString('utf8');
  // "\n" never occurs inside a UTF-8 sequence, so some line is invalid on its own.
  const lines = bytes.toString('latin1').split('\n');
  const line = lines.findIndex((l) => !isUtf8(Buffer.from(l, 'latin1'))) + 1;
  throw new ConfigValidationError([new ConfigError({ file, line: Math.max(line, 1), column: 1, field: '(file)', detail: 'not valid UTF-8' })]);
}
