// A Store (see index.d.ts) kept in memory: for tests and for Node.js
// programs that persist elsewhere. Keys sort bytewise, as the library
// expects of scan().
//
// A browser application implements the same three methods over IndexedDB:
// one object store keyed by the bytes (IndexedDB compares ArrayBuffer keys
// bytewise), `scan` as a key range from the prefix, and `putBatch` as one
// readwrite transaction resolving on its `complete` event.

// Hex keys sort as their bytes do; no Buffer, so it runs in browsers too.
const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
const unhex = (text) => Uint8Array.from(text.match(/../g) ?? [], (h) => parseInt(h, 16));

export class MemoryStore {
  constructor() {
    /** @type {Map<string, Uint8Array>} hex key -> value */
    this.records = new Map();
    /** When set, putBatch rejects with it (tests of a failing store). */
    this.failWith = null;
    /** How many batches were applied. */
    this.batches = 0;
  }

  async get(key) {
    const value = this.records.get(hex(key));
    return value === undefined ? undefined : value.slice();
  }

  async scan(prefix) {
    const p = hex(prefix);
    return [...this.records.keys()]
      .filter((k) => k.startsWith(p))
      .sort()
      .map((k) => [unhex(k), this.records.get(k).slice()]);
  }

  async putBatch(batch) {
    if (this.failWith) throw this.failWith;
    // Atomic: nothing else runs between these synchronous steps.
    for (const prefix of batch.deletePrefixes) {
      const p = hex(prefix);
      for (const k of [...this.records.keys()]) if (k.startsWith(p)) this.records.delete(k);
    }
    for (const [key, value] of batch.ops) {
      if (value === null) this.records.delete(hex(key));
      else this.records.set(hex(key), value.slice());
    }
    this.batches += 1;
  }

  /** A copy of the records, for comparing states in tests. */
  snapshot() {
    return new Map([...this.records].map(([k, v]) => [k, hex(v)]));
  }
}
