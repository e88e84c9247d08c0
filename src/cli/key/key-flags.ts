/**
 * The key-type flags of the commands that generate keys (`key create --type`, `certificate
 * create --kty`, `csr create --kty`, each with `--curve` and `--size`) mapped to a
 * {@link KeySpec}, with messages and hints that name the flags the command really has.
 */
import { SignetError } from '../../core/errors.js';
import { parseKeySpec, type KeySpec } from '../../crypto/key-spec.js';

/** What a user typed for a new key. */
export interface KeyTypeFlags {
  readonly type?: string | undefined;
  readonly curve?: string | undefined;
  readonly size?: string | undefined;
}

/** `--type` values that name only a family: they take --curve or --size. */
const FAMILIES = new Set(['ec', 'ecdsa', 'ed25519', 'okp', 'eddsa', 'rsa']);

/** Rewrites `--type` in a library hint to the flag this command uses. */
function renameFlag(text: string | undefined, typeFlag: string): string | undefined {
  return text?.replace(/--type\b/g, typeFlag);
}

/**
 * Resolves the flags to a key spec. `typeFlag` is how the command spells the type flag
 * (`--type` for `key create`, `--kty` for `certificate create` and `csr create`). A full spec in
 * the type (`rsa:3072`, `p384`) together with `--size` or `--curve` is a conflict
 * (ERR_BAD_OPTION), and a refused curve is reported as an unsupported curve.
 */
export function keySpecFromFlags(flags: KeyTypeFlags, typeFlag = '--type'): KeySpec {
  const { type, curve, size } = flags;
  if (type !== undefined && (curve !== undefined || size !== undefined) && !FAMILIES.has(type.trim().toLowerCase())) {
    let spec: KeySpec | undefined;
    try {
      spec = parseKeySpec(type);
    } catch {
      spec = undefined; // not a full spec: the checks below name the problem
    }
    if (spec !== undefined) {
      const other = size !== undefined ? `--size ${size}` : `--curve ${curve ?? ''}`;
      const family = spec.startsWith('rsa') ? 'rsa' : spec === 'ed25519' ? 'ed25519' : 'ec';
      throw new SignetError('ERR_BAD_OPTION', `${typeFlag} ${type} and ${other} conflict: ${typeFlag} ${type} already fixes the key`, {
        hint: `give ${typeFlag} ${type} alone, or ${typeFlag} ${family} with ${family === 'rsa' ? '--size' : '--curve'}`,
      });
    }
  }
  try {
    return curve === undefined && size === undefined
      ? parseKeySpec(type ?? 'ec')
      : parseKeySpec({ type: type ?? (size !== undefined ? 'rsa' : 'ec'), curve, size });
  } catch (e) {
    if (!(e instanceof SignetError)) throw e;
    let message = e.message;
    if (curve !== undefined) {
      const refused = `unsupported key type ${curve.trim().toLowerCase()}: `;
      if (message.startsWith(refused)) message = `unsupported curve ${curve}: ${message.slice(refused.length)}`;
    }
    const hint = renameFlag(e.hint, typeFlag);
    throw new SignetError(e.code, renameFlag(message, typeFlag) ?? message, { ...(hint !== undefined ? { hint } : {}), cause: e });
  }
}
