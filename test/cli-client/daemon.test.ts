/**
 * `signet ca renew --daemon` end to end, against a CA whose certificates live six seconds: the
 * daemon replaces the certificate at two thirds of each lifetime and runs the hook, keeps
 * retrying while the CA is down and recovers when it is back on the same port, and stops with
 * exit 0 on SIGTERM. Event-driven: the test follows the daemon's JSON log lines, no sleeps.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { startTestCa } from '../helpers/ca.js';
import { CLI_PATH, ok } from '../helpers/cli.js';
import { clientKit, opensslPublicKey, opensslSerial, type ClientKit } from './kit.js';

let kit: ClientKit;
before(async () => {
  kit = await clientKit({
    edit: (doc) => {
      // Six-second certificates, no backdating; should a restart outlast one, renewal after expiry saves it.
      doc.claims = { ...(doc.claims as Record<string, unknown>), minLifetime: '1s', defaultLifetime: '6s', maxLifetime: '1h', backdate: '0s', allowRenewalAfterExpiry: true, renewalGracePeriod: '1m' };
    },
  });
});
after(async () => {
  await kit.cleanup();
});

interface DaemonLine {
  readonly msg: string;
  readonly serial?: string;
  readonly error?: { code: string };
}

/** Follows a child's JSON log lines; `count(msg, n)` resolves once `n` lines with `msg` arrived. */
function follow(child: ChildProcessWithoutNullStreams): { lines: DaemonLine[]; count(msg: string, n: number): Promise<void>; exit: Promise<number | null> } {
  const lines: DaemonLine[] = [];
  const waiters: { msg: string; n: number; resolve: () => void; reject: (e: Error) => void }[] = [];
  let stderr = '';
  let buffer = '';
  const settle = (): void => {
    for (const w of [...waiters]) {
      if (lines.filter((l) => l.msg === w.msg).length >= w.n) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdout.on('data', (c: Buffer) => {
    buffer += c.toString();
    for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
      lines.push(JSON.parse(buffer.slice(0, i)) as DaemonLine);
      buffer = buffer.slice(i + 1);
    }
    settle();
  });
  const exit = new Promise<number | null>((resolve) => {
    child.on('close', (code) => {
      for (const w of waiters.splice(0)) w.reject(new Error(`the daemon exited (${code}) before ${w.n}× "${w.msg}"; stderr: ${stderr}; log: ${JSON.stringify(lines)}`));
      resolve(code);
    });
  });
  return {
    lines,
    exit,
    count: (msg, n) =>
      new Promise<void>((resolve, reject) => {
        waiters.push({ msg, n, resolve, reject });
        settle();
      }),
  };
}

test('the daemon renews at 2/3 of the lifetime, runs the hook, retries while the CA is down, and stops on SIGTERM', { timeout: 60_000 }, async () => {
  ok(await kit.run(['ca', 'certificate', 'svc.example.com', 'svc.crt', 'svc.key', ...kit.provisionerFlags, ...kit.connection()]));
  const first = opensslSerial(kit.path('svc.crt'));
  const key = opensslPublicKey(kit.path('svc.key'), 'key');

  const child = spawn(process.execPath, [CLI_PATH, 'ca', 'renew', 'svc.crt', 'svc.key', '--daemon', '--json', '--exec', 'echo "$SIGNET_SERIAL" >> hooked', '--retry-max', '2s', ...kit.connection()], {
    cwd: kit.dir,
    env: { ...process.env, SIGNET_HOME: kit.home },
  });
  const log = follow(child);
  try {
    // First renewal: a new certificate, the hook ran, the daemon plans the next one.
    await log.count('waiting', 2);
    const second = opensslSerial(kit.path('svc.crt'));
    assert.notEqual(second, first);
    kit.verify(kit.path('svc.crt'));
    assert.equal(opensslPublicKey(kit.path('svc.crt'), 'cert'), key, 'renewal keeps the key');
    assert.deepEqual(readFileSync(kit.path('hooked'), 'utf8').trim().split('\n').map((s) => BigInt(`0x${s}`)), [BigInt(`0x${second}`)]);

    // The CA goes down: the daemon logs the failure and retries…
    const port = kit.running.port;
    await kit.running.close();
    await log.count('retry', 1);
    assert.equal(log.lines.find((l) => l.msg === 'retry')?.error?.code, 'ERR_CA_UNREACHABLE');
    // …and recovers once it is back on the same port.
    kit.running = await startTestCa(kit.ca, { port });
    await log.count('waiting', 3);
    const third = opensslSerial(kit.path('svc.crt'));
    assert.notEqual(third, second);
    kit.verify(kit.path('svc.crt'));
    assert.equal(readFileSync(kit.path('hooked'), 'utf8').trim().split('\n').length, 2, 'the hook ran after each renewal');
    assert.deepEqual(
      log.lines.filter((l) => l.msg === 'renewed').map((l) => BigInt(`0x${l.serial ?? ''}`)),
      [BigInt(`0x${second}`), BigInt(`0x${third}`)],
    );
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await log.exit, 0);
  assert.equal(log.lines.at(-1)?.msg, 'stopped');
});
