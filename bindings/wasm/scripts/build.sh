#!/usr/bin/env bash
# Builds the JavaScript package from the crate:
#   pkg/web   ES module for browsers and bundlers (init with the .wasm URL)
#   pkg/node  CommonJS module for Node.js (the tests load this one)
# in the size-optimised profile `wasm-release` (Cargo.toml at the root),
# then shrinks each .wasm with binaryen's wasm-opt -Oz (npm devDependency;
# skipped with a note when node_modules lacks it: run `npm ci` first).
#
#   scripts/build.sh              the package
#   scripts/build.sh --vectors    with the vector runners, for tests
#
# Needs the wasm32-unknown-unknown target and wasm-bindgen-cli of exactly
# the crate's wasm-bindgen version (.ci/run installs both). CARGO names the
# cargo to run (default: cargo).
set -euo pipefail
cd "$(dirname "$0")/.."
features=()
[ "${1:-}" = "--vectors" ] && features=(--features vectors)

"${CARGO:-cargo}" build -p arbor-mls-wasm --lib --target wasm32-unknown-unknown \
  --profile wasm-release "${features[@]}"
target_dir=${CARGO_TARGET_DIR:-../../target}
wasm="$target_dir/wasm32-unknown-unknown/wasm-release/arbor_mls_wasm.wasm"

wasm_opt=node_modules/.bin/wasm-opt
for kind in node web; do
  case $kind in node) js_target=nodejs module=commonjs ;; web) js_target=web module=module ;; esac
  rm -rf "pkg/$kind"
  wasm-bindgen --target "$js_target" --out-dir "pkg/$kind" "$wasm"
  # The folder's own module kind, whatever the enclosing package says.
  echo "{ \"type\": \"$module\" }" >"pkg/$kind/package.json"
  if [ -x "$wasm_opt" ]; then
    "$wasm_opt" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
      --enable-sign-ext --enable-mutable-globals --enable-reference-types \
      --enable-multivalue "pkg/$kind/arbor_mls_wasm_bg.wasm" \
      -o "pkg/$kind/arbor_mls_wasm_bg.wasm"
  else
    echo "note: $wasm_opt not found (npm ci): pkg/$kind is not wasm-opt'ed"
  fi
done
ls -l pkg/*/arbor_mls_wasm_bg.wasm
