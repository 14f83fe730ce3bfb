// The last lines of a log file for a failure message; '(none)' when it cannot be read.
import * as fs from 'node:fs';

export function fileTail(file: string, lines: number): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(none)';
  }
}
