// Shared by the Node tests: the built package, and the native peer
// (src/bin/native_peer.rs) as a child process.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const crate = path.resolve(here, "..");

/** The package built for Node (scripts/build.sh writes pkg/node). */
export const mls = createRequire(import.meta.url)(
  process.env.ARBOR_WASM_PKG ?? path.join(crate, "pkg", "node", "arbor_mls_wasm.js"),
);
export { MemoryStore } from "../js/memory_store.mjs";

export const hex = (bytes) => Buffer.from(bytes).toString("hex");
export const unhex = (text) => Uint8Array.from(Buffer.from(text, "hex"));
export const utf8 = (text) => new TextEncoder().encode(text);

/** The native peer binary: ARBOR_NATIVE_PEER, else the target dir's. */
function nativePeerPath() {
  if (process.env.ARBOR_NATIVE_PEER) return process.env.ARBOR_NATIVE_PEER;
  const target = process.env.CARGO_TARGET_DIR ?? path.resolve(crate, "..", "..", "target");
  return path.join(target, "debug", "arbor-native-peer");
}

/** A native arbor-mls client in a child process, one command at a time. */
export class NativePeer {
  constructor(identity) {
    this.child = spawn(nativePeerPath(), [identity], { stdio: ["pipe", "pipe", "inherit"] });
    this.lines = createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
  }

  /** Sends one command; resolves to the answer's words after `ok`. */
  async call(command, ...args) {
    this.child.stdin.write([command, ...args.map(hex)].join(" ") + "\n");
    const { value, done } = await this.lines.next();
    if (done) throw new Error(`native peer exited during ${command}`);
    const [status, ...words] = value.split(" ");
    if (status !== "ok") throw new Error(`native peer: ${command}: ${words.join(" ")}`);
    return words;
  }

  close() {
    this.child.stdin.end();
  }
}
