/**
 * Placeholders in template strings: `{{ .Subject.commonName | lower }}`.
 *
 * The syntax is a deliberately small subset of Go's text/template (what step-ca users know), so
 * that a template can never run code: a placeholder is a *pipeline* of commands separated by
 * `|`; a command is either one operand (a variable path or a literal) or a function name from a
 * fixed table followed by operands; the result of each command is passed as the last argument
 * of the next (Go's rule). There are no assignments, conditionals, loops, parentheses, method
 * calls or template inclusion, so evaluation is linear in the size of the template, and every
 * function's output is bounded before it is built.
 *
 * ```text
 * placeholder := "{{" ["- "] pipeline [" -"] "}}"
 * pipeline    := command ("|" command)*
 * command     := operand | FUNCTION operand*
 * operand     := path | STRING | NUMBER | "true" | "false" | "null"
 * path        := ("." IDENT)+                    e.g. .Subject.commonName, .Data.team
 * STRING      := "double \"quoted\"" | `raw`
 * ```
 */
import { getOwn, isJsonObject, type JsonValue } from './json.js';

/** A variable reference such as `.Subject.commonName` (segments `["Subject", "commonName"]`). */
export interface PathOperand {
  readonly kind: 'path';
  readonly segments: readonly string[];
  /** As written, for messages: `.Subject.commonName`. */
  readonly text: string;
}

/** A literal operand. */
export interface LiteralOperand {
  readonly kind: 'literal';
  readonly value: string | number | boolean | null;
}

export type Operand = PathOperand | LiteralOperand;

/** One command of a pipeline: a bare operand, or a function applied to operands. */
export interface Command {
  readonly fn: string | undefined;
  readonly args: readonly Operand[];
}

/** A compiled `{{ … }}`. */
export interface Pipeline {
  readonly commands: readonly Command[];
  /** The source between the braces, trimmed, for messages. */
  readonly source: string;
}

/** A piece of a template string: literal text or a placeholder. */
export type StringPart = { readonly kind: 'text'; readonly text: string } | { readonly kind: 'placeholder'; readonly pipeline: Pipeline };

/** A template string split into parts. `whole` is true when it is exactly one placeholder. */
export interface CompiledString {
  readonly parts: readonly StringPart[];
  readonly whole: boolean;
}

/** A syntax error in a placeholder (the caller adds the JSON path). */
export class TemplateSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateSyntaxError';
  }
}

/** A problem found while evaluating a placeholder (the caller adds the JSON path). */
export class TemplateEvalError extends Error {
  constructor(
    message: string,
    /** The variable that was missing, when that is the problem. */
    readonly variable?: string,
  ) {
    super(message);
    this.name = 'TemplateEvalError';
  }
}

/** The value of a variable that does not exist. Only `default`, `required` and `coalesce` accept it. */
export class Missing {
  constructor(
    /** The variable (or expression) that had no value, as written. */
    readonly variable: string,
    /** Why, when it is not simply an unset variable. */
    readonly reason?: string,
  ) {}
}

/** What evaluation works with: a JSON value or a missing variable. */
export type EvalValue = JsonValue | Missing;

/** True when a string contains a placeholder opening. */
export function hasPlaceholder(s: string): boolean {
  return s.includes('{{');
}

// ---------------------------------------------------------------------------------------------
// Compiling

type Token =
  | { t: 'pipe' }
  | { t: 'path'; segments: string[]; text: string }
  | { t: 'ident'; name: string }
  | { t: 'string'; value: string }
  | { t: 'number'; value: number };

const SEGMENT = /[A-Za-z_][A-Za-z0-9_]*/y;
const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?/y;

function isSpace(ch: string | undefined): boolean {
  return ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r';
}

/**
 * Lexes one placeholder starting right after `{{` at `start`; returns its tokens, trim markers
 * and the offset just past the closing `}}`.
 */
function lexPlaceholder(s: string, start: number): { tokens: Token[]; end: number; trimLeft: boolean; trimRight: boolean; source: string } {
  let i = start;
  let trimLeft = false;
  if (s[i] === '-' && isSpace(s[i + 1])) {
    trimLeft = true;
    i += 1;
  }
  const bodyStart = i;
  const tokens: Token[] = [];
  for (;;) {
    while (isSpace(s[i])) i++;
    const ch = s[i];
    if (ch === undefined) throw new TemplateSyntaxError('unclosed placeholder: "{{" without "}}"');
    if (ch === '}' && s[i + 1] === '}') {
      return { tokens, end: i + 2, trimLeft, trimRight: false, source: s.slice(bodyStart, i).trim() };
    }
    if (ch === '-' && isSpace(s[i - 1]) && s[i + 1] === '}' && s[i + 2] === '}') {
      return { tokens, end: i + 3, trimLeft, trimRight: true, source: s.slice(bodyStart, i).trim() };
    }
    if (ch === '|') {
      tokens.push({ t: 'pipe' });
      i++;
      continue;
    }
    if (ch === '.') {
      const segments: string[] = [];
      const from = i;
      while (s[i] === '.') {
        SEGMENT.lastIndex = i + 1;
        const m = SEGMENT.exec(s);
        if (!m) throw new TemplateSyntaxError(`bad variable "${s.slice(from, i + 1)}": expected a name after "."`);
        segments.push(m[0]);
        i = SEGMENT.lastIndex;
      }
      tokens.push({ t: 'path', segments, text: s.slice(from, i) });
      continue;
    }
    if (ch === '"') {
      let out = '';
      i++;
      for (;;) {
        const c = s[i];
        if (c === undefined) throw new TemplateSyntaxError('unterminated string literal in placeholder');
        if (c === '"') break;
        if (c === '\\') {
          const e = s[i + 1];
          const map: Record<string, string> = { '"': '"', '\\': '\\', n: '\n', t: '\t', r: '\r' };
          const rep = e === undefined ? undefined : map[e];
          if (rep === undefined) throw new TemplateSyntaxError(`invalid escape "\\${e ?? ''}" in string literal`);
          out += rep;
          i += 2;
          continue;
        }
        out += c;
        i++;
      }
      i++;
      tokens.push({ t: 'string', value: out });
      continue;
    }
    if (ch === '`') {
      const close = s.indexOf('`', i + 1);
      if (close < 0) throw new TemplateSyntaxError('unterminated raw string literal in placeholder');
      tokens.push({ t: 'string', value: s.slice(i + 1, close) });
      i = close + 1;
      continue;
    }
    NUMBER.lastIndex = i;
    const num = NUMBER.exec(s);
    if (num && (ch === '-' || (ch >= '0' && ch <= '9'))) {
      tokens.push({ t: 'number', value: Number(num[0]) });
      i = NUMBER.lastIndex;
      continue;
    }
    IDENT.lastIndex = i;
    const id = IDENT.exec(s);
    if (id) {
      tokens.push({ t: 'ident', name: id[0] });
      i = IDENT.lastIndex;
      continue;
    }
    throw new TemplateSyntaxError(`unexpected character "${ch}" in placeholder`);
  }
}

function operandOf(tok: Token): Operand | undefined {
  switch (tok.t) {
    case 'path':
      return { kind: 'path', segments: tok.segments, text: tok.text };
    case 'string':
      return { kind: 'literal', value: tok.value };
    case 'number':
      return { kind: 'literal', value: tok.value };
    case 'ident':
      if (tok.name === 'true') return { kind: 'literal', value: true };
      if (tok.name === 'false') return { kind: 'literal', value: false };
      if (tok.name === 'null' || tok.name === 'nil') return { kind: 'literal', value: null };
      return undefined;
    case 'pipe':
      return undefined;
  }
}

function parsePipeline(tokens: readonly Token[], source: string): Pipeline {
  if (tokens.length === 0) throw new TemplateSyntaxError('empty placeholder "{{ }}"');
  const groups: Token[][] = [[]];
  for (const tok of tokens) {
    if (tok.t === 'pipe') groups.push([]);
    else (groups[groups.length - 1] as Token[]).push(tok);
  }
  const commands: Command[] = groups.map((g, idx) => {
    const head = g[0];
    if (head === undefined) throw new TemplateSyntaxError(`empty command in "${source}" (a "|" with nothing on one side)`);
    const headOperand = operandOf(head);
    if (head.t === 'ident' && headOperand === undefined) {
      const spec = FUNCTIONS.get(head.name);
      if (!spec) throw new TemplateSyntaxError(`unknown function "${head.name}" (functions: ${[...FUNCTIONS.keys()].join(', ')})`);
      const args = g.slice(1).map((t) => {
        const o = operandOf(t);
        if (!o) throw new TemplateSyntaxError(`"${t.t === 'ident' ? t.name : '|'}" cannot be an argument of ${head.name} (no nested calls)`);
        return o;
      });
      const n = args.length + (idx > 0 ? 1 : 0);
      if (n < spec.min || n > spec.max) {
        const want = spec.min === spec.max ? `${spec.min}` : spec.max === Infinity ? `at least ${spec.min}` : `${spec.min} to ${spec.max}`;
        throw new TemplateSyntaxError(`${head.name} takes ${want} argument${spec.max === 1 ? '' : 's'} (${spec.usage}), got ${n}`);
      }
      return { fn: head.name, args };
    }
    if (!headOperand) throw new TemplateSyntaxError(`unexpected "${head.t}" in "${source}"`);
    if (idx > 0) throw new TemplateSyntaxError(`"${source}": only a function can follow "|"`);
    if (g.length > 1) throw new TemplateSyntaxError(`"${source}": a value cannot take arguments; did you mean a function?`);
    return { fn: undefined, args: [headOperand] };
  });
  return { commands, source };
}

/**
 * Splits a template string into text and compiled placeholders. Throws TemplateSyntaxError.
 * `{{- ` and ` -}}` trim the whitespace of the adjacent text, as in Go.
 */
export function compileString(s: string): CompiledString {
  const parts: StringPart[] = [];
  let text = '';
  let i = 0;
  let trimNext = false;
  while (i < s.length) {
    const open = s.indexOf('{{', i);
    if (open < 0) {
      text += s.slice(i);
      break;
    }
    text += s.slice(i, open);
    const lex = lexPlaceholder(s, open + 2);
    if (trimNext) text = text.replace(/^\s+/, '');
    if (lex.trimLeft) text = text.replace(/\s+$/, '');
    if (text !== '') parts.push({ kind: 'text', text });
    text = '';
    parts.push({ kind: 'placeholder', pipeline: parsePipeline(lex.tokens, lex.source) });
    trimNext = lex.trimRight;
    i = lex.end;
  }
  if (trimNext) text = text.replace(/^\s+/, '');
  if (text !== '') parts.push({ kind: 'text', text });
  const first = parts[0];
  return { parts, whole: parts.length === 1 && first?.kind === 'placeholder' };
}

/** Every variable path a compiled string refers to (for checking roots before rendering). */
export function variablesOf(c: CompiledString): PathOperand[] {
  const out: PathOperand[] = [];
  for (const p of c.parts) {
    if (p.kind !== 'placeholder') continue;
    for (const cmd of p.pipeline.commands) for (const a of cmd.args) if (a.kind === 'path') out.push(a);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Evaluating

/** Limits that keep every function's output bounded. */
export interface EvalLimits {
  /** Longest string a function may produce (UTF-16 code units). */
  readonly maxString: number;
}

/** How variable lookups resolve; `lenientRoots` accept Go-style capitalized field names. */
export interface EvalScope {
  readonly root: JsonValue;
  /** Root variables below which `CommonName` also finds `commonName` (built-in, camelCase data). */
  readonly lenientRoots: ReadonlySet<string>;
  readonly limits: EvalLimits;
}

function lookup(scope: EvalScope, p: PathOperand): EvalValue {
  let cur: JsonValue = scope.root;
  const lenient = scope.lenientRoots.has(p.segments[0] ?? '');
  for (const seg of p.segments) {
    if (!isJsonObject(cur)) return new Missing(p.text);
    let next = getOwn(cur, seg);
    if (next === undefined && lenient) next = getOwn(cur, seg.charAt(0).toLowerCase() + seg.slice(1));
    if (next === undefined) return new Missing(p.text);
    cur = next;
  }
  return cur;
}

function isEmpty(v: EvalValue): boolean {
  if (v instanceof Missing || v === null || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  if (isJsonObject(v)) return Object.keys(v).length === 0;
  return false;
}

function typeName(v: EvalValue): string {
  if (v instanceof Missing) return 'missing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (isJsonObject(v)) return 'an object';
  return `a ${typeof v}`;
}

function missingError(m: Missing): TemplateEvalError {
  return new TemplateEvalError(m.reason ?? `variable ${m.variable} is not set`, m.variable);
}

function present(v: EvalValue): JsonValue {
  if (v instanceof Missing) throw missingError(v);
  return v;
}

function str(fn: string, v: EvalValue, what = 'argument'): string {
  const x = present(v);
  if (typeof x === 'string') return x;
  if (typeof x === 'number' || typeof x === 'boolean') return String(x);
  throw new TemplateEvalError(`${fn}: the ${what} must be a string, got ${typeName(x)}`);
}

function list(fn: string, v: EvalValue): JsonValue[] {
  const x = present(v);
  if (!Array.isArray(x)) throw new TemplateEvalError(`${fn}: expected a list, got ${typeName(x)}`);
  return x;
}

function bounded(fn: string, length: number, limits: EvalLimits): void {
  if (length > limits.maxString) throw new TemplateEvalError(`${fn}: the result would be longer than ${limits.maxString} characters`);
}

interface FunctionSpec {
  readonly min: number;
  readonly max: number;
  readonly usage: string;
  readonly doc: string;
  /** Whether Missing arguments reach the function (otherwise they are an error first). */
  readonly acceptsMissing: boolean;
  readonly apply: (args: readonly EvalValue[], limits: EvalLimits) => EvalValue;
}

/**
 * The fixed function table. Arguments are in Go's order; in a pipeline the piped value is the
 * last argument (`.X | default "y"` is `default "y" .X`).
 */
const FUNCTIONS: ReadonlyMap<string, FunctionSpec> = new Map<string, FunctionSpec>([
  [
    'default',
    {
      min: 2,
      max: 2,
      usage: 'default FALLBACK VALUE',
      doc: 'VALUE, or FALLBACK when VALUE is missing, null, "", [] or {} (false and 0 are kept)',
      acceptsMissing: true,
      apply: ([fallback, v]) => (isEmpty(v as EvalValue) ? (fallback as EvalValue) : (v as EvalValue)),
    },
  ],
  [
    'required',
    {
      min: 2,
      max: 2,
      usage: 'required MESSAGE VALUE',
      doc: 'VALUE; fails the render with MESSAGE when VALUE is missing, null, "", [] or {}',
      acceptsMissing: true,
      apply: ([msg, v]) => {
        if (isEmpty(v as EvalValue)) {
          const m = typeof msg === 'string' ? msg : 'a required value is missing';
          throw new TemplateEvalError(m, v instanceof Missing ? v.variable : undefined);
        }
        return v as EvalValue;
      },
    },
  ],
  [
    'coalesce',
    {
      min: 1,
      max: Infinity,
      usage: 'coalesce VALUE…',
      doc: 'the first VALUE that is not missing, null, "", [] or {}; null when all are',
      acceptsMissing: true,
      apply: (args) => args.find((a) => !isEmpty(a)) ?? null,
    },
  ],
  [
    'lower',
    { min: 1, max: 1, usage: 'lower STRING', doc: 'STRING in lower case', acceptsMissing: false, apply: ([v]) => str('lower', v as EvalValue).toLowerCase() },
  ],
  [
    'upper',
    { min: 1, max: 1, usage: 'upper STRING', doc: 'STRING in upper case', acceptsMissing: false, apply: ([v]) => str('upper', v as EvalValue).toUpperCase() },
  ],
  [
    'trim',
    { min: 1, max: 1, usage: 'trim STRING', doc: 'STRING without leading and trailing white space', acceptsMissing: false, apply: ([v]) => str('trim', v as EvalValue).trim() },
  ],
  [
    'trimPrefix',
    {
      min: 2,
      max: 2,
      usage: 'trimPrefix PREFIX STRING',
      doc: 'STRING without PREFIX at its start',
      acceptsMissing: false,
      apply: ([p, v]) => {
        const s = str('trimPrefix', v as EvalValue);
        const pre = str('trimPrefix', p as EvalValue, 'prefix');
        return pre !== '' && s.startsWith(pre) ? s.slice(pre.length) : s;
      },
    },
  ],
  [
    'trimSuffix',
    {
      min: 2,
      max: 2,
      usage: 'trimSuffix SUFFIX STRING',
      doc: 'STRING without SUFFIX at its end',
      acceptsMissing: false,
      apply: ([p, v]) => {
        const s = str('trimSuffix', v as EvalValue);
        const suf = str('trimSuffix', p as EvalValue, 'suffix');
        return suf !== '' && s.endsWith(suf) ? s.slice(0, -suf.length) : s;
      },
    },
  ],
  [
    'replace',
    {
      min: 3,
      max: 3,
      usage: 'replace OLD NEW STRING',
      doc: 'STRING with every OLD replaced by NEW (OLD must not be empty)',
      acceptsMissing: false,
      apply: ([o, n, v], limits) => {
        const s = str('replace', v as EvalValue);
        const from = str('replace', o as EvalValue, 'old string');
        const to = str('replace', n as EvalValue, 'new string');
        if (from === '') throw new TemplateEvalError('replace: the string to replace must not be empty');
        const count = s.split(from).length - 1;
        bounded('replace', s.length + count * (to.length - from.length), limits);
        return s.split(from).join(to);
      },
    },
  ],
  [
    'split',
    {
      min: 2,
      max: 2,
      usage: 'split SEPARATOR STRING',
      doc: 'the list of the parts of STRING between SEPARATORs ("" splits nothing: [STRING])',
      acceptsMissing: false,
      apply: ([sep, v]) => {
        const s = str('split', v as EvalValue);
        const d = str('split', sep as EvalValue, 'separator');
        return d === '' ? [s] : s.split(d);
      },
    },
  ],
  [
    'join',
    {
      min: 2,
      max: 2,
      usage: 'join SEPARATOR LIST',
      doc: 'the strings of LIST joined with SEPARATOR',
      acceptsMissing: false,
      apply: ([sep, v], limits) => {
        const items = list('join', v as EvalValue).map((x) => str('join', x, 'list item'));
        const d = str('join', sep as EvalValue, 'separator');
        bounded('join', items.reduce((n, x) => n + x.length, 0) + d.length * Math.max(0, items.length - 1), limits);
        return items.join(d);
      },
    },
  ],
  [
    'first',
    {
      min: 1,
      max: 1,
      usage: 'first LIST',
      doc: 'the first item of LIST (missing when LIST is empty)',
      acceptsMissing: false,
      apply: ([v]) => {
        const l = list('first', v as EvalValue);
        return l.length > 0 ? (l[0] as JsonValue) : new Missing('first', 'first: the list is empty');
      },
    },
  ],
  [
    'last',
    {
      min: 1,
      max: 1,
      usage: 'last LIST',
      doc: 'the last item of LIST (missing when LIST is empty)',
      acceptsMissing: false,
      apply: ([v]) => {
        const l = list('last', v as EvalValue);
        return l.length > 0 ? (l[l.length - 1] as JsonValue) : new Missing('last', 'last: the list is empty');
      },
    },
  ],
  [
    'index',
    {
      min: 2,
      max: Infinity,
      usage: 'index COLLECTION KEY…',
      doc: 'COLLECTION[KEY]…: an object member by name (any characters) or a list item by position',
      acceptsMissing: false,
      apply: (args) => {
        let cur = args[0] as JsonValue;
        let desc = '(index)';
        for (const k of args.slice(1)) {
          const key = present(k);
          desc += ` ${JSON.stringify(key)}`;
          if (Array.isArray(cur) && typeof key === 'number' && Number.isInteger(key)) {
            const item = cur[key < 0 ? cur.length + key : key];
            if (item === undefined) return new Missing(desc, `index: no item ${key}`);
            cur = item;
          } else if (isJsonObject(cur) && typeof key === 'string') {
            const item = getOwn(cur, key);
            if (item === undefined) return new Missing(desc, `index: no member ${JSON.stringify(key)}`);
            cur = item;
          } else {
            throw new TemplateEvalError(`index: cannot index ${typeName(cur)} with ${typeName(key)}`);
          }
        }
        return cur;
      },
    },
  ],
  [
    'int',
    {
      min: 1,
      max: 1,
      usage: 'int VALUE',
      doc: 'VALUE as an integer ("3" → 3); fails when it is not a whole number',
      acceptsMissing: false,
      apply: ([v]) => {
        const x = present(v as EvalValue);
        const n = typeof x === 'number' ? x : typeof x === 'string' && /^\s*-?\d{1,15}\s*$/.test(x) ? Number(x) : NaN;
        if (!Number.isSafeInteger(n)) throw new TemplateEvalError(`int: ${JSON.stringify(x)} is not a whole number`);
        return n;
      },
    },
  ],
]);

/** Name, usage and description of every template function, for help texts and the README. */
export function templateFunctions(): { name: string; usage: string; doc: string }[] {
  return [...FUNCTIONS.entries()].map(([name, f]) => ({ name, usage: f.usage, doc: f.doc }));
}

function evalOperand(o: Operand, scope: EvalScope): EvalValue {
  return o.kind === 'literal' ? o.value : lookup(scope, o);
}

/** Evaluates a pipeline. Throws TemplateEvalError; the result may be Missing. */
export function evaluatePipeline(p: Pipeline, scope: EvalScope): EvalValue {
  let prev: EvalValue | undefined;
  for (const cmd of p.commands) {
    const args = cmd.args.map((a) => evalOperand(a, scope));
    if (prev !== undefined) args.push(prev);
    if (cmd.fn === undefined) {
      prev = args[0];
      continue;
    }
    const spec = FUNCTIONS.get(cmd.fn) as FunctionSpec;
    if (!spec.acceptsMissing) {
      const m = args.find((a): a is Missing => a instanceof Missing);
      if (m) throw missingError(m);
    }
    prev = spec.apply(args, scope.limits);
  }
  return prev ?? null;
}

/** Converts a value for insertion into a longer string; objects, lists and null cannot be. */
export function interpolationText(v: EvalValue, source: string): string {
  if (v instanceof Missing) throw missingError(v);
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new TemplateEvalError(
    `"{{ ${source} }}" is ${typeName(v)}, which cannot be inserted into a longer string (make the placeholder the whole string to insert it as JSON)`,
  );
}
