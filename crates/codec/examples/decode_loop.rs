//! Decodes the benchmark corpus in a loop, for profilers:
//! `valgrind --tool=callgrind target/release/examples/decode_loop 2000 5`
//!
//! Arguments: bodies, rounds, then what decodes them (`typed`, the
//! default; `general`, the decoder without its fast path; `value`,
//! serde_json into a `Value`) and which bodies (`all` of the mix, the
//! default; `msg`, its message frames; `buddy`, its buddy lists;
//! `fixtures`, the captured bodies of `fixtures/bodies`, `n` ignored).
//! Instruction counts of two runs compare decoders where wall time is too
//! noisy to.

#[path = "../benches/corpus.rs"]
mod corpus;

fn main() {
    let arg = |i: usize| std::env::args().nth(i);
    let n = arg(1).and_then(|n| n.parse().ok()).unwrap_or(2000);
    let rounds = arg(2).and_then(|n| n.parse().ok()).unwrap_or(5);
    let decoder = arg(3).unwrap_or_else(|| "typed".to_owned());
    let subset = arg(4).unwrap_or_else(|| "all".to_owned());
    let needle: &[u8] = match subset.as_str() {
        "msg" => b"\"type\":\"msg\"",
        "buddy" => b"buddy_list",
        _ => b"",
    };
    let bodies: Vec<Vec<u8>> = if subset == "fixtures" {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/bodies");
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .expect("fixtures/bodies")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "body"))
            .collect();
        paths.sort();
        paths.iter().map(|p| std::fs::read(p).expect("a fixture body")).collect()
    } else {
        corpus::corpus(n, 2008)
            .into_iter()
            .filter(|b| needle.is_empty() || b.windows(needle.len()).any(|w| w == needle))
            .collect()
    };
    let mut count = 0usize;
    for _ in 0..rounds {
        for body in &bodies {
            count += match decoder.as_str() {
                "value" => fbcomet_codec::strip_prefix(body)
                    .ok()
                    .and_then(|json| serde_json::from_slice::<serde_json::Value>(json).ok())
                    .is_some() as usize,
                "general" => fbcomet_codec::decode_general(body).is_ok() as usize,
                _ => fbcomet_codec::decode(body).is_ok() as usize,
            };
        }
    }
    println!("{count} bodies decoded ({decoder}, {subset})");
}
