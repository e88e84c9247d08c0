/**
 * Making untrusted text safe to print. Certificates, CSRs, CRLs and TLS peers are written by
 * strangers; a subject such as `CN=evil\x1b[31m…\nFAKE: line` must not recolour the terminal,
 * move the cursor or forge output lines. No I/O.
 */

/**
 * Characters a terminal acts on instead of printing: C0 controls (U+0000–U+001F, including
 * ESC, CR, LF and TAB), DEL (U+007F), C1 controls (U+0080–U+009F, e.g. U+009B CSI), the line and
 * paragraph separators U+2028/U+2029, and the bidirectional formatting characters (U+200E/U+200F,
 * U+202A–U+202E, U+2066–U+2069) that reorder what is shown ("Trojan Source", CVE-2021-42574).
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * `s` with every terminal-active character (see above) replaced by a visible escape: `\xHH` for
 * code points up to U+00FF (`\x1b`, `\x0a`, `\x9b`), `\u{HHHH}` above. Printable text, including
 * non-ASCII letters, is unchanged. Use it on every string that came from outside before it is
 * written to a terminal; JSON output does not need it for C0 (JSON escapes those) but still
 * carries C1 and bidi characters raw.
 */
export function escapeControl(s: string): string {
  return s.replace(UNSAFE, (c) => {
    const cp = c.codePointAt(0) ?? 0;
    return cp <= 0xff ? `\\x${cp.toString(16).padStart(2, '0')}` : `\\u{${cp.toString(16)}}`;
  });
}

/** True when `s` holds any character {@link escapeControl} would escape (the authority refuses such names). */
export function hasTerminalControls(s: string): boolean {
  UNSAFE.lastIndex = 0;
  return UNSAFE.test(s);
}

/** What JSON.stringify leaves raw but a terminal acts on: DEL, C1 controls, separators, bidi. */
const JSON_UNSAFE = /[\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * `json` (text produced by JSON.stringify) with the terminal-active characters JSON.stringify
 * leaves raw (DEL, C1 controls such as U+009B CSI, U+2028/U+2029, bidi controls) written as
 * `\uHHHH` escapes. The text is still valid JSON and parses to exactly the same value, so JSON
 * output stays data while a terminal it is printed to cannot be driven by it.
 */
export function escapeJsonText(json: string): string {
  return json.replace(JSON_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
