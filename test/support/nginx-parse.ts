/**
 * A reader of NGINX's configuration grammar, written after `ngx_conf_read_token` (nginx 1.22):
 * words (bare or quoted), `;`, `{`, `}` and `#` comments. Tests parse what the library renders and
 * compare the directive tree with what the library means to write, so a value that adds a directive,
 * ends one early or opens a block shows up as a different tree, whatever `nginx -t` thinks of it.
 */

/** One word of a directive, as NGINX reads it. */
export interface NginxWord {
  /** The word after NGINX's unescaping (quotes removed, `\"`, `\'`, `\\`, `\t`, `\r`, `\n` decoded). */
  readonly value: string;
  /** The text in the file, quotes included. */
  readonly raw: string;
  /** Whether the word was quoted. */
  readonly quoted: boolean;
}

/** A directive: its name, its arguments and, for a block directive, the directives inside. */
export interface NginxDirective {
  readonly name: string;
  /** The name as written (quoted names exist: `'' $scheme;` in a map). */
  readonly nameRaw: string;
  readonly args: NginxWord[];
  readonly block?: NginxDirective[];
  /** Line of the directive's name (1-based). */
  readonly line: number;
}

type Token = { kind: 'word'; word: NginxWord; line: number } | { kind: ';' | '{' | '}'; line: number };

/** An error in the configuration's grammar, with NGINX's own wording where there is one. */
export class NginxSyntaxError extends Error {}

const SPACE = new Set([' ', '\t', '\r', '\n']);

/** The tokens of a configuration, exactly as `ngx_conf_read_token` splits them. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let lastSpace = true;
  let sharpComment = false;
  let quoted = false;
  let sQuoted = false;
  let dQuoted = false;
  let needSpace = false;
  let variable = false;
  let start = 0;
  let startLine = 1;
  let wordsInDirective = 0;

  const push = (end: number, isQuoted: boolean) => {
    const rawStart = isQuoted ? start - 1 : start;
    tokens.push({ kind: 'word', word: { value: unescape(text.slice(start, end)), raw: text.slice(rawStart, isQuoted ? end + 1 : end), quoted: isQuoted }, line: startLine });
    wordsInDirective++;
  };
  const punct = (kind: ';' | '{' | '}') => {
    if ((kind === ';' || kind === '{') && wordsInDirective === 0) throw new NginxSyntaxError(`unexpected "${kind}" on line ${line}`);
    if (kind === '}' && wordsInDirective !== 0) throw new NginxSyntaxError(`unexpected "}" on line ${line}`);
    tokens.push({ kind, line });
    wordsInDirective = 0;
  };

  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\n') line++;
    if (sharpComment) {
      if (ch === '\n') sharpComment = false;
      continue;
    }
    if (quoted) {
      quoted = false;
      continue;
    }
    if (needSpace) {
      if (SPACE.has(ch)) {
        lastSpace = true;
        needSpace = false;
        continue;
      }
      if (ch === ';' || ch === '{') {
        punct(ch);
        lastSpace = true;
        needSpace = false;
        continue;
      }
      if (ch === ')') {
        lastSpace = true;
        needSpace = false;
      } else {
        throw new NginxSyntaxError(`unexpected "${ch}" on line ${line}`);
      }
    }
    if (lastSpace) {
      start = i;
      startLine = line;
      if (SPACE.has(ch)) continue;
      switch (ch) {
        case ';':
        case '{':
        case '}':
          punct(ch);
          continue;
        case '#':
          sharpComment = true;
          continue;
        case '\\':
          quoted = true;
          lastSpace = false;
          continue;
        case '"':
          start = i + 1;
          dQuoted = true;
          lastSpace = false;
          continue;
        case "'":
          start = i + 1;
          sQuoted = true;
          lastSpace = false;
          continue;
        case '$':
          variable = true;
          lastSpace = false;
          continue;
        default:
          lastSpace = false;
      }
    } else {
      if (ch === '{' && variable) continue;
      variable = false;
      if (ch === '\\') {
        quoted = true;
        continue;
      }
      if (ch === '$') {
        variable = true;
        continue;
      }
      let found = false;
      let wasQuoted = false;
      if (dQuoted) {
        if (ch === '"') {
          dQuoted = false;
          needSpace = true;
          found = true;
          wasQuoted = true;
        }
      } else if (sQuoted) {
        if (ch === "'") {
          sQuoted = false;
          needSpace = true;
          found = true;
          wasQuoted = true;
        }
      } else if (SPACE.has(ch) || ch === ';' || ch === '{') {
        lastSpace = true;
        found = true;
      }
      if (found) {
        push(i, wasQuoted);
        if (ch === ';' || ch === '{') punct(ch);
      }
    }
  }
  if (!lastSpace || quoted || sQuoted || dQuoted) throw new NginxSyntaxError('unexpected end of file, expecting ";" or "}"');
  if (wordsInDirective !== 0) throw new NginxSyntaxError('unexpected end of file, expecting ";" or "}"');
  return tokens;
}

/** NGINX's unescaping of a word (`ngx_conf_read_token`'s copy loop). */
function unescape(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\' && i + 1 < text.length) {
      const next = text[i + 1];
      if (next === '"' || next === "'" || next === '\\') {
        out += next;
        i++;
        continue;
      }
      if (next === 't' || next === 'r' || next === 'n') {
        out += next === 't' ? '\t' : next === 'r' ? '\r' : '\n';
        i++;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

/** The directive tree of a configuration (throws `NginxSyntaxError` where NGINX would stop). */
export function parseNginx(text: string): NginxDirective[] {
  const tokens = tokenize(text);
  let pos = 0;
  const readBlock = (depth: number): NginxDirective[] => {
    const directives: NginxDirective[] = [];
    for (;;) {
      if (pos >= tokens.length) {
        if (depth > 0) throw new NginxSyntaxError('unexpected end of file, expecting "}"');
        return directives;
      }
      const token = tokens[pos];
      if (token.kind === '}') {
        if (depth === 0) throw new NginxSyntaxError(`unexpected "}" on line ${token.line}`);
        pos++;
        return directives;
      }
      const words: NginxWord[] = [];
      const line = token.line;
      while (pos < tokens.length && tokens[pos].kind === 'word') {
        words.push((tokens[pos] as { word: NginxWord }).word);
        pos++;
      }
      const end = tokens[pos];
      pos++;
      const [name, ...args] = words;
      if (end.kind === ';') {
        directives.push({ name: name.value, nameRaw: name.raw, args, line });
      } else if (end.kind === '{') {
        directives.push({ name: name.value, nameRaw: name.raw, args, block: readBlock(depth + 1), line });
      } else {
        throw new NginxSyntaxError(`unexpected "${end.kind}" on line ${end.line}`);
      }
    }
  };
  return readBlock(0);
}

/** The configuration text of a tree (words as they were written, one directive per line). */
export function serializeNginx(directives: NginxDirective[], indent = ''): string {
  return directives.map((d) => {
    const head = [d.nameRaw, ...d.args.map((a) => a.raw)].join(' ');
    return d.block
      ? `${indent}${head} {\n${serializeNginx(d.block, `${indent}  `)}${indent}}\n`
      : `${indent}${head};\n`;
  }).join('');
}

/** A bare word (for rewritten arguments). */
export function bareWord(value: string): NginxWord {
  if (!/^[A-Za-z0-9_./:=@+-]+$/.test(value)) throw new Error(`not a bare NGINX word: ${JSON.stringify(value)}`);
  return { value, raw: value, quoted: false };
}

/**
 * Differences between a rendered tree and the tree the library means to write. The intended tree is
 * known from two renders with neutral inputs (`base` and `alt`, which differ in every user value):
 * where they agree, the rendered tree must hold exactly that word; where they differ (a position
 * that holds a user value), it must hold `expected(baseWord)`, the base word with each neutral value
 * replaced by the user's. Directive names, argument counts and blocks must match everywhere.
 */
export function structureDifferences(
  actual: NginxDirective[], base: NginxDirective[], alt: NginxDirective[],
  expected: (baseWord: string) => string, where = '',
): string[] {
  const problems: string[] = [];
  if (base.length !== alt.length) return [`${where || 'top'}: the neutral renders differ in shape (${base.length} vs ${alt.length} directives)`];
  if (actual.length !== base.length) {
    return [`${where || 'top'}: ${actual.length} directives (${actual.map((d) => d.name).join(' ')}), intended ${base.length} (${base.map((d) => d.name).join(' ')})`];
  }
  actual.forEach((d, i) => {
    const b = base[i];
    const a = alt[i];
    const here = `${where}/${b.name}#${i}`;
    if (d.name !== b.name || a.name !== b.name) {
      problems.push(`${here}: directive '${d.name}', intended '${b.name}'`);
      return;
    }
    if (d.args.length !== b.args.length || a.args.length !== b.args.length) {
      problems.push(`${here}: ${d.args.length} arguments ${JSON.stringify(d.args.map((w) => w.value))}, intended ${b.args.length} ${JSON.stringify(b.args.map((w) => w.value))}`);
      return;
    }
    d.args.forEach((w, j) => {
      const intended = b.args[j].value === a.args[j].value ? b.args[j].value : expected(b.args[j].value);
      if (w.value !== intended) problems.push(`${here} argument ${j + 1}: ${JSON.stringify(w.value)}, intended ${JSON.stringify(intended)}`);
    });
    if (!!d.block !== !!b.block || !!a.block !== !!b.block) {
      problems.push(`${here}: ${d.block ? 'a block' : 'no block'}, intended ${b.block ? 'a block' : 'no block'}`);
      return;
    }
    if (d.block) problems.push(...structureDifferences(d.block, b.block!, a.block!, expected, here));
  });
  return problems;
}

/** A function replacing each neutral value in a word by the user's value (longest first). */
export function substitution(pairs: Array<[neutral: string, actual: string]>): (word: string) => string {
  const neutrals = pairs.map(([n]) => n);
  for (const n of neutrals) {
    const other = neutrals.find((m) => m !== n && m.includes(n));
    if (other !== undefined) throw new Error(`neutral value '${n}' is part of '${other}': choose distinct neutral values`);
  }
  if (pairs.length === 0) return (word) => word;
  const map = new Map(pairs);
  const pattern = new RegExp([...neutrals].sort((a, b) => b.length - a.length).map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
  return (word) => word.replace(pattern, (n) => map.get(n)!);
}

/** Every directive with the chain of block directives it is in (outermost first). */
export function walk(directives: NginxDirective[], parents: NginxDirective[] = []): Array<{ directive: NginxDirective; parents: NginxDirective[] }> {
  return directives.flatMap((d) => [{ directive: d, parents }, ...(d.block ? walk(d.block, [...parents, d]) : [])]);
}

/**
 * The occurrences of a directive in effect in a context: NGINX's inheritance for directives such as
 * `proxy_ssl_verify` or `add_header`: the innermost enclosing context (the block itself, then its
 * parents) that holds the directive at all decides; the outer ones are then not inherited.
 */
export function effective(top: NginxDirective[], chain: NginxDirective[], name: string): NginxDirective[] {
  const contexts: NginxDirective[][] = [top, ...chain.map((c) => c.block ?? [])];
  for (let i = contexts.length - 1; i >= 0; i--) {
    const found = contexts[i].filter((d) => d.name === name);
    if (found.length > 0) return found;
  }
  return [];
}

/** The argument values of each occurrence. */
export function argValues(directives: NginxDirective[]): string[][] {
  return directives.map((d) => d.args.map((a) => a.value));
}
