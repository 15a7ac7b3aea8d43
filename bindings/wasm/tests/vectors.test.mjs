// The official key-schedule and message-protection vectors, run inside the
// wasm module by the interop harness's runners (feature `vectors`).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { mls } from "./helpers.mjs";

const vectors = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../../../interop/test-vectors",
);

for (const name of ["key-schedule.json", "message-protection.json"]) {
  test(`${name} passes inside wasm`, () => {
    const json = readFileSync(path.join(vectors, name), "utf8");
    const cases = JSON.parse(json).length;
    const report = mls.runVectors(name, json);
    assert.deepEqual(report.failures, []);
    assert.equal(report.failed, 0);
    // All seven suites are supported: every entry runs and passes.
    assert.equal(report.skipped, 0);
    assert.equal(report.passed, cases);
    console.log(`${name}: ${report.passed} of ${cases} entries passed in wasm`);
  });
}
