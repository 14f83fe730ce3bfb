// File errors in words, naming the file: Node's "ENOENT: no such file or directory, open '/x'"
// and "EISDIR: illegal operation on a directory, read" (which names no file) become
// "/x: no such file" and "/x: is a directory, not a file". The error keeps its code, path and
// syscall, so callers that test `err.code === 'ENOENT'` work as before.

const WORDS: Record<string, string> = {
  ENOENT: 'no such file',
  EISDIR: 'is a directory, not a file',
  ENOTDIR: 'a part of the path is not a directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'the path is too long',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EIO: 'input/output error',
  ENXIO: 'no such device (a socket or FIFO?)',
};

/** What an errno code means, in words; undefined for a code not listed. */
export function errnoWords(code: string | undefined): string | undefined {
  return code === undefined ? undefined : WORDS[code];
}

/** `err` (from reading or writing `path`) as an Error whose message is "PATH: what is wrong". */
export function fileError(err: unknown, path: string): Error {
  const e = err as NodeJS.ErrnoException;
  const words = errnoWords(e?.code);
  if (words === undefined) return err instanceof Error ? err : new Error(String(err));
  return Object.assign(new Error(`${path}: ${words}`), { code: e.code, errno: e.errno, syscall: e.syscall, path, cause: err });
}

/**
 * The same for a message that already holds Node's text (from code not ours to change): each
 * "ECODE: description, syscall 'path'" in words; a path said twice in a row ("X cannot be
 * used: X: no such file") once.
 */
export function errnoTextInWords(text: string): string {
  return text
    .replace(/\b(E[A-Z]{2,}): [a-z][^,'\n]*(?:, [a-z]+(?: '([^'\n]*)')?(?: -> '[^'\n]*')?)?/g, (m, code: string, path: string | undefined) => {
      const words = WORDS[code];
      if (words === undefined) return m;
      return path === undefined ? words : `${path}: ${words}`;
    })
    .replace(/(\/[^\s:]+)([^\n]*?): \1: /g, '$1$2: ');
}
