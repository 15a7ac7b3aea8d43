#!/usr/bin/env bash
# The SQLite storage against the lowest and the highest rusqlite that
# Cargo.toml accepts, so an application that already depends on one of them
# (one libsqlite3-sys per build: `links = "sqlite3"`) can use arbor-mls.
# Runs the storage tests and the SQLite-backed API tests at each version,
# then puts Cargo.lock back.
set -euo pipefail
cd "$(dirname "$0")/.."

range=$(sed -n 's/^rusqlite = { version = "\([^"]*\)".*/\1/p' Cargo.toml)
lowest=$(sed -n 's/^>=\([0-9.]*\),.*/\1/p' <<<"$range")
highest=${RUSQLITE_HIGHEST:-0.43.0}
[ -n "$lowest" ] || { echo "cannot read the rusqlite range from Cargo.toml ($range)"; exit 1; }
case "$lowest" in *.*.*) ;; *) lowest="$lowest.0" ;; esac

backup=$(mktemp)
cp Cargo.lock "$backup"
trap 'cp "$backup" Cargo.lock; rm -f "$backup"' EXIT

for version in "$lowest" "$highest"; do
  echo "-- rusqlite $version (Cargo.toml: $range)"
  cargo update -p rusqlite --precise "$version"
  cargo test -p arbor-mls --lib storage::
  cargo test -p arbor-mls --test api_edges --test persistence
done
