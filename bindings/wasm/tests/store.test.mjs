// Storage through the application's async store: a restart from it, and a
// store that refuses a batch (nothing is returned that it does not hold).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mls, MemoryStore, hex, utf8 } from "./helpers.mjs";

const text = (bytes) => new TextDecoder().decode(bytes);

/** Alice (in `store`) and Bob in a group of two, at epoch 1. */
async function pair(store) {
  const alice = await mls.Client.open(utf8("alice"), store);
  const bob = await mls.Client.open(utf8("bob"), new MemoryStore());
  const group = await alice.createGroup(utf8("the group"));
  const { welcome } = await group.add([await bob.keyPackage()]);
  await group.mergePendingCommit();
  return { alice, group, bobGroup: await bob.join(welcome) };
}

test("a client restarts from its JavaScript store", async () => {
  const store = new MemoryStore();
  const { group, bobGroup } = await pair(store);
  const early = await bobGroup.encrypt(utf8("before the restart"));
  assert.equal(text((await group.process(early)).data), "before the restart");
  const authenticator = hex(group.epochAuthenticator);

  // A new client over the same store: nothing carried over in memory.
  const alice2 = await mls.Client.open(utf8("alice"), store);
  assert.deepEqual((await alice2.groups()).map(text), ["the group"]);
  const group2 = await alice2.loadGroup(utf8("the group"));
  assert.equal(group2.epoch, 1);
  assert.equal(hex(group2.epochAuthenticator), authenticator);
  // The key consumed before the restart stays consumed (§9.2).
  await assert.rejects(group2.process(early), (e) => e.name === "MlsError");
  // Messages and commits go on both ways.
  const late = await bobGroup.encrypt(utf8("after the restart"));
  assert.equal(text((await group2.process(late)).data), "after the restart");
  const update = await group2.update();
  await group2.mergePendingCommit();
  assert.equal((await bobGroup.process(update.commit)).epoch, 2);
  assert.equal(text((await bobGroup.process(await group2.encrypt(utf8("epoch 2")))).data), "epoch 2");

  // Opening the store again sees epoch 2.
  const alice3 = await mls.Client.open(utf8("alice"), store);
  assert.equal((await alice3.loadGroup(utf8("the group"))).epoch, 2);
});

test("a refused batch withholds the result and stops the client until reopened", async () => {
  const store = new MemoryStore();
  const { group, bobGroup } = await pair(store);
  const before = store.snapshot();
  store.failWith = new Error("disk full");
  await assert.rejects(group.encrypt(utf8("never sent")), (e) => {
    assert.equal(e.name, "MlsError");
    assert.equal(e.action, "reopen");
    assert.match(e.message, /disk full/);
    return true;
  });
  assert.deepEqual(store.snapshot(), before, "the store is unchanged");
  // Every later operation is refused, even once the store works again.
  store.failWith = null;
  await assert.rejects(group.encrypt(utf8("still not")), (e) => e.action === "reopen");
  assert.deepEqual(store.snapshot(), before);

  // Reopened, the client is as the store last had it, and works.
  const alice2 = await mls.Client.open(utf8("alice"), store);
  const group2 = await alice2.loadGroup(utf8("the group"));
  const message = await group2.encrypt(utf8("after reopening"));
  assert.equal(text((await bobGroup.process(message)).data), "after reopening");
});

test("batches reach the store in call order, each before its result", async () => {
  const store = new MemoryStore();
  const { group } = await pair(store);
  // Slow puts: the results must still wait for them, in order.
  const order = [];
  const put = store.putBatch.bind(store);
  store.putBatch = async (batch) => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    await put(batch);
    order.push(store.batches);
  };
  const seen = [];
  const calls = [1, 2, 3].map((i) =>
    group.encrypt(utf8(`m${i}`)).then(() => seen.push([i, store.batches])),
  );
  await Promise.all(calls);
  assert.deepEqual(seen.map(([i]) => i), [1, 2, 3]);
  // Each result came after its own batch (and the earlier ones) was put.
  const first = seen[0][1];
  assert.deepEqual(seen.map(([, n]) => n), [first, first + 1, first + 2]);
});
