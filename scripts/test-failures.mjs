// A node:test reporter that prints every failed test again at the very end of the run, after the
// TAP stream: a long run's failure is otherwise buried a thousand tests up, and CI logs are often
// read from the tail. Leaves only (a suite that failed because a subtest did is not repeated).
import { relative } from 'node:path';

const MAX_LINES = 40;

function describe(error) {
  if (error === undefined || error === null) return 'no error recorded';
  const cause = error.cause ?? error;
  const text = cause instanceof Error ? (cause.stack ?? `${cause.name}: ${cause.message}`) : String(cause);
  const lines = text.split('\n').filter((l) => !/^\s+at (.*\()?node:/.test(l));
  return lines.length > MAX_LINES ? [...lines.slice(0, MAX_LINES), `… ${lines.length - MAX_LINES} more lines`].join('\n') : lines.join('\n');
}

function isRollUp(error) {
  const code = error?.failureType;
  return code === 'subtestsFailed';
}

export default async function* failures(source) {
  const failed = [];
  for await (const event of source) {
    if (event.type !== 'test:fail') continue;
    const { name, file, line, details } = event.data;
    if (isRollUp(details?.error)) continue;
    failed.push({ name, where: file ? `${relative(process.cwd(), file)}${line ? `:${line}` : ''}` : '(unknown file)', error: describe(details?.error) });
  }
  if (failed.length === 0) return;
  let out = `\n# ${failed.length} failed test${failed.length === 1 ? '' : 's'}, again:\n`;
  for (const f of failed) {
    out += `#\n# ✖ ${f.name}  (${f.where})\n`;
    out += f.error.split('\n').map((l) => `#   ${l}`).join('\n') + '\n';
  }
  yield out;
}
