#!/usr/bin/env bash
# Decoding a capture dump as a whole process: fbcomet decode --lines beside
# the peers' decoders and a serde_json Value baseline, on the same corpus.
# Installs hyperfine and ruby from Debian's packages if they are missing.
#   bash benchmarks/decode.sh [LINES]
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-100000}
for tool in hyperfine ruby; do
  command -v "$tool" >/dev/null || { apt-get update -qq && apt-get install -y -qq "$tool" >/dev/null; } || true
done
cargo build -q --release -p fbcomet-cli
cargo build -q --release -p fbcomet-codec --examples
corpus=target/bench-corpus.txt
target/release/examples/corpus "$lines" > "$corpus"
echo "corpus: $lines bodies, $(du -m "$corpus" | cut -f1) MiB"
runs=(-n "fbcomet decode --lines" "target/release/fbcomet decode --lines $corpus"
      -n "serde_json Value (Rust)" "target/release/examples/value_decode $corpus"
      -n "fbchat (Python json)" "python3 benchmarks/peers/fbchat_decode.py $corpus")
command -v ruby >/dev/null && runs+=(-n "2008 Ruby client (regex + JSON.parse)" "ruby benchmarks/peers/ruby_decode.rb $corpus")
hyperfine --warmup 1 --runs 5 --export-markdown target/bench-decode.md "${runs[@]}"
cat target/bench-decode.md
