// Every shared test vector (demo-models/vectors/cases.json), with the rule every language
// applies: the top-1 index equals the reference's, and each expected class's score is within
// the case's tolerance.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';

import { cases, model, optionsFor, read, readNpy, DEMO } from './helpers.js';

const CASES = cases();
const worst = new Map();

test('the full vector set is there', () => {
  assert.ok(CASES.length >= 38, `${CASES.length} cases`);
});

for (const c of CASES) {
  test(c.name, async () => {
    const m = await model(c.model, optionsFor(c));
    const classes = m.info().outputs[0].shape.reduce((a, b) => a * b, 1);
    let got;
    if (c.level === 'tensor') got = m.classifyTensor(readNpy(read(c.tensor)), classes);
    else if (c.level === 'image') got = m.classify(read(c.image), classes);
    else assert.fail(`unknown level ${c.level}`);
    assert.equal(got.length, classes);
    const expected = c.expected;
    assert.equal(got[0].index, expected[0].index, `top-1 ${got[0].index} != ${expected[0].index}`);
    assert.equal(got[0].label, expected[0].label);
    const score = new Map(got.map((p) => [p.index, p.score]));
    for (const e of expected) {
      const diff = Math.abs(score.get(e.index) - e.score);
      const key = `${c.model} ${c.level}`;
      worst.set(key, Math.max(worst.get(key) ?? 0, diff));
      assert.ok(diff <= c.tolerance, `index ${e.index}: ${score.get(e.index)} vs ${e.score} (tolerance ${c.tolerance})`);
    }
  });
}

test('manifest sources follow the cases', async () => {
  for (const c of CASES) {
    const m = await model(c.model, optionsFor(c));
    assert.equal(m.info().manifestSource, c.manifest ? 'options' : 'embedded', c.model);
  }
});

after(() => {
  for (const [key, diff] of [...worst].sort()) console.log(`# max |Δscore| ${key}: ${diff.toFixed(5)}`);
  console.log(`# demo models: ${DEMO}`);
});
