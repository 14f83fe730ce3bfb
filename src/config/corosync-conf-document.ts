// Lossless corosync.conf document. The text is kept as its lines (split on "\n" only, so "\r",
// indentation, trailing blanks, comments and the final newline all survive); the section tree
// only points into those lines. Serialising an unedited document is `lines.join("\n")`, which
// gives back the input byte for byte. Edits replace whole lines and re-parse (see
// corosync-conf-edit.ts), so the tree can never drift from the text.
//
// Line classification follows corosync 3.1.7's own parser (exec/coroparse.c parse_section),
// checked by experiment with `corosync -t`: after dropping one trailing "\r" and trailing
// blanks, a line whose first non-blank is "#" (or that is empty) is ignored; a line containing
// "{" opens a section (nothing may follow the "{"); otherwise a line containing ":" is
// `key: value` (split at the first ":"); otherwise a line containing "}" must be exactly "}";
// anything else is an error. Corosync stops at the first error; we record every error and
// carry on so that one run reports them all.

import { ConfigError } from './config-error';

/** corosync reads lines with fgets into a 512-byte buffer: at most 510 bytes plus "\n". */
export const COROSYNC_MAX_LINE_BYTES = 510;
/** icmap key names (ICMAP_KEYNAME_MAXLEN = 256): parent path + "." + name must stay below 255. */
const COROSYNC_MAX_PATH = 254;

export interface ConfEntry {
  readonly kind: 'entry';
  readonly key: string;
  readonly value: string;
  /** Dotted corosync path, e.g. `totem.config_version`. */
  readonly path: string;
  /** Human field name, e.g. `nodelist.node[2].prio`. */
  readonly field: string;
  /** 0-based index into `lines`. */
  readonly line: number;
  /** 0-based offsets into the raw line. */
  readonly keyStart: number;
  readonly valueStart: number;
}

export interface ConfSection {
  readonly kind: 'section';
  readonly name: string;
  readonly path: string;
  readonly field: string;
  /** 0-based line of the opening `name {`, -1 for the root. */
  readonly line: number;
  readonly nameStart: number;
  /** 0-based line of the closing `}`, undefined when missing (an error) or for the root. */
  closeLine: number | undefined;
  readonly children: Array<ConfEntry | ConfSection>;
}

export interface CorosyncConfDocument {
  /** File name used in error messages. */
  readonly file: string;
  readonly lines: readonly string[];
  readonly root: ConfSection;
  /** Problems corosync's parser itself would stop at (and a few of our own, see docs/config.md). */
  readonly syntaxErrors: readonly ConfigError[];
}

const isBlank = (c: string): boolean => c === ' ' || c === '\t';

function trimBlanks(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isBlank(s[a]!)) a++;
  while (b > a && isBlank(s[b - 1]!)) b--;
  return s.slice(a, b);
}

/** Sections whose siblings are numbered in field names (corosync numbers them too). */
const INDEXED_SECTIONS = new Set(['nodelist.node', 'totem.interface']);

export function parseCorosyncConf(text: string, file = 'corosync.conf'): CorosyncConfDocument {
  const lines = text.split('\n');
  const syntaxErrors: ConfigError[] = [];
  const root: ConfSection = {
    kind: 'section',
    name: '',
    path: '',
    field: '',
    line: -1,
    nameStart: 0,
    closeLine: undefined,
    children: [],
  };
  const stack: ConfSection[] = [root];
  const err = (line: number, column: number, field: string, detail: string): void => {
    syntaxErrors.push(new ConfigError({ file, line: line + 1, column: column + 1, field, detail }));
  };

  // A text ending in "\n" splits into a last empty string that is not a line of the file.
  const lineCount = text.endsWith('\n') ? lines.length - 1 : lines.length;
  for (let i = 0; i < lineCount; i++) {
    const raw = lines[i]!;
    const parent = stack[stack.length - 1]!;
    const where = parent.field || '(top level)';
    if (Buffer.byteLength(raw, 'utf8') > COROSYNC_MAX_LINE_BYTES) {
      err(i, 0, where, `line too long (${Buffer.byteLength(raw, 'utf8')} bytes; corosync reads at most ${COROSYNC_MAX_LINE_BYTES})`);
      continue;
    }
    if (raw.includes('\0')) {
      err(i, raw.indexOf('\0'), where, 'NUL byte in line');
      continue;
    }
    let body = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    let end = body.length;
    while (end > 0 && isBlank(body[end - 1]!)) end--;
    body = body.slice(0, end);
    let first = 0;
    while (first < body.length && isBlank(body[first]!)) first++;
    if (first === body.length || body[first] === '#') continue;

    const brace = body.indexOf('{');
    if (brace >= 0) {
      // Like corosync's remove_whitespace(line, 1): trailing blanks, ":" and "{" are dropped
      // from the name, but never its first character.
      let name = trimBlanks(body.slice(0, brace));
      while (name.length > 1 && /[ \t:{]$/.test(name)) name = name.slice(0, -1);
      if (name === '') {
        err(i, brace, where, `missing section name before "{"`);
        continue;
      }
      if (trimBlanks(body.slice(brace + 1)) !== '') {
        err(i, brace + 1, where, `extra characters after "{" (corosync wants "name {" alone on its line)`);
        continue;
      }
      if (parent.path.length + name.length + 1 > COROSYNC_MAX_PATH) {
        err(i, first, where, `section path too long for corosync (over ${COROSYNC_MAX_PATH} characters)`);
        continue;
      }
      const path = parent.path ? `${parent.path}.${name}` : name;
      let field = parent.field ? `${parent.field}.${name}` : name;
      if (INDEXED_SECTIONS.has(path)) {
        const index = parent.children.filter((c) => c.kind === 'section' && c.name === name).length;
        field = `${field}[${index}]`;
      }
      const section: ConfSection = {
        kind: 'section',
        name,
        path,
        field,
        line: i,
        nameStart: first,
        closeLine: undefined,
        children: [],
      };
      parent.children.push(section);
      stack.push(section);
      continue;
    }

    const colon = body.indexOf(':');
    if (colon >= 0) {
      const key = trimBlanks(body.slice(0, colon));
      let valueStart = colon + 1;
      while (valueStart < body.length && isBlank(body[valueStart]!)) valueStart++;
      const value = body.slice(valueStart);
      const field = parent.field ? `${parent.field}.${key}` : key;
      if (key === '') {
        err(i, first, where, 'empty key before ":"');
        continue;
      }
      if (parent.path.length + key.length + 1 > COROSYNC_MAX_PATH) {
        err(i, first, field, `key path too long for corosync (over ${COROSYNC_MAX_PATH} characters)`);
        continue;
      }
      const path = parent.path ? `${parent.path}.${key}` : key;
      parent.children.push({ kind: 'entry', key, value, path, field, line: i, keyStart: first, valueStart });
      continue;
    }

    if (body.includes('}')) {
      if (body.slice(first) !== '}') {
        err(i, first, where, `extra characters before or after "}" (corosync wants "}" alone on its line)`);
        continue;
      }
      if (stack.length === 1) {
        err(i, first, where, 'unexpected "}": no section is open');
        continue;
      }
      parent.closeLine = i;
      stack.pop();
      continue;
    }

    err(i, first, where, `line is not "name {", "key: value", "}" or a "#" comment`);
  }
  for (const open of stack.slice(1)) {
    err(open.line, open.nameStart, open.field, `section "${open.name}" is never closed (missing "}")`);
  }
  return { file, lines, root, syntaxErrors };
}

export function serializeCorosyncConf(doc: CorosyncConfDocument): string {
  return doc.lines.join('\n');
}

/** Depth-first walk over every entry of the document, in file order. */
export function* entriesOf(section: ConfSection): Generator<ConfEntry> {
  for (const child of section.children) {
    if (child.kind === 'entry') yield child;
    else yield* entriesOf(child);
  }
}

/** Depth-first walk over every section below `section`, in file order. */
export function* sectionsOf(section: ConfSection): Generator<ConfSection> {
  for (const child of section.children) {
    if (child.kind === 'section') {
      yield child;
      yield* sectionsOf(child);
    }
  }
}

export function sectionsAt(doc: CorosyncConfDocument, path: string): ConfSection[] {
  return [...sectionsOf(doc.root)].filter((s) => s.path === path);
}

/** Direct entries of a section with this key; corosync keeps the last one when repeated. */
export function lastEntry(section: ConfSection, key: string): ConfEntry | undefined {
  let found: ConfEntry | undefined;
  for (const c of section.children) if (c.kind === 'entry' && c.key === key) found = c;
  return found;
}

/** Value of `key` directly inside the last section at `sectionPath` (sections of one name merge in corosync). */
export function valueAt(doc: CorosyncConfDocument, sectionPath: string, key: string): ConfEntry | undefined {
  let found: ConfEntry | undefined;
  for (const s of sectionsAt(doc, sectionPath)) {
    const e = lastEntry(s, key);
    if (e) found = e;
  }
  return found;
}
