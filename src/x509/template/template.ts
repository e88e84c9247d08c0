/**
 * Declarative certificate templates: parse and check a JSON template once, then render it
 * against request data as often as needed.
 *
 * Safety by construction: the template is parsed as JSON *before* any placeholder is evaluated,
 * and a placeholder's value is inserted into the parsed tree as a JSON value — it is never
 * spliced into JSON text and never re-scanned for placeholders. A value containing `"`, `}` or
 * `{{` therefore stays inside the one string it was inserted into. Expressions can only read
 * variables and call a fixed set of pure functions (see expression.ts); the output size is
 * bounded; the result is validated against the same schema as the template.
 */
import { SignetError, type ErrorCode } from '../../core/errors.js';
import {
  compileString,
  evaluatePipeline,
  interpolationText,
  hasPlaceholder,
  Missing,
  TemplateEvalError,
  type CompiledString,
  type EvalScope,
  type EvalValue,
} from './expression.js';
import { emptyObject, isJsonObject, parseJson, pathIndex, pathKey, setOwn, toJsonValue, type JsonValue, type SourcePosition } from './json.js';
import type { CertificateRequest } from './request.js';
import { checkRenderedRequest, checkTemplateDocument, LENIENT_ROOTS, type TemplateProblem } from './schema.js';
import { describePublicKey, templateVariables, type TemplateData } from './variables.js';

/** Largest template accepted, in bytes of UTF-8. */
export const MAX_TEMPLATE_BYTES = 64 * 1024;

/** Largest rendered request, in characters of its JSON serialization. */
export const MAX_RENDERED_BYTES = 256 * 1024;

type Node =
  | { readonly k: 'value'; readonly v: JsonValue }
  | { readonly k: 'string'; readonly c: CompiledString }
  | { readonly k: 'list'; readonly items: readonly Node[] }
  | { readonly k: 'object'; readonly entries: readonly (readonly [string, Node])[] };

/** A parsed, checked and compiled template. Create with {@link parseTemplate} or {@link templateFromDocument}. */
export class CertificateTemplate {
  /** @internal use {@link parseTemplate} or {@link templateFromDocument}. */
  constructor(
    /** A name for messages: the file name, or `default leaf template`. */
    readonly name: string,
    /** The template as parsed (null-prototype JSON), e.g. to print it. */
    readonly document: JsonValue,
    /** @internal */
    readonly root: Node,
    /** @internal where each JSON path starts in the source, when parsed from text. */
    readonly positions: ReadonlyMap<string, SourcePosition>,
    /** @internal where each object member's key starts in the source. */
    readonly keyPositions: ReadonlyMap<string, SourcePosition> = new Map(),
  ) {}

  /** The template as pretty-printed JSON text. */
  toJSON(): JsonValue {
    return this.document;
  }
}

/** Options for {@link parseTemplate} and {@link checkTemplate}. */
export interface ParseTemplateOptions {
  /** Name used in messages (a file name). Default `template`. */
  readonly name?: string;
  /** Size limit in bytes. Default {@link MAX_TEMPLATE_BYTES}. */
  readonly maxBytes?: number;
}

function compile(v: JsonValue): Node {
  if (typeof v === 'string') return hasPlaceholder(v) ? { k: 'string', c: compileString(v) } : { k: 'value', v };
  if (Array.isArray(v)) {
    const items = v.map(compile);
    return items.every((i) => i.k === 'value') ? { k: 'value', v } : { k: 'list', items };
  }
  if (isJsonObject(v)) {
    const entries = Object.keys(v).map((key) => [key, compile(v[key] as JsonValue)] as const);
    return entries.every(([, n]) => n.k === 'value') ? { k: 'value', v } : { k: 'object', entries };
  }
  return { k: 'value', v };
}

/** The nearest position recorded for `path` or one of its ancestors. */
function positionOf(positions: ReadonlyMap<string, SourcePosition>, path: string): SourcePosition | undefined {
  let p = path;
  for (;;) {
    const pos = positions.get(p);
    if (pos) return pos;
    const parent = p.replace(/(\.[A-Za-z_$][A-Za-z0-9_$]*|\[\d+\]|\["(?:[^"\\]|\\.)*"\])$/, '');
    if (parent === p || parent === '') return undefined;
    p = parent;
  }
}

function withPositions(problems: readonly TemplateProblem[], positions: ReadonlyMap<string, SourcePosition>, keyPositions?: ReadonlyMap<string, SourcePosition>): TemplateProblem[] {
  return problems.map((p) => {
    // An unknown field is pointed at by its key; everything else by its value.
    const pos = (p.kind === 'unknown-field' ? keyPositions?.get(p.path) : undefined) ?? positionOf(positions, p.path);
    return pos ? { ...p, line: pos.line, column: pos.column } : p;
  });
}

/** Formats one problem as `$.path: message (line L, column C)`. */
export function formatTemplateProblem(p: TemplateProblem): string {
  return `${p.path}: ${p.message}${p.line !== undefined ? ` (line ${p.line}, column ${p.column ?? 1})` : ''}`;
}

/**
 * The error for a list of problems: ERR_TEMPLATE_UNKNOWN_FIELD when any field is unknown (a
 * typo usually explains the rest), else ERR_TEMPLATE_RENDER for missing data, else
 * ERR_TEMPLATE_INVALID. The message names the first problem; `detail.problems` has them all.
 * `listed` says the caller has already shown every problem, so no hint is added.
 */
export function templateError(name: string, problems: readonly TemplateProblem[], options: { listed?: boolean } = {}): SignetError {
  const code: ErrorCode = problems.some((p) => p.kind === 'unknown-field')
    ? 'ERR_TEMPLATE_UNKNOWN_FIELD'
    : problems.some((p) => p.kind === 'render')
      ? 'ERR_TEMPLATE_RENDER'
      : 'ERR_TEMPLATE_INVALID';
  const first = problems.find((p) => (code === 'ERR_TEMPLATE_UNKNOWN_FIELD' ? p.kind === 'unknown-field' : true)) ?? problems[0];
  const more = problems.length - 1;
  const message = `${name}: ${first ? formatTemplateProblem(first) : 'invalid'}${more > 0 ? ` (and ${more} more problem${more === 1 ? '' : 's'})` : ''}`;
  return new SignetError(code, message, {
    detail: { template: name, problems: problems.map((p) => ({ ...p })) },
    // When the caller already printed every problem (template validate), the hint would point at itself.
    ...(more > 0 && !options.listed ? { hint: 'run `signet certificate template validate` to list every problem' } : {}),
  });
}

function decodeText(input: string | Uint8Array, name: string, maxBytes: number): string {
  const size = typeof input === 'string' ? Buffer.byteLength(input, 'utf8') : input.length;
  if (size > maxBytes) throw new SignetError('ERR_INPUT_TOO_LARGE', `${name} is larger than ${maxBytes} bytes`, { hint: 'templates describe one certificate; keep them small' });
  if (typeof input === 'string') return input;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(input);
  } catch {
    throw new SignetError('ERR_JSON_MALFORMED', `${name} is not valid UTF-8`);
  }
}

/**
 * Parses and checks a template without throwing on schema problems: malformed JSON and size
 * still throw (ERR_JSON_MALFORMED, ERR_INPUT_TOO_LARGE); every schema, syntax and variable
 * problem is returned, with line and column. `template` is set when there are none.
 */
export function checkTemplate(input: string | Uint8Array, options: ParseTemplateOptions = {}): { template?: CertificateTemplate; problems: TemplateProblem[] } {
  const name = options.name ?? 'template';
  const text = decodeText(input, name, options.maxBytes ?? MAX_TEMPLATE_BYTES);
  const { value, positions, keyPositions } = parseJson(text, { what: name, trackPositions: true });
  const problems = withPositions(checkTemplateDocument(value), positions, keyPositions);
  if (problems.length > 0) return { problems };
  return { template: new CertificateTemplate(name, value, compile(value), positions, keyPositions), problems };
}

/**
 * Parses a JSON template (text or UTF-8 bytes) and checks it completely. Throws
 * ERR_JSON_MALFORMED (with line/column), ERR_INPUT_TOO_LARGE, ERR_TEMPLATE_UNKNOWN_FIELD or
 * ERR_TEMPLATE_INVALID (every problem in `detail.problems`).
 */
export function parseTemplate(input: string | Uint8Array, options: ParseTemplateOptions = {}): CertificateTemplate {
  const r = checkTemplate(input, options);
  if (!r.template) throw templateError(options.name ?? 'template', r.problems);
  return r.template;
}

/** Checks and compiles a template given as a value (e.g. a TS constant or a parsed config section). */
export function templateFromDocument(doc: unknown, name = 'template'): CertificateTemplate {
  const value = toJsonValue(doc, name);
  const size = JSON.stringify(value).length;
  if (size > MAX_TEMPLATE_BYTES) throw new SignetError('ERR_INPUT_TOO_LARGE', `${name} is larger than ${MAX_TEMPLATE_BYTES} bytes`);
  const problems = checkTemplateDocument(value);
  if (problems.length > 0) throw templateError(name, problems);
  return new CertificateTemplate(name, value, compile(value), new Map());
}

/** Options for {@link renderTemplate}. */
export interface RenderOptions {
  /** Output limit in characters of JSON. Default {@link MAX_RENDERED_BYTES}. */
  readonly maxRenderedBytes?: number;
}

class Budget {
  private used = 0;
  constructor(
    private readonly max: number,
    private readonly name: string,
  ) {}

  add(n: number): void {
    this.used += n;
    if (this.used > this.max) {
      throw new SignetError('ERR_TEMPLATE_RENDER', `${this.name}: the rendered template is larger than ${this.max} bytes`, {
        hint: 'check for placeholders that insert large values',
      });
    }
  }

  /** Room left, for bounding string building. */
  get left(): number {
    return this.max - this.used;
  }
}

function sizeOf(v: JsonValue): number {
  if (typeof v === 'string') return v.length + 2;
  if (v === null || typeof v !== 'object') return String(v).length;
  return JSON.stringify(v).length;
}

interface RenderContext {
  readonly scope: EvalScope;
  readonly budget: Budget;
  readonly problems: TemplateProblem[];
}

function evaluate(c: CompiledString, path: string, rc: RenderContext): JsonValue {
  const fail = (message: string): null => {
    rc.problems.push({ path, kind: 'render', message });
    return null;
  };
  try {
    if (c.whole) {
      const part = c.parts[0];
      if (part?.kind !== 'placeholder') return null;
      const v: EvalValue = evaluatePipeline(part.pipeline, rc.scope);
      if (v instanceof Missing) {
        return fail(`${v.reason ?? `variable ${v.variable} is not set`} (use "| default …" to make it optional)`);
      }
      rc.budget.add(sizeOf(v));
      return v;
    }
    let out = '';
    for (const part of c.parts) {
      const piece = part.kind === 'text' ? part.text : interpolationText(evaluatePipeline(part.pipeline, rc.scope), part.pipeline.source);
      if (piece.length > rc.budget.left) rc.budget.add(piece.length);
      out += piece;
    }
    rc.budget.add(out.length + 2);
    return out;
  } catch (e) {
    if (e instanceof TemplateEvalError) {
      return fail(e.variable !== undefined && e.message.startsWith('variable ') ? `${e.message} (use "| default …" to make it optional)` : e.message);
    }
    throw e;
  }
}

function renderNode(n: Node, path: string, rc: RenderContext): JsonValue {
  switch (n.k) {
    case 'value':
      rc.budget.add(sizeOf(n.v));
      return n.v;
    case 'string':
      return evaluate(n.c, path, rc);
    case 'list':
      rc.budget.add(2);
      return n.items.map((item, i) => renderNode(item, pathIndex(path, i), rc));
    case 'object': {
      rc.budget.add(2);
      const out = emptyObject();
      for (const [key, child] of n.entries) {
        rc.budget.add(key.length + 4);
        setOwn(out, key, renderNode(child, pathKey(path, key), rc));
      }
      return out;
    }
  }
}

/**
 * Renders a template against request data into raw JSON, without validating the result (for
 * debugging output). Throws ERR_TEMPLATE_RENDER naming every missing variable with its path.
 */
export function renderTemplateDocument(template: CertificateTemplate, data: TemplateData, options: RenderOptions = {}): JsonValue {
  return renderWithVariables(template, templateVariables(data), options);
}

function renderWithVariables(template: CertificateTemplate, vars: JsonValue, options: RenderOptions): JsonValue {
  const maxBytes = options.maxRenderedBytes ?? MAX_RENDERED_BYTES;
  const rc: RenderContext = {
    scope: { root: vars, lenientRoots: LENIENT_ROOTS, limits: { maxString: maxBytes } },
    budget: new Budget(maxBytes, template.name),
    problems: [],
  };
  const out = renderNode(template.root, '$', rc);
  if (rc.problems.length > 0) throw templateError(template.name, withPositions(rc.problems, template.positions, template.keyPositions));
  return out;
}

/**
 * Renders a template against request data and validates the result: the certificate request
 * the issuer turns into a certificate (see {@link templateToSpec}). Throws ERR_TEMPLATE_RENDER
 * (missing variables, `required` failures, output too large), ERR_TEMPLATE_INVALID (rendered
 * values of the wrong type or syntax) or ERR_TEMPLATE_UNKNOWN_FIELD (an inserted object with an
 * unknown member) — each naming the JSON path, all problems in `detail.problems`.
 */
export function renderTemplate(template: CertificateTemplate, data: TemplateData, options: RenderOptions = {}): CertificateRequest {
  const rendered = renderWithVariables(template, templateVariables(data), options);
  const keyType = data.publicKey !== undefined ? describePublicKey(data.publicKey).type : undefined;
  const { request, problems } = checkRenderedRequest(rendered, { keyType });
  if (!request) throw templateError(template.name, withPositions(problems, template.positions, template.keyPositions));
  return request;
}
