"""The UniFFI bindings driven from Python: groups, races, restarts and
storage encryption, against the built library.

Run by bindings/uniffi/test.sh, which builds the library, generates
arbor_mls_uniffi.py beside it and puts that directory on PYTHONPATH.
"""

import gc
import json
import os
import tempfile
import unittest

from arbor_mls_uniffi import (
    EchoKind,
    EncryptionKey,
    ErrorAction,
    MessageSender,
    MlsClient,
    MlsError,
    MlsEvent,
    StorageCallback,
    StorageFailure,
    StoredRecord,
)


class DictStore(StorageCallback):
    """The storage callbacks over a dict, optionally saved to a JSON file
    after every batch (written to a temporary file and renamed, so a batch
    is stored whole or not at all)."""

    def __init__(self, path=None):
        self.path = path
        self.records = {}
        self.writes = 0
        # Set by tests: the next write raises this instead of storing.
        self.fail_next_write = None
        if path is not None and os.path.exists(path):
            with open(path) as f:
                self.records = {
                    bytes.fromhex(k): bytes.fromhex(v) for k, v in json.load(f).items()
                }

    def get(self, key):
        return self.records.get(key)

    def scan(self, prefix):
        return [
            StoredRecord(key=k, value=self.records[k])
            for k in sorted(self.records)
            if k.startswith(prefix)
        ]

    def write(self, batch):
        if self.fail_next_write is not None:
            error, self.fail_next_write = self.fail_next_write, None
            raise error
        records = dict(self.records)
        for prefix in batch.delete_prefixes:
            for k in [k for k in records if k.startswith(prefix)]:
                del records[k]
        for op in batch.ops:
            if op.value is None:
                records.pop(op.key, None)
            else:
                records[op.key] = op.value
        if self.path is not None:
            tmp = self.path + ".tmp"
            with open(tmp, "w") as f:
                json.dump({k.hex(): v.hex() for k, v in records.items()}, f)
            os.replace(tmp, self.path)
        self.records = records
        self.writes += 1

    def holds(self, needle):
        """Whether any stored value contains `needle`."""
        return any(needle in v for v in self.records.values())


class Member:
    """One client and its group, with its own store."""

    def __init__(self, name, store=None, key=None):
        self.name = name
        self.store = store if store is not None else DictStore()
        self.client = MlsClient(name.encode(), self.store, key)
        self.group = None


def deliver(message, members):
    """Fans `message` out to `members` and merges any commit staged from
    it; returns the events by member name."""
    events = {}
    for m in members:
        event = m.group.process(message)
        if isinstance(event, MlsEvent.COMMIT):
            m.group.merge(event.staged)
        events[m.name] = event
    return events


def three_member_group(test):
    """Alice creates a group and adds Bob and Carol in one commit."""
    alice, bob, carol = Member("alice"), Member("bob"), Member("carol")
    alice.group = alice.client.create_group(b"the group")
    kps = [bob.client.key_package(), carol.client.key_package()]
    out = alice.group.add(kps)
    test.assertIsNotNone(out.welcome)
    event = alice.group.process(out.commit)
    test.assertIsInstance(event, MlsEvent.OWN_COMMIT_MERGED)
    test.assertEqual(event.epoch, 1)
    bob.group = bob.client.join(out.welcome, None)
    carol.group = carol.client.join(out.welcome, None)
    return alice, bob, carol


class GroupOfThree(unittest.TestCase):
    def test_three_members_exchange_messages(self):
        alice, bob, carol = three_member_group(self)
        members = [alice, bob, carol]
        for m in members:
            self.assertEqual(m.group.epoch(), 1)
            self.assertEqual(
                [x.identity for x in m.group.members()], [b"alice", b"bob", b"carol"]
            )
        self.assertEqual(bob.group.own_leaf(), 1)
        self.assertEqual(carol.group.own_leaf(), 2)
        auth = alice.group.epoch_authenticator()
        self.assertEqual(bob.group.epoch_authenticator(), auth)
        self.assertEqual(carol.group.epoch_authenticator(), auth)
        # The Welcome used each joiner's only key package.
        self.assertEqual(bob.client.key_package_count(), 0)

        for sender in members:
            text = b"hello from " + sender.name.encode()
            ct = sender.group.encrypt(text, b"aad")
            self.assertNotIn(text, ct)
            for receiver in members:
                event = receiver.group.process(ct)
                if receiver is sender:
                    self.assertIsInstance(event, MlsEvent.OWN_MESSAGE_ECHO)
                    self.assertEqual(event.kind, EchoKind.APPLICATION)
                    continue
                self.assertIsInstance(event, MlsEvent.APPLICATION)
                self.assertEqual(event.data, text)
                self.assertEqual(event.authenticated_data, b"aad")
                self.assertEqual(event.sender, sender.group.own_leaf())
                self.assertEqual(event.epoch, 1)

        # The same ciphertext twice: a replay, to drop.
        ct = alice.group.encrypt(b"once", b"")
        self.assertEqual(bob.group.process(ct).data, b"once")
        with self.assertRaises(MlsError.Replay) as caught:
            bob.group.process(ct)
        self.assertEqual(caught.exception.action, ErrorAction.DROP)

        # Exporters agree across members.
        secrets = {m.group.export_secret("test", b"ctx", 32) for m in members}
        self.assertEqual(len(secrets), 1)

    def test_future_message_is_buffered_then_processed(self):
        alice, bob, carol = three_member_group(self)
        update = alice.group.update()
        alice.group.process(update.commit)
        deliver(update.commit, [bob])
        ct = bob.group.encrypt(b"epoch 2", b"")
        # Carol has not seen the commit: the message is from her future.
        with self.assertRaises(MlsError.WrongEpoch) as caught:
            carol.group.process(ct)
        self.assertEqual(caught.exception.action, ErrorAction.BUFFER)
        self.assertEqual(carol.group.epoch(), 1)
        deliver(update.commit, [carol])
        self.assertEqual(carol.group.process(ct).data, b"epoch 2")

    def test_leave_and_remove(self):
        alice, bob, carol = three_member_group(self)
        request = carol.group.leave()
        self.assertTrue(carol.group.is_leaving())
        for m in (alice, bob):
            event = m.group.process(request)
            self.assertIsInstance(event, MlsEvent.PROPOSAL)
            self.assertEqual(event.sender, MessageSender.MEMBER(leaf=2))
        # A member who asked to leave may not commit.
        with self.assertRaises(MlsError.ApiMisuse) as caught:
            carol.group.update()
        self.assertEqual(caught.exception.action, ErrorAction.FIX_CALL)

        out = bob.group.commit()
        self.assertIsInstance(bob.group.process(out.commit), MlsEvent.OWN_COMMIT_MERGED)
        event = alice.group.process(out.commit)
        self.assertIsInstance(event, MlsEvent.COMMIT)
        self.assertEqual(event.info.removed, [2])
        self.assertEqual(event.info.committer, MessageSender.MEMBER(leaf=1))
        alice.group.merge(event.staged)
        # A staged commit merges once.
        with self.assertRaises(MlsError.ApiMisuse):
            alice.group.merge(event.staged)

        event = carol.group.process(out.commit)
        self.assertTrue(event.info.self_removed)
        carol.group.merge(event.staged)
        self.assertFalse(carol.group.is_active())
        self.assertEqual([m.identity for m in alice.group.members()], [b"alice", b"bob"])
        ct = alice.group.encrypt(b"just us", b"")
        self.assertEqual(bob.group.process(ct).data, b"just us")
        # Removing bob by leaf: a commit Bob sees as his removal.
        out = alice.group.remove(1)
        alice.group.process(out.commit)
        event = bob.group.process(out.commit)
        self.assertTrue(event.info.self_removed)


class CommitRace(unittest.TestCase):
    def test_loser_merges_the_winner_and_commits_again(self):
        alice, bob, carol = three_member_group(self)
        dave = Member("dave")
        dave_kp = dave.client.key_package()

        # Both commit in epoch 1: Alice rotates her keys, Bob adds Dave.
        alices = alice.group.update()
        bobs = bob.group.add([dave_kp])
        self.assertTrue(bob.group.has_pending_commit())

        # The delivery service orders Alice's first; Bob's is refused.
        self.assertIsInstance(alice.group.process(alices.commit), MlsEvent.OWN_COMMIT_MERGED)
        event = bob.group.process(alices.commit)
        self.assertIsInstance(event, MlsEvent.COMMIT)
        self.assertTrue(event.supersedes_own)
        self.assertTrue(event.info.path_updated)
        bob.group.merge(event.staged)
        self.assertFalse(bob.group.has_pending_commit())
        event = carol.group.process(alices.commit)
        self.assertFalse(event.supersedes_own)
        carol.group.merge(event.staged)
        for m in (alice, bob, carol):
            self.assertEqual(m.group.epoch(), 2)

        # A service that fans out the losing commit anyway: members drop it.
        for m in (alice, carol):
            with self.assertRaises(MlsError) as caught:
                m.group.process(bobs.commit)
            self.assertEqual(caught.exception.action, ErrorAction.DROP)
            self.assertEqual(m.group.epoch(), 2)

        # Bob still wants Dave: he commits again, with the same key
        # package (the losing Welcome was never delivered).
        retry = bob.group.add([dave_kp])
        self.assertIsInstance(bob.group.process(retry.commit), MlsEvent.OWN_COMMIT_MERGED)
        for m in (alice, carol):
            event = m.group.process(retry.commit)
            self.assertEqual(event.info.joined, [3])
            m.group.merge(event.staged)
        dave.group = dave.client.join(retry.welcome, None)
        members = [alice, bob, carol, dave]
        auth = alice.group.epoch_authenticator()
        for m in members:
            self.assertEqual(m.group.epoch(), 3)
            self.assertEqual(m.group.epoch_authenticator(), auth)
        ct = dave.group.encrypt(b"thanks for having me", b"")
        for m in (alice, bob, carol):
            self.assertEqual(m.group.process(ct).data, b"thanks for having me")


class Restart(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.dir.cleanup()

    def path(self, name):
        return os.path.join(self.dir.name, name + ".json")

    def test_restart_from_file_store(self):
        key = EncryptionKey(id=1, key=bytes(range(32)))
        alice = Member("alice", DictStore(self.path("alice")), key)
        bob = Member("bob", DictStore(self.path("bob")))
        alice.group = alice.client.create_group(b"persisted")
        out = alice.group.add([bob.client.key_package()])
        alice.group.process(out.commit)
        bob.group = bob.client.join(out.welcome, None)
        self.assertEqual(bob.group.process(alice.group.encrypt(b"before", b"")).data, b"before")
        # Sent before the restart, received after it.
        in_flight = alice.group.encrypt(b"in flight", b"")
        auth = alice.group.epoch_authenticator()
        # The plain store holds the identity in clear; the sealed one not.
        self.assertTrue(bob.store.holds(b"persisted"))
        self.assertFalse(alice.store.holds(b"persisted"))

        # Drop every object and the in-memory dicts: only the files remain.
        del alice, bob
        gc.collect()

        alice = MlsClient.restore(DictStore(self.path("alice")), EncryptionKey(id=1, key=bytes(range(32))))
        bob = MlsClient(b"bob", DictStore(self.path("bob")), None)
        self.assertEqual(alice.identity(), b"alice")
        self.assertEqual(alice.groups(), [b"persisted"])
        self.assertEqual(bob.groups(), [b"persisted"])
        alice_group = alice.load_group(b"persisted")
        bob_group = bob.load_group(b"persisted")
        self.assertEqual(alice_group.epoch(), 1)
        self.assertEqual(bob_group.epoch_authenticator(), auth)
        self.assertEqual(bob_group.process(in_flight).data, b"in flight")

        # The ratchets resumed where they were: fresh messages both ways,
        # and a commit.
        self.assertEqual(alice_group.process(bob_group.encrypt(b"back", b"")).data, b"back")
        self.assertEqual(bob_group.process(alice_group.encrypt(b"again", b"")).data, b"again")
        out = bob_group.update()
        bob_group.process(out.commit)
        event = alice_group.process(out.commit)
        alice_group.merge(event.staged)
        self.assertEqual(alice_group.epoch_authenticator(), bob_group.epoch_authenticator())

    def test_restart_keeps_a_pending_commit(self):
        store = DictStore()
        alice = MlsClient(b"alice", store, None)
        group = alice.create_group(b"g")
        bob = Member("bob")
        out = group.add([bob.client.key_package()])
        self.assertTrue(group.has_pending_commit())
        del group, alice
        gc.collect()
        # Same store object kept across client re-creation.
        alice = MlsClient(b"alice", store, None)
        group = alice.load_group(b"g")
        self.assertTrue(group.has_pending_commit())
        self.assertIsInstance(group.process(out.commit), MlsEvent.OWN_COMMIT_MERGED)
        self.assertEqual(group.epoch(), 1)

    def test_other_identity_is_refused(self):
        store = DictStore()
        MlsClient(b"alice", store, None)
        with self.assertRaises(MlsError.ApiMisuse) as caught:
            MlsClient(b"mallory", store, None)
        self.assertEqual(caught.exception.action, ErrorAction.FIX_CALL)
        with self.assertRaises(MlsError.ApiMisuse):
            MlsClient.restore(DictStore(), None)


class EncryptionAtRest(unittest.TestCase):
    def test_wrong_key_is_a_clear_error(self):
        store = DictStore()
        right = bytes([7]) * 32
        client = MlsClient(b"alice", store, EncryptionKey(id=1, key=right))
        client.create_group(b"sealed")
        del client
        gc.collect()
        stored = dict(store.records)

        with self.assertRaises(MlsError.ApiMisuse) as caught:
            MlsClient.restore(store, EncryptionKey(id=1, key=bytes([8]) * 32))
        self.assertEqual(caught.exception.action, ErrorAction.FIX_CALL)
        self.assertIn("wrong storage key", caught.exception.reason)
        self.assertIn("wrong storage key", str(caught.exception))
        # The failed open changed nothing.
        self.assertEqual(store.records, stored)

        # A key id the store never used is not taken for the right one.
        with self.assertRaises(MlsError.ApiMisuse) as caught:
            MlsClient.restore(store, EncryptionKey(id=2, key=right))
        self.assertIn("key id 1", caught.exception.reason)
        # Nor is a short key, nor no key on a sealed store.
        with self.assertRaises(MlsError.ApiMisuse) as caught:
            MlsClient.restore(store, EncryptionKey(id=1, key=right[:16]))
        self.assertIn("32 bytes", caught.exception.reason)
        with self.assertRaises(MlsError):
            MlsClient.restore(store, None)

        client = MlsClient.restore(store, EncryptionKey(id=1, key=right))
        self.assertEqual(client.load_group(b"sealed").epoch(), 0)

    def test_plaintext_store_is_not_opened_as_sealed(self):
        store = DictStore()
        MlsClient(b"alice", store, None)
        with self.assertRaises(MlsError.ApiMisuse) as caught:
            MlsClient(b"alice", store, EncryptionKey(id=1, key=bytes(32)))
        self.assertIn("never sealed", caught.exception.reason)


class StorageFailures(unittest.TestCase):
    def test_failed_write_changes_nothing(self):
        alice, bob, _ = three_member_group(self)
        alice.store.fail_next_write = StorageFailure.Failed("disk unavailable")
        with self.assertRaises(MlsError.Storage) as caught:
            alice.group.encrypt(b"lost", b"")
        self.assertEqual(caught.exception.action, ErrorAction.RETRY)
        self.assertIn("disk unavailable", caught.exception.reason)
        # Retried once the store is back: the group was unchanged.
        ct = alice.group.encrypt(b"retried", b"")
        self.assertEqual(bob.group.process(ct).data, b"retried")

        bob.store.fail_next_write = StorageFailure.Failed("disk unavailable")
        update = alice.group.update()
        alice.group.process(update.commit)
        event = bob.group.process(update.commit)
        with self.assertRaises(MlsError.Storage):
            bob.group.merge(event.staged)
        self.assertEqual(bob.group.epoch(), 1)

    def test_unknown_outcome_asks_to_reopen(self):
        alice, bob, _ = three_member_group(self)
        alice.store.fail_next_write = RuntimeError("connection reset")
        with self.assertRaises(MlsError.Storage) as caught:
            alice.group.encrypt(b"maybe", b"")
        self.assertEqual(caught.exception.action, ErrorAction.REOPEN)
        # Refused until reopened, though the store works again.
        with self.assertRaises(MlsError.Storage) as caught:
            alice.group.encrypt(b"still refused", b"")
        self.assertEqual(caught.exception.action, ErrorAction.REOPEN)
        writes = alice.store.writes
        del alice.group, alice.client
        gc.collect()
        client = MlsClient(b"alice", alice.store, None)
        group = client.load_group(b"the group")
        self.assertEqual(bob.group.process(group.encrypt(b"reopened", b"")).data, b"reopened")
        self.assertGreater(alice.store.writes, writes)


if __name__ == "__main__":
    unittest.main()
