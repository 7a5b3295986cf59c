// The JavaScript quick starts in the README run as written (from the repository root): the
// classification one prints the demo cat's classes; the tasks one (detection and embeddings)
// prints the cat's box and its similarity to the mirrored photo.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { REPO } from './helpers.js';

const README = readFileSync(`${REPO}README.md`, 'utf8');
const tagged = (tag) => [...README.matchAll(new RegExp(`<!-- ${tag} -->\\n\`\`\`js\\n([\\s\\S]*?)\`\`\``, 'g'))].map((m) => m[1]);

/** Runs a snippet as an ES module inside web/ (so `@ledge/web` resolves to this package, as
 * after `npm i`), from the repository root; returns what it printed. */
function run(name, code) {
  const dir = fileURLToPath(new URL('../test-results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}${name}.mjs`, code);
  return execFileSync(process.execPath, [`${dir}${name}.mjs`], { cwd: REPO, encoding: 'utf8' });
}

test('README quick start', () => {
  const blocks = tagged('quick-start:js');
  assert.equal(blocks.length, 1, 'README needs exactly one tagged JavaScript quick start');
  assert.match(run('quick-start', blocks[0]), /tiger cat/);
});

const tasks = tagged('quick-start:js-tasks');
test('README detection and embedding quick start', () => {
  assert.equal(tasks.length, 1, 'README needs at most one tagged JavaScript tasks quick start');
  const out = run('quick-start-tasks', tasks[0]);
  assert.match(out, /^Cat \d+\.\d% at \d+, \d+, \d+ × \d+ px$/m, out);
  assert.match(out, /^cosine similarity to the mirrored photo: 0\.9\d\d$/m, out);
});

// The browser camera quick start needs a camera and a browser: test-browser/quick-start.test.js
// runs it in Chromium from test-browser/camera-quick-start.html; here the README's copy must be
// that code, verbatim.
const camera = tagged('quick-start:js-camera');
test('README browser camera quick start is the code the browser test runs', {
  skip: camera.length ? false : 'README has no browser camera quick start (<!-- quick-start:js-camera -->) yet',
}, () => {
  assert.equal(camera.length, 1, 'README needs at most one tagged browser camera quick start');
  const html = readFileSync(new URL('../test-browser/camera-quick-start.html', import.meta.url), 'utf8');
  const [, tested] = /\/\/ quick-start:js-camera begin\n([\s\S]*?)\/\/ quick-start:js-camera end\n/.exec(html);
  assert.equal(camera[0], tested);
});
