// Two JavaScript clients (the wasm package) and a native one (the native
// peer, arbor-mls compiled for the host) in one group, bytes passed
// between them; an external join; typed errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mls, MemoryStore, NativePeer, hex, unhex, utf8 } from "./helpers.mjs";

const text = (bytes) => new TextDecoder().decode(bytes);

/** The native peer's [epoch, epoch authenticator (hex), member count]. */
async function nativeState(peer) {
  const [epoch, authenticator, members] = await peer.call("state");
  return [Number(epoch), authenticator, Number(members)];
}

test("two wasm clients and a native client share a group", async () => {
  const native = new NativePeer("native");
  try {
    const alice = await mls.Client.open(utf8("alice"), new MemoryStore());
    const bob = await mls.Client.open(utf8("bob"), new MemoryStore());
    const group = await alice.createGroup();
    const [nativeKp] = await native.call("keypackage");
    const added = await group.add([await bob.keyPackage(), unhex(nativeKp)]);
    assert.ok(added.welcome, "an Add commit carries a Welcome");
    assert.equal((await group.mergePendingCommit()).type, "ownCommitMerged");

    const bobGroup = await bob.join(added.welcome);
    const [nativeEpoch] = await native.call("join", added.welcome);
    assert.equal(Number(nativeEpoch), 1);
    assert.equal(bobGroup.epoch, 1);
    assert.deepEqual(
      bobGroup.members().map((m) => text(m.identity)),
      ["alice", "bob", "native"],
    );
    // Same epoch secrets on all three sides.
    const [, nativeAuth] = await nativeState(native);
    assert.equal(hex(group.epochAuthenticator), nativeAuth);
    assert.equal(hex(bobGroup.epochAuthenticator), nativeAuth);

    // wasm -> wasm and native.
    const fromAlice = await group.encrypt(utf8("hello from alice"));
    const atBob = await bobGroup.process(fromAlice);
    assert.equal(atBob.type, "application");
    assert.equal(atBob.sender, 0);
    assert.equal(text(atBob.data), "hello from alice");
    const [kind, sender, data] = await native.call("process", fromAlice);
    assert.deepEqual([kind, sender, text(unhex(data))], ["application", "0", "hello from alice"]);

    // native -> both wasm clients.
    const [fromNative] = await native.call("encrypt", utf8("hello from native"));
    for (const g of [group, bobGroup]) {
      const event = await g.process(unhex(fromNative));
      assert.equal(event.type, "application");
      assert.equal(event.sender, 2);
      assert.equal(text(event.data), "hello from native");
    }

    // A wasm commit, processed by the other two.
    const update = await bobGroup.update();
    assert.equal((await bobGroup.mergePendingCommit()).type, "ownCommitMerged");
    const atAlice = await group.process(update.commit);
    assert.equal(atAlice.type, "commit");
    assert.equal(atAlice.epoch, 2);
    assert.deepEqual(atAlice.committer, { kind: "member", index: 1 });
    assert.deepEqual(atAlice.updated.map((m) => text(m.identity)), ["bob"]);
    assert.deepEqual(await native.call("process", update.commit), ["commit", "2"]);
    const [, auth2] = await nativeState(native);
    assert.equal(hex(group.epochAuthenticator), auth2);
    assert.equal(hex(bobGroup.epochAuthenticator), auth2);

    // Bob leaves; the native member commits his proposal.
    const leave = await bobGroup.leave();
    assert.equal((await group.process(leave)).type, "proposal");
    assert.deepEqual(await native.call("process", leave), ["proposal"]);
    const [removal] = await native.call("commit");
    await native.call("merge");
    const atBob2 = await bobGroup.process(unhex(removal));
    assert.equal(atBob2.type, "commit");
    assert.equal(atBob2.removedUs, true);
    assert.equal(bobGroup.isActive, false);
    const atAlice2 = await group.process(unhex(removal));
    assert.deepEqual(atAlice2.removed.map((m) => text(m.identity)), ["bob"]);
    assert.deepEqual(group.members().map((m) => text(m.identity)), ["alice", "native"]);
    const [epoch3, auth3, count] = await nativeState(native);
    assert.deepEqual([group.epoch, hex(group.epochAuthenticator), 2], [epoch3, auth3, count]);
  } finally {
    native.close();
  }
});

test("a client joins by external commit", async () => {
  const alice = await mls.Client.open(utf8("alice"), new MemoryStore());
  const carol = await mls.Client.open(utf8("carol"), new MemoryStore());
  const group = await alice.createGroup(utf8("external-join-group"));
  const { group: carolGroup, commit } = await carol.joinExternal(group.groupInfo(true));
  const atAlice = await group.process(commit);
  assert.equal(atAlice.type, "commit");
  assert.deepEqual(atAlice.committer, { kind: "newMemberCommit" });
  assert.deepEqual(atAlice.added.map((m) => text(m.identity)), ["carol"]);
  // The delivery service's echo confirms the join.
  assert.equal((await carolGroup.process(commit)).type, "ownCommitMerged");
  assert.equal(hex(carolGroup.epochAuthenticator), hex(group.epochAuthenticator));
  const event = await group.process(await carolGroup.encrypt(utf8("hi")));
  assert.equal(text(event.data), "hi");
});

test("errors carry their action and category", async () => {
  const alice = await mls.Client.open(utf8("alice"), new MemoryStore());
  const group = await alice.createGroup();
  await assert.rejects(group.process(Uint8Array.of(0, 1, 2)), (e) => {
    assert.equal(e.name, "MlsError");
    assert.equal(e.category, "malformed");
    assert.equal(e.action, "report");
    return true;
  });
  // Our own removal cannot be committed by ourselves (RFC 9420 §12.2).
  await assert.rejects(group.remove(0), (e) => e.action === "fixCall" && e.category === "misuse");
  // A store that holds another client is refused.
  const store = new MemoryStore();
  await mls.Client.open(utf8("dave"), store);
  await assert.rejects(mls.Client.open(utf8("erin"), store), (e) => e.category === "misuse");
});
