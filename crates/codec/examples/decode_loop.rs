//! Decodes the benchmark corpus in a loop, for profilers:
//! `valgrind --tool=callgrind target/release/examples/decode_loop 2000 5`

#[path = "../benches/corpus.rs"]
mod corpus;

fn main() {
    let n = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(2000);
    let rounds = std::env::args().nth(2).and_then(|n| n.parse().ok()).unwrap_or(5);
    let bodies = corpus::corpus(n, 2008);
    let mut events = 0;
    for _ in 0..rounds {
        for body in &bodies {
            if let Ok(fbcomet_codec::Body::Frame(f)) = fbcomet_codec::decode(body) {
                events += f.events().len();
            }
        }
    }
    println!("{events} events");
}
