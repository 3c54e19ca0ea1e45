//! Writes the benchmarks' realistic mix, one body per line:
//! `cargo run --release -p fbcomet-codec --example corpus -- 100000 > corpus.txt`

use std::io::{self, Write};

#[path = "../benches/corpus.rs"]
mod corpus;

fn main() -> io::Result<()> {
    let n = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(100_000);
    let seed = std::env::args().nth(2).and_then(|s| s.parse().ok()).unwrap_or(2008);
    let mut out = io::BufWriter::new(io::stdout().lock());
    for body in corpus::corpus(n, seed) {
        out.write_all(&body)?;
        out.write_all(b"\n")?;
    }
    out.flush()
}
