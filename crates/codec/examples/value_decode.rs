//! The baseline of the decode comparison: each line's prefix cut off and the
//! JSON parsed into a `serde_json::Value`, as a generic client would.
//! `cargo run --release -p fbcomet-codec --example value_decode -- corpus.txt`

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader};

fn main() -> io::Result<()> {
    let path = std::env::args().nth(1).unwrap_or_else(|| "corpus.txt".to_owned());
    let mut reader = BufReader::with_capacity(1 << 20, std::fs::File::open(path)?);
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    let mut line = Vec::new();
    while reader.read_until(b'\n', &mut line)? > 0 {
        if let Ok(json) = fbcomet_codec::strip_prefix(&line)
            && let Ok(value) = serde_json::from_slice::<serde_json::Value>(json)
        {
            let kind = match (value.get("t").and_then(|t| t.as_str()), value.get("error").and_then(|e| e.as_i64())) {
                (Some(t), _) => t.to_owned(),
                (None, Some(0)) => "envelope".to_owned(),
                _ => "error".to_owned(),
            };
            *kinds.entry(kind).or_default() += 1;
        }
        line.clear();
    }
    println!("{} bodies: {kinds:?}", kinds.values().sum::<usize>());
    Ok(())
}
