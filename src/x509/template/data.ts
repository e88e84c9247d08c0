/**
 * Template data from the command line: `--set-file data.json` (a JSON object) and repeatable
 * `--set key=value` (a string) or `--set key:=JSON` (any JSON value: `maxPathLen:=1`,
 * `'ocspServer:=["http://ocsp.example"]'`). Dotted keys nest (`--set crl.url=…`). Later flags win.
 */
import { SignetError } from '../../core/errors.js';
import { emptyObject, getOwn, isJsonObject, parseJson, setOwn, toJsonValue, type JsonObject, type JsonValue } from './json.js';

/** Largest `--set-file` accepted. */
export const MAX_TEMPLATE_DATA_BYTES = 256 * 1024;

/** One parsed `--set`. */
export interface SetFlag {
  readonly path: readonly string[];
  readonly value: JsonValue;
}

const KEY = /^[A-Za-z0-9_-]+$/;

/**
 * Parses `key=value` (value is a string) or `key:=JSON` (value is parsed JSON). Keys are
 * dot-separated names of letters, digits, `_` and `-`. Throws ERR_BAD_OPTION or
 * ERR_JSON_MALFORMED.
 */
export function parseSetFlag(text: string): SetFlag {
  const eq = text.indexOf('=');
  if (eq <= 0) {
    throw new SignetError('ERR_BAD_OPTION', `invalid --set "${text}": expected key=value or key:=JSON`, { hint: 'e.g. --set team=web or --set maxPathLen:=1' });
  }
  const json = text[eq - 1] === ':';
  const key = text.slice(0, json ? eq - 1 : eq);
  const path = key.split('.');
  if (!path.every((p) => KEY.test(p))) {
    throw new SignetError('ERR_BAD_OPTION', `invalid --set key "${key}"`, { hint: 'use letters, digits, "_" and "-", with "." to nest' });
  }
  const raw = text.slice(eq + 1);
  const value = json ? parseJson(raw, { what: `--set ${key}` }).value : raw;
  return { path, value };
}

/**
 * Parses the contents of a `--set-file`: one JSON object. Throws ERR_INPUT_TOO_LARGE,
 * ERR_JSON_MALFORMED (with line/column) or ERR_TEMPLATE_INVALID when it is not an object.
 */
export function parseTemplateData(input: string | Uint8Array, name = 'data file'): JsonObject {
  const size = typeof input === 'string' ? Buffer.byteLength(input) : input.length;
  if (size > MAX_TEMPLATE_DATA_BYTES) throw new SignetError('ERR_INPUT_TOO_LARGE', `${name} is larger than ${MAX_TEMPLATE_DATA_BYTES} bytes`);
  let text: string;
  try {
    text = typeof input === 'string' ? input : new TextDecoder('utf-8', { fatal: true }).decode(input);
  } catch {
    throw new SignetError('ERR_JSON_MALFORMED', `${name} is not valid UTF-8`);
  }
  const { value } = parseJson(text, { what: name });
  if (!isJsonObject(value)) throw new SignetError('ERR_TEMPLATE_INVALID', `${name} must contain a JSON object of template data`, { hint: 'e.g. {"team": "web"}' });
  return value;
}

function clone(v: JsonValue): JsonValue {
  return toJsonValue(v);
}

/** Applies `--set` flags, in order, on top of a copy of `base` (a `--set-file` object). */
export function mergeTemplateData(base: JsonObject | undefined, sets: readonly SetFlag[]): JsonObject {
  const out = base ? (clone(base) as JsonObject) : emptyObject();
  for (const s of sets) {
    let cur = out;
    s.path.forEach((seg, i) => {
      if (i === s.path.length - 1) {
        setOwn(cur, seg, s.value);
        return;
      }
      let next = getOwn(cur, seg);
      if (next === undefined) {
        next = emptyObject();
        setOwn(cur, seg, next);
      }
      if (!isJsonObject(next)) {
        throw new SignetError('ERR_BAD_OPTION', `--set ${s.path.join('.')}: ${s.path.slice(0, i + 1).join('.')} is already set to a value that is not an object`);
      }
      cur = next;
    });
  }
  return out;
}
