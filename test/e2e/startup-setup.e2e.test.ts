// `npm run setup`'s system step (local/install-system-deps.sh) on machines unlike this one: a
// CHROMIUM_PATH, no Debian Chromium, no apt-get, not root. apt-get, sudo and id are stand-ins on
// PATH that record how they were called; the script itself is the real one, run by bash.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../local/install-system-deps.sh', import.meta.url));

interface Machine {
  /** apt-get exists; 'fails' makes its install fail. */
  apt?: 'works' | 'fails';
  sudo?: boolean;
  uid?: number;
  chromiumPath?: string;
}

async function runSetup(
  machine: Machine,
): Promise<{ code: number; stdout: string; stderr: string; calls: string[]; systemChromium: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'setup-'));
  const bin = join(dir, 'bin');
  const log = join(dir, 'calls.log');
  const systemChromium = join(dir, 'usr-bin-chromium');
  const tool = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/bin/sh\necho "${name} $*" >> ${log}\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  writeFileSync(log, '');
  mkdirSync(bin);
  tool('id', `echo ${machine.uid ?? 0}`);
  if (machine.sudo) tool('sudo', 'exec "$@"');
  if (machine.apt) {
    // Installing "chromium" puts the browser where Debian's package does (here: systemChromium).
    tool(
      'apt-get',
      machine.apt === 'fails'
        ? 'case "$1" in install) exit 100;; esac'
        : `case "$1" in install) printf '#!/bin/sh\\necho "Chromium 140 (stand-in)"\\n' > ${systemChromium}; /bin/chmod +x ${systemChromium};; esac`,
    );
  }
  return new Promise((resolve) => {
    execFile(
      '/bin/bash',
      [SCRIPT],
      {
        env: {
          PATH: bin,
          SETUP_SYSTEM_CHROMIUM: systemChromium,
          ...(machine.chromiumPath !== undefined && { CHROMIUM_PATH: machine.chromiumPath }),
        },
      },
      (error, stdout, stderr) => {
        const calls = readFileSync(log, 'utf8')
          .split('\n')
          .filter(Boolean)
          .filter((line) => !line.startsWith('id '));
        resolve({ code: error ? (error.code as number) : 0, stdout, stderr, calls, systemChromium });
      },
    );
  });
}

test('setup honours an executable CHROMIUM_PATH and installs nothing, even with apt-get at hand', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'own-browser-'));
  const browser = join(dir, 'chrome');
  writeFileSync(browser, '#!/bin/sh\n');
  chmodSync(browser, 0o755);
  const run = await runSetup({ apt: 'works', chromiumPath: browser });
  assert.equal(run.code, 0);
  assert.match(run.stdout, new RegExp(`using CHROMIUM_PATH=${browser}`));
  assert.deepEqual(run.calls, [], 'apt-get or sudo was called');
  assert.ok(!existsSync(run.systemChromium));
});

test('setup with a CHROMIUM_PATH that is not an executable says so, installs nothing and does not fail', async () => {
  const run = await runSetup({ apt: 'works', chromiumPath: '/nowhere/chromium' });
  assert.equal(run.code, 0);
  assert.match(run.stderr, /CHROMIUM_PATH=\/nowhere\/chromium is not an executable file/);
  assert.match(run.stderr, /set CHROMIUM_PATH/);
  assert.deepEqual(run.calls, []);
});

test('setup without apt-get says what to install (Chromium or Chrome, then CHROMIUM_PATH) and exits 0', async () => {
  const run = await runSetup({});
  assert.equal(run.code, 0);
  assert.match(run.stderr, /Install Chromium or Google Chrome/);
  assert.match(run.stderr, /browser test \(it will be skipped\)/);
  assert.match(run.stderr, /set CHROMIUM_PATH to its executable/);
});

test('setup with apt-get installs Debian chromium: directly as root, through sudo otherwise', async () => {
  const asRoot = await runSetup({ apt: 'works', uid: 0 });
  assert.equal(asRoot.code, 0, asRoot.stderr);
  assert.deepEqual(asRoot.calls, ['apt-get update -qq', 'apt-get install -y -qq chromium']);
  assert.match(asRoot.stdout, /Chromium 140/);

  const asUser = await runSetup({ apt: 'works', uid: 1000, sudo: true });
  assert.equal(asUser.code, 0, asUser.stderr);
  assert.deepEqual(asUser.calls, [
    'sudo apt-get update -qq',
    'apt-get update -qq',
    'sudo apt-get install -y -qq chromium',
    'apt-get install -y -qq chromium',
  ]);
});

test('setup whose apt-get install fails, or that needs sudo without it, warns and still exits 0', async () => {
  const failing = await runSetup({ apt: 'fails' });
  assert.equal(failing.code, 0);
  assert.match(failing.stderr, /apt-get could not install chromium/);
  const noSudo = await runSetup({ apt: 'works', uid: 1000 });
  assert.equal(noSudo.code, 0);
  assert.match(noSudo.stderr, /needs root and sudo is missing/);
  assert.deepEqual(noSudo.calls, []);
});
