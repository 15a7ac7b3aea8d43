#!/usr/bin/env python3
"""Seeds the fuzz corpora from the official messages.json vectors and the
library's own samples (selector bytes that pick an unmutated sample; see
fuzz/src/lib.rs). Usage: seed_corpus.py MESSAGES_JSON CORPUS_DIR"""
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
