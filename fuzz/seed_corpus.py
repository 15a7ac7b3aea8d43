#!/usr/bin/env python3
"""Seeds the fuzz corpora from the official messages.json vectors, the
library's own samples (selector bytes that pick an unmutated sample; see
fuzz/src/lib.rs), scripts for the stateful targets (fuzz/src/script.rs)
and the inputs kept in fuzz/regressions/<target>/.
Usage: seed_corpus.py MESSAGES_JSON CORPUS_DIR"""
import json
import os
import sys

vectors, out = sys.argv[1], sys.argv[2]
cases = json.load(open(vectors)) if os.path.exists(vectors) else []


def put(target, name, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


MESSAGE_FIELDS = ["mls_welcome", "mls_group_info", "mls_key_package",
                  "public_message_application", "public_message_proposal",
                  "public_message_commit", "private_message"]
for i, case in enumerate(cases[:50]):
    for field in MESSAGE_FIELDS:
        raw = bytes.fromhex(case[field])
        put("decode_message", f"{field}-{i}", raw)
        put("process_member", f"{field}-{i}", b"\x00" + raw)
    # Inside an MLSMessage: version (2 bytes) and wire format (2 bytes).
    put("decode_key_package", f"v-{i}", bytes.fromhex(case["mls_key_package"])[4:])
    put("decode_welcome", f"v-{i}", bytes.fromhex(case["mls_welcome"])[4:])
    put("decode_group_info", f"v-{i}", bytes.fromhex(case["mls_group_info"])[4:])
    put("join_welcome", f"v-{i}", b"\x00" + bytes.fromhex(case["mls_welcome"]))
    put("external_join", f"v-{i}", b"\x00" + bytes.fromhex(case["mls_group_info"]))
    put("decode_tree", f"v-{i}", bytes.fromhex(case["ratchet_tree"]))
    for field in ["add_proposal", "update_proposal", "remove_proposal",
                  "pre_shared_key_proposal", "re_init_proposal",
                  "group_context_extensions_proposal"]:
        put("member_semantics", f"{field}-{i}", b"\x00\x00" + bytes.fromhex(case[field]))
    put("member_semantics", f"commit-{i}", b"\x01\x00" + bytes.fromhex(case["commit"]))

# The library's own samples, unmutated: selector k picks sample k-1.
for k in range(1, 7):
    put("process_member", f"own-{k}", bytes([k]))
put("join_welcome", "own", b"\x01")
put("external_join", "own", b"\x01")
for k in range(1, 4):
    put("member_semantics", f"own-proposal-{k}", bytes([0, k]))
for k in range(1, 3):
    put("member_semantics", f"own-commit-{k}", bytes([1, k]))

# Scripts for member_merge and observer: steps of (operation, payload
# length, payload). Operations 0-8 are Bob's messages (script.rs: 0 update,
# 1 commit of his cached proposals, 2 a sample proposal by value, 3-6
# proposals, 7 application, 8 a sample framed as his), 9 Alice commits
# (member_merge) or Bob uploads a GroupInfo (observer), 10 and 11 reload.


def step(op, payload=b""):
    return bytes([op, len(payload)]) + payload


SCRIPTS = {
    "update": step(0),
    "two-updates": step(0) + step(0) + step(7),
    "propose-update-commit": step(3) + step(1),
    "propose-remove-commit": step(4, b"\x02") + step(1),
    "propose-add-commit": step(5) + step(1),
    "psk-commit": step(6, b"\x00") + step(1),
    "resumption-psk-commit": step(6, b"\x01") + step(1),
    "extensions-commit": step(6, b"\x02ext") + step(1),
    "reinit-commit": step(6, b"\x03") + step(1),
    "application": step(7) + step(0) + step(7),
    "receiver-commits": step(3) + step(9) + step(7),
    "group-info": step(9, b"\x01") + step(0) + step(9),
    "reloads": step(3) + step(10) + step(11) + step(1) + step(10),
    "changed-in-transit": step(3, b"\x10\x00\x01") + step(0, b"\x20\x00\x80"),
}
for k in range(1, 8):
    # A sample proposal by value (flags 0: no cached ones, no forced path)
    # and framed as Bob's.
    SCRIPTS[f"by-value-{k}"] = step(2, bytes([0, k])) + step(7)
    SCRIPTS[f"framed-proposal-{k}"] = step(8, bytes([0, k])) + step(1)
for k in range(1, 4):
    SCRIPTS[f"framed-commit-{k}"] = step(8, bytes([1, k]))
for target in ["member_merge", "observer"]:
    for name, data in SCRIPTS.items():
        put(target, name, data)

# stored_records: each operation byte picks a record and a change (value
# edit, key edit, delete, replace; see the target); one byte flipped.
put("stored_records", "unchanged", b"")
for op in range(256):
    put("stored_records", f"op-{op}", step(op, b"\x08\x00\x01"))

# Inputs that found bugs: kept so every run starts from them.
regressions = os.path.join(os.path.dirname(os.path.abspath(__file__)), "regressions")
if os.path.isdir(regressions):
    for target in os.listdir(regressions):
        for name in os.listdir(os.path.join(regressions, target)):
            put(target, name, open(os.path.join(regressions, target, name), "rb").read())
