/**
 * A strict JSON reader for templates and template data (RFC 8259). `JSON.parse` is not enough
 * here: its error positions vary between Node versions, it silently keeps the last of duplicate
 * keys (RFC 8259 §4 leaves that to the implementation; for a security document it must be an
 * error), it has no depth limit, and it creates objects with a prototype. This reader reports
 * line and column, rejects duplicate keys, limits nesting, builds null-prototype objects, and can
 * remember where each value started so that schema errors point into the file.
 */
import { SignetError } from '../../core/errors.js';

/** A JSON value as this module produces it (objects have a null prototype). */
export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;

/** A JSON object. Read keys with `Object.hasOwn` or {@link getOwn}; never through the prototype. */
export interface JsonObject {
  [key: string]: JsonValue;
}

/** Where a value starts in its source text (1-based line and column, in UTF-16 code units). */
export interface SourcePosition {
  readonly line: number;
  readonly column: number;
}

/** Options for {@link parseJson}. */
export interface ParseJsonOptions {
  /** What the text is, for messages (`template`, `data file`). */
  readonly what?: string;
  /** Deepest nesting of arrays/objects accepted. Default 64. */
  readonly maxDepth?: number;
  /** Record the position of every value by its JSON path (`$.subject.commonName`). */
  readonly trackPositions?: boolean;
}

/** The result of {@link parseJson}. */
export interface ParsedJson {
  readonly value: JsonValue;
  /** JSON path → where that value starts; empty unless `trackPositions` was set. */
  readonly positions: ReadonlyMap<string, SourcePosition>;
  /** JSON path of an object member → where its key starts; empty unless `trackPositions` was set. */
  readonly keyPositions: ReadonlyMap<string, SourcePosition>;
}

/** True for a JSON object (not an array, not null). */
export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** An own property of a JSON object, or undefined (never reads through the prototype chain). */
export function getOwn(obj: JsonObject, key: string): JsonValue | undefined {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/** A fresh null-prototype JSON object (no `__proto__` surprises when keys come from input). */
export function emptyObject(): JsonObject {
  return Object.create(null) as JsonObject;
}

/** Sets `obj[key]` as an own data property, even for keys like `__proto__`. */
export function setOwn(obj: JsonObject, key: string, value: JsonValue): void {
  // A null-prototype object (what this module builds) has no `__proto__` setter to trigger, so
  // plain assignment — several times faster than defineProperty — makes the own property.
  if (Object.getPrototypeOf(obj) === null) obj[key] = value;
  else Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Appends an object key to a JSON path: `$.a` + `b` → `$.a.b`; odd keys use `$["a b"]`. */
export function pathKey(path: string, key: string): string {
  return IDENT.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/** Appends an array index to a JSON path: `$.sans` + 0 → `$.sans[0]`. */
export function pathIndex(path: string, index: number): string {
  return `${path}[${index}]`;
}

/**
 * Parses `text` as one JSON value (RFC 8259), strictly. Throws ERR_JSON_MALFORMED with the line
 * and column of the first problem (also in `detail`).
 */
export function parseJson(text: string, options: ParseJsonOptions = {}): ParsedJson {
  const p = new Parser(text, options);
  return { value: p.parseDocument(), positions: p.positions, keyPositions: p.keyPositions };
}

/** The first character that ends the fast path of a string: the closing quote, a backslash or a control character. */
// eslint-disable-next-line no-control-regex
const SPECIAL = /["\\\u0000-\u001f]/g;

class Parser {
  private i = 0;
  readonly positions = new Map<string, SourcePosition>();
  readonly keyPositions = new Map<string, SourcePosition>();
  private readonly what: string;
  private readonly maxDepth: number;
  private readonly track: boolean;

  constructor(
    private readonly s: string,
    options: ParseJsonOptions,
  ) {
    this.what = options.what ?? 'JSON';
    this.maxDepth = options.maxDepth ?? 64;
    this.track = options.trackPositions === true;
  }

  parseDocument(): JsonValue {
    // A UTF-8 BOM is tolerated at the very start (RFC 8259 §8.1 allows parsers to ignore it).
    if (this.s.charCodeAt(0) === 0xfeff) this.i = 1;
    this.ws();
    if (this.i >= this.s.length) this.fail('the document is empty');
    const v = this.value('$', 0);
    this.ws();
    if (this.i < this.s.length) this.fail(`unexpected ${this.describe()} after the end of the document`);
    return v;
  }

  private lineStarts: number[] | undefined;

  /** Line and column of offset `at` (binary search over line starts, computed once). */
  private position(at: number): SourcePosition {
    if (!this.lineStarts) {
      this.lineStarts = [0];
      for (let k = 0; k < this.s.length; k++) if (this.s.charCodeAt(k) === 10) this.lineStarts.push(k + 1);
    }
    const starts = this.lineStarts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((starts[mid] as number) <= at) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: at - (starts[lo] as number) + 1 };
  }

  private fail(why: string, at = this.i): never {
    const pos = this.position(at);
    throw new SignetError('ERR_JSON_MALFORMED', `${this.what} is not valid JSON: ${why} at line ${pos.line}, column ${pos.column}`, {
      detail: { line: pos.line, column: pos.column },
    });
  }

  private describe(): string {
    const ch = this.s[this.i];
    if (ch === undefined) return 'end of input';
    const code = ch.charCodeAt(0);
    return code < 0x20 ? `control character U+${code.toString(16).padStart(4, '0')}` : `'${ch}'`;
  }

  private ws(): void {
    for (;;) {
      const c = this.s.charCodeAt(this.i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) this.i++;
      else return;
    }
  }

  /** `path` is the value's JSON path when positions are tracked, else '' (paths cost a regex and a concatenation per member). */
  private value(path: string, depth: number): JsonValue {
    if (this.track) this.positions.set(path, this.position(this.i));
    const ch = this.s[this.i];
    switch (ch) {
      case '{':
        return this.object(path, depth + 1);
      case '[':
        return this.array(path, depth + 1);
      case '"':
        return this.string();
      case 't':
        return this.literal('true', true);
      case 'f':
        return this.literal('false', false);
      case 'n':
        return this.literal('null', null);
      default:
        if (ch === '-' || (ch !== undefined && ch >= '0' && ch <= '9')) return this.number();
        return this.fail(`expected a value but found ${this.describe()}`);
    }
  }

  private literal<T extends JsonValue>(word: string, v: T): T {
    if (this.s.startsWith(word, this.i)) {
      this.i += word.length;
      return v;
    }
    return this.fail(`expected a value but found ${this.describe()}`);
  }

  private number(): number {
    const m = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
    m.lastIndex = this.i;
    const r = m.exec(this.s);
    if (!r) return this.fail('invalid number');
    const next = this.s[this.i + r[0].length];
    if (next !== undefined && /[0-9A-Za-z.+-]/.test(next)) this.fail('invalid number', this.i + r[0].length);
    this.i += r[0].length;
    const n = Number(r[0]);
    if (!Number.isFinite(n)) this.fail('number out of range');
    return n;
  }

  private string(): string {
    const start = this.i;
    this.i++; // opening quote
    // Fast path: no escape before the closing quote — one regex scan instead of a loop per character.
    SPECIAL.lastIndex = this.i;
    const m = SPECIAL.exec(this.s);
    if (m !== null && this.s.charCodeAt(m.index) === 0x22) {
      const out = this.s.slice(this.i, m.index);
      this.i = m.index + 1;
      return out;
    }
    let out = '';
    let run = this.i;
    for (;;) {
      const c = this.s.charCodeAt(this.i);
      if (Number.isNaN(c)) this.fail('unterminated string', start);
      if (c === 0x22) {
        out += this.s.slice(run, this.i);
        this.i++;
        return out;
      }
      if (c < 0x20) this.fail(`${this.describe()} inside a string (escape it)`);
      if (c === 0x5c) {
        out += this.s.slice(run, this.i);
        const e = this.s[this.i + 1];
        switch (e) {
          case '"':
          case '\\':
          case '/':
            out += e;
            break;
          case 'b':
            out += '\b';
            break;
          case 'f':
            out += '\f';
            break;
          case 'n':
            out += '\n';
            break;
          case 'r':
            out += '\r';
            break;
          case 't':
            out += '\t';
            break;
          case 'u': {
            const hex = this.s.slice(this.i + 2, this.i + 6);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('invalid \\u escape');
            out += String.fromCharCode(parseInt(hex, 16));
            this.i += 4;
            break;
          }
          default:
            this.fail('invalid escape sequence');
        }
        this.i += 2;
        run = this.i;
        continue;
      }
      this.i++;
    }
  }

  private array(path: string, depth: number): JsonValue[] {
    if (depth > this.maxDepth) this.fail(`nesting deeper than ${this.maxDepth} levels`);
    this.i++;
    const out: JsonValue[] = [];
    this.ws();
    if (this.s[this.i] === ']') {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      out.push(this.value(this.track ? pathIndex(path, out.length) : '', depth));
      this.ws();
      const ch = this.s[this.i];
      if (ch === ',') {
        this.i++;
        continue;
      }
      if (ch === ']') {
        this.i++;
        return out;
      }
      this.fail(`expected ',' or ']' but found ${this.describe()}`);
    }
  }

  private object(path: string, depth: number): JsonObject {
    if (depth > this.maxDepth) this.fail(`nesting deeper than ${this.maxDepth} levels`);
    this.i++;
    const out = emptyObject();
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') this.fail(`expected a property name in double quotes but found ${this.describe()}`);
      const keyAt = this.i;
      const key = this.string();
      if (Object.hasOwn(out, key)) this.fail(`duplicate key ${JSON.stringify(key)}`, keyAt);
      if (this.track) this.keyPositions.set(pathKey(path, key), this.position(keyAt));
      this.ws();
      if (this.s[this.i] !== ':') this.fail(`expected ':' but found ${this.describe()}`);
      this.i++;
      this.ws();
      // A null-prototype object has no `__proto__` setter: plain assignment makes an own property.
      out[key] = this.value(this.track ? pathKey(path, key) : '', depth);
      this.ws();
      const ch = this.s[this.i];
      if (ch === ',') {
        this.i++;
        continue;
      }
      if (ch === '}') {
        this.i++;
        return out;
      }
      this.fail(`expected ',' or '}' but found ${this.describe()}`);
    }
  }
}

/**
 * Copies an arbitrary value (token claims, data from an API) into a {@link JsonValue}: plain
 * objects become null-prototype objects, and anything JSON cannot hold (functions, symbols,
 * bigints, class instances, cycles, non-finite numbers) is refused with ERR_TEMPLATE_INVALID.
 * Depth and total size are bounded so that template data cannot be used to exhaust memory.
 */
export function toJsonValue(input: unknown, what = 'template data', limits: { maxDepth?: number; maxNodes?: number } = {}): JsonValue {
  const maxDepth = limits.maxDepth ?? 64;
  const maxNodes = limits.maxNodes ?? 100_000;
  let nodes = 0;
  const seen = new Set<object>();
  const bad = (path: string, why: string): SignetError =>
    new SignetError('ERR_TEMPLATE_INVALID', `${what} at ${path} ${why}`, { detail: { path } });
  const walk = (v: unknown, path: string, depth: number): JsonValue => {
    if (++nodes > maxNodes) throw bad(path, `has more than ${maxNodes} values`);
    if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw bad(path, 'is not a finite number');
      return v;
    }
    if (typeof v !== 'object') throw bad(path, `is a ${typeof v}, which JSON cannot hold`);
    if (depth >= maxDepth) throw bad(path, `is nested deeper than ${maxDepth} levels`);
    if (seen.has(v)) throw bad(path, 'is a cycle');
    seen.add(v);
    try {
      if (Array.isArray(v)) return v.map((x: unknown, i) => walk(x, pathIndex(path, i), depth + 1));
      const proto = Object.getPrototypeOf(v) as unknown;
      if (proto !== Object.prototype && proto !== null) throw bad(path, 'is not a plain object');
      const out = emptyObject();
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        if (x === undefined) continue;
        setOwn(out, k, walk(x, pathKey(path, k), depth + 1));
      }
      return out;
    } finally {
      seen.delete(v);
    }
  };
  return walk(input, '$', 0);
}
