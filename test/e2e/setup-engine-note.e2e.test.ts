// `npm run setup` on a machine whose own Node is older than the project's: npm ci prints
// EBADENGINE warnings, and the set-up says right below them that they are harmless and which
// Node the scripts run on. On Node 24 it says nothing. The machine's Node is a stand-in that
// prints a version; the script is the real one, run by bash.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const SCRIPT = fileURLToPath(new URL('../../local/engine-note.sh', import.meta.url));
const run = promisify(execFile);

/** The note as printed when npm ran on a Node that says `version`. */
async function noteFor(version: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'engine-note-'));
  const machineNode = join(dir, 'node');
  writeFileSync(machineNode, `#!/bin/sh\necho ${version}\n`);
  chmodSync(machineNode, 0o755);
  const { stdout, stderr } = await run('bash', [SCRIPT], {
    env: { PATH: process.env.PATH, npm_node_execpath: machineNode },
  });
  return stdout + stderr;
}

test('on an older machine Node the EBADENGINE warnings are explained, naming both Nodes', async () => {
  const note = await noteFor('v20.20.2');
  assert.match(
    note,
    /"npm warn EBADENGINE" lines above are npm ci running on this machine's Node v20\.20\.2: harmless/,
  );
  assert.match(
    note,
    new RegExp(`every npm script runs on the project's own Node ${process.version.replace(/\./g, '\\.')}`),
  );
});

test('on Node 24 or newer, nothing is printed', async () => {
  assert.equal(await noteFor('v24.21.0'), '');
  assert.equal(await noteFor('v25.0.0'), '');
});
