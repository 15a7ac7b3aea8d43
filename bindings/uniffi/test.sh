#!/usr/bin/env bash
# Builds the UniFFI bindings library, generates its Kotlin, Swift and
# Python code, and runs the Python test suite against it.
#
#   bindings/uniffi/test.sh [OUT_DIR]
#
# OUT_DIR (default: target/uniffi-bindings under the cargo target dir)
# receives kotlin/, swift/ and python/; python/ also gets the library, so
# `PYTHONPATH=OUT_DIR/python python3 -c 'import arbor_mls_uniffi'` works.
# Uses `cargo` (CARGO, e.g. `CARGO=cargo-serial`, to override).
set -euo pipefail
cd "$(dirname "$0")/../.."

cargo=${CARGO:-cargo}
target_dir=${CARGO_TARGET_DIR:-$PWD/target}
out=${1:-$target_dir/uniffi-bindings}

echo "-- build the library and uniffi-bindgen"
$cargo build -p arbor-mls-uniffi --lib --bin uniffi-bindgen

case "$(uname -s)" in
  Darwin) lib="$target_dir/debug/libarbor_mls_uniffi.dylib" ;;
  *) lib="$target_dir/debug/libarbor_mls_uniffi.so" ;;
esac
bindgen="$target_dir/debug/uniffi-bindgen"

rm -rf "$out"
for language in kotlin swift python; do
  echo "-- generate $language"
  "$bindgen" generate --library "$lib" --language "$language" --out-dir "$out/$language" --no-format
done
# Kotlin and Swift are generated, not compiled here: check each produced
# its source file.
test -s "$out/kotlin/uniffi/arbor_mls_uniffi/arbor_mls_uniffi.kt"
test -s "$out/swift/arbor_mls_uniffi.swift"
cp "$lib" "$out/python/"

echo "-- Python tests"
PYTHONPATH="$out/python" python3 -m unittest discover -v \
  -s bindings/uniffi/tests/python -p 'test_*.py'
