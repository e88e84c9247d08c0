// `npm start` (after the build the npm script runs): a demo CA in ./.signet, running in the
// foreground.
//
// The first time, `signet ca init` creates the CA in ./.signet/ca with random passwords kept in
// 0600 files in ./.signet (secrets never go on a command line) and the root key in
// ./.signet/root.key; later runs reuse it. Then `signet ca start` serves it, its logs passed
// through; once it listens this prints the root fingerprint and the one command that gets a
// certificate from it. Ctrl-C (or SIGTERM) stops the CA and exits 0.
//
// SIGNET_PORT chooses the port (default 9443; tests use a free one). A busy port ends with the
// CA's own one-line error and its exit status.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
const cliPath = join(repo, 'dist', 'src', 'cli', 'main.js');
const cwd = process.cwd();
const home = '.signet';
const caDir = join(home, 'ca');
const config = join(caDir, 'signet.json');
const passwordFile = join(home, 'ca-password.txt');
const provisionerPasswordFile = join(home, 'provisioner-password.txt');
const rootKey = join(home, 'root.key');

class StartError extends Error {}

/** How to run the CLI from this directory, as a user would type it. */
function cliCommand() {
  const rel = relative(cwd, cliPath);
  return `node ${rel.startsWith('..') || isAbsolute(rel) ? cliPath : rel}`;
}

function port() {
  const text = process.env.SIGNET_PORT;
  if (text === undefined || text === '') return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 65535) throw new StartError(`SIGNET_PORT must be a port number (1-65535), got "${text}"`);
  return n;
}

/** A random password in a new 0600 file (kept when a first run was interrupted before the CA existed). */
function passwordIn(file) {
  if (existsSync(file)) return;
  writeFileSync(file, randomBytes(24).toString('base64url') + '\n', { mode: 0o600, flag: 'wx' });
}

function createCa(listenPort) {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  if (existsSync(rootKey)) {
    throw new StartError(`${rootKey} exists but there is no CA in ${caDir}; move the old root key away (or delete it) and run npm start again`);
  }
  passwordIn(passwordFile);
  passwordIn(provisionerPasswordFile);
  let summary;
  try {
    // stdout: the summary of what was created; stderr (passed through): the warning about the root key.
    summary = execFileSync(process.execPath, [cliPath, 'ca', 'init', '--name', 'Signet Demo', '--dir', caDir, '--dns', 'localhost', '--dns', '127.0.0.1',
      '--address', `127.0.0.1:${listenPort ?? 9443}`, '--password-file', passwordFile, '--provisioner-password-file', provisionerPasswordFile,
      '--root-key-out', rootKey], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  } catch {
    throw new StartError('could not create the demo CA (see the error above)');
  }
  // Its "next:" line is what this script does now.
  process.stdout.write(summary.replace(/\n+next: .*\n$/, '\n\n'));
}

/** A reused CA listens where its config says; SIGNET_PORT moves it (the demo config is ours to edit). */
function usePort(listenPort) {
  if (listenPort === undefined) return;
  const doc = JSON.parse(readFileSync(config, 'utf8'));
  const address = `127.0.0.1:${listenPort}`;
  if (doc.address === address) return;
  doc.address = address;
  const tmp = `${config}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(doc, null, 2) + '\n', { mode: 0o644 });
  renameSync(tmp, config);
  process.stderr.write(`note: the demo CA now listens on ${address} (SIGNET_PORT)\n`);
}

function main() {
  const listenPort = port();
  const created = !existsSync(config);
  if (created) createCa(listenPort);
  else usePort(listenPort);

  // The CA runs in its own process group so that Ctrl-C reaches it once, through us.
  const ca = spawn(process.execPath, [cliPath, 'ca', 'start', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stopping = false;
  const stop = (signal) => {
    // A second Ctrl-C does not wait for the CA's drain.
    ca.kill(stopping ? 'SIGKILL' : signal);
    stopping = true;
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGHUP', () => stop('SIGTERM'));
  process.on('exit', () => {
    if (ca.exitCode === null && ca.signalCode === null) ca.kill('SIGTERM');
  });
  ca.stderr.pipe(process.stderr);

  let buffered = '';
  let announced = false;
  ca.stdout.on('data', (chunk) => {
    process.stdout.write(chunk);
    if (announced) return;
    buffered += chunk.toString();
    for (let i = buffered.indexOf('\n'); i >= 0; i = buffered.indexOf('\n')) {
      const line = buffered.slice(0, i);
      buffered = buffered.slice(i + 1);
      let event;
      try {
        event = JSON.parse(line);
      } catch {
        continue;
      }
      if (event.msg === 'listening') {
        announced = true;
        buffered = '';
        announce(created, event);
        break;
      }
    }
  });
  ca.on('exit', (code, signal) => {
    // Stopped by the signal we forwarded: a normal end. Anything else is the CA's exit status
    // (its one-line error, e.g. ERR_ADDRESS_IN_USE, is already on stderr).
    process.exitCode = code ?? (stopping ? 0 : signal === null ? 1 : 128);
  });
}

function announce(created, event) {
  const signet = cliCommand();
  process.stdout.write(`
${created ? 'Created' : 'Using'} the demo CA in ${caDir}/ — running at ${event.url} (Ctrl-C stops it)
  config             ${config}
  passwords          ${passwordFile}, ${provisionerPasswordFile} (0600)
  root key           ${rootKey} (encrypted; a real CA keeps it offline)

Root fingerprint (SHA-256): ${event.root}

In another terminal, in this directory, get a certificate:
  ${signet} ca certificate localhost localhost.crt localhost.key --config ${config} --provisioner-password-file ${provisionerPasswordFile}
and check it with OpenSSL:
  openssl verify -CAfile ${join(caDir, 'certs', 'root.crt')} -untrusted localhost.crt localhost.crt

From another machine or user, pin this CA first: ${signet} ca bootstrap --ca-url ${event.url} --fingerprint ${event.root}

`);
}

try {
  main();
} catch (e) {
  process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
}
