/** Password files: the password is the first line (the convention of `openssl -passin file:`). */
import { SignetError } from './errors.js';

/** Largest password file read (a password, not a document). */
export const MAX_PASSWORD_FILE_BYTES = 64 * 1024;

/**
 * The password in a password file's content: its first line, without the line ending.
 * ERR_INPUT_TOO_LARGE beyond {@link MAX_PASSWORD_FILE_BYTES}; ERR_PASSWORD_EMPTY for an empty
 * file or first line. `name` is how messages show the file.
 */
export function passwordFromFile(data: Uint8Array, name: string): string {
  if (data.length > MAX_PASSWORD_FILE_BYTES) throw new SignetError('ERR_INPUT_TOO_LARGE', `password file ${name} is larger than ${MAX_PASSWORD_FILE_BYTES} bytes`);
  const raw = Buffer.from(data).toString('utf8');
  if (raw.length === 0) throw new SignetError('ERR_PASSWORD_EMPTY', `password file ${name} is empty`);
  const pw = raw.split(/\r?\n/)[0] ?? '';
  if (pw.length === 0) throw new SignetError('ERR_PASSWORD_EMPTY', `password file ${name} has an empty first line`);
  return pw;
}
