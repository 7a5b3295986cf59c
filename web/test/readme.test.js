// The JavaScript quick start in the README runs as written (from the repository root) and prints
// the demo cat's classes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { REPO } from './helpers.js';

test('README quick start', () => {
  const text = readFileSync(`${REPO}README.md`, 'utf8');
  const blocks = [...text.matchAll(/<!-- quick-start:js -->\n```js\n([\s\S]*?)```/g)];
  assert.equal(blocks.length, 1, 'README needs exactly one tagged JavaScript quick start');
  // Inside web/, so `@ledge/web` resolves to this package (self-reference), as after `npm i`.
  const dir = fileURLToPath(new URL('../test-results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}quick-start.mjs`, blocks[0][1]);
  const out = execFileSync(process.execPath, [`${dir}quick-start.mjs`], { cwd: REPO, encoding: 'utf8' });
  assert.match(out, /tiger cat/, out);
});
