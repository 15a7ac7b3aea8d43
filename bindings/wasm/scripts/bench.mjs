// The main operations timed in wasm (Node.js, the built package) and
// natively (the native peer, arbor-mls built for the host) in the same run:
// medians in microseconds and the wasm/native ratio.
//
//   node scripts/bench.mjs [iterations]     (default 30)
//
// Both sides run the same sequence per iteration, in a fresh group of two
// with in-memory storage (native: MemoryStorage; wasm: the store mirror
// over js/memory_store.mjs, each batch awaited): create, key package, add
// (commit + merge), join, encrypt 100 bytes, decrypt (process), commit (an
// update + merge) and processing that commit. ARBOR_NATIVE_PEER names the
// native binary (default: the target dir's release build).
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { spawnSync } from "node:child_process";
import { MemoryStore } from "../js/memory_store.mjs";

const crate = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const mls = createRequire(import.meta.url)(
  process.env.ARBOR_WASM_PKG ?? path.join(crate, "pkg", "node", "arbor_mls_wasm.js"),
);
const target = process.env.CARGO_TARGET_DIR ?? path.resolve(crate, "..", "..", "target");
const nativePeer =
  process.env.ARBOR_NATIVE_PEER ?? path.join(target, "release", "arbor-native-peer");
const n = Number(process.argv[2] ?? 30);
const utf8 = (t) => new TextEncoder().encode(t);
const OPS = ["create", "keyPackage", "add", "join", "encrypt", "decrypt", "commit", "processCommit"];

async function wasmBench(iterations) {
  const samples = Object.fromEntries(OPS.map((op) => [op, []]));
  const plaintext = new Uint8Array(100).fill(0x42);
  for (let i = 0; i < iterations; i++) {
    const alice = await mls.Client.open(utf8("alice"), new MemoryStore());
    const bob = await mls.Client.open(utf8("bob"), new MemoryStore());
    const time = async (op, f) => {
      const t = process.hrtime.bigint();
      const result = await f();
      samples[op].push(Number(process.hrtime.bigint() - t) / 1000);
      return result;
    };
    const group = await time("create", () => alice.createGroup());
    const kp = await time("keyPackage", () => bob.keyPackage());
    const added = await time("add", async () => {
      const out = await group.add([kp]);
      await group.mergePendingCommit();
      return out;
    });
    const bobGroup = await time("join", () => bob.join(added.welcome));
    const message = await time("encrypt", () => group.encrypt(plaintext));
    await time("decrypt", () => bobGroup.process(message));
    const update = await time("commit", async () => {
      const out = await group.update();
      await group.mergePendingCommit();
      return out;
    });
    await time("processCommit", () => bobGroup.process(update.commit));
  }
  const median = (s) => s.sort((a, b) => a - b)[Math.floor(s.length / 2)];
  return Object.fromEntries(OPS.map((op) => [op, median(samples[op])]));
}

function nativeBench(iterations) {
  const run = spawnSync(nativePeer, ["bench"], { input: `bench ${iterations}\n`, encoding: "utf8" });
  if (run.status !== 0) throw new Error(`${nativePeer}: ${run.stderr || run.error}`);
  const [status, ...rest] = run.stdout.trim().split(" ");
  if (status !== "ok") throw new Error(`native bench: ${rest.join(" ")}`);
  return JSON.parse(rest.join(" "));
}

await wasmBench(3); // warm-up: compile and tier up the module
nativeBench(3);
const wasm = await wasmBench(n);
const native = nativeBench(n);
console.log(`${n} iterations, medians in microseconds (Node ${process.version})`);
console.log("| operation | wasm (Node) | native | wasm/native |");
console.log("| --- | ---: | ---: | ---: |");
for (const op of OPS) {
  const ratio = wasm[op] / native[op];
  console.log(`| ${op} | ${wasm[op].toFixed(0)} | ${native[op].toFixed(0)} | ${ratio.toFixed(1)}x |`);
}
