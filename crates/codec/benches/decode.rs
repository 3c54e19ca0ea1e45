//! Decoding throughput: the captured fixture bodies, and a generated corpus
//! of the realistic mix the issue on benchmarks describes, each beside
//! serde_json parsing the same JSON into a `Value` (the baseline).
//!
//! `cargo bench -p fbcomet-codec --bench decode`

use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

mod corpus;
use corpus::corpus;

fn fixture_bodies() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/bodies");
    let mut bodies: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .expect("fixtures/bodies")
        .filter_map(|e| {
            let path = e.ok()?.path();
            (path.extension()? == "body").then(|| std::fs::read(path).ok())?
        })
        .collect();
    bodies.sort();
    bodies
}

fn bench_set(c: &mut Criterion, name: &str, bodies: &[Vec<u8>]) {
    let bytes: usize = bodies.iter().map(Vec::len).sum();
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("fbcomet typed", |b| {
        b.iter(|| {
            for body in bodies {
                std::hint::black_box(fbcomet_codec::decode(body).expect("decodes"));
            }
        })
    });
    group.bench_function("serde_json Value", |b| {
        b.iter(|| {
            for body in bodies {
                let json = fbcomet_codec::strip_prefix(body).expect("prefixed");
                std::hint::black_box(serde_json::from_slice::<serde_json::Value>(json).expect("json"));
            }
        })
    });
    group.finish();
    let mut elements = c.benchmark_group(format!("{name} (bodies)"));
    elements.throughput(Throughput::Elements(bodies.len() as u64));
    elements.bench_function("fbcomet typed", |b| {
        b.iter(|| {
            for body in bodies {
                std::hint::black_box(fbcomet_codec::decode(body).expect("decodes"));
            }
        })
    });
    elements.finish();
}

fn benches(c: &mut Criterion) {
    bench_set(c, "fixtures", &fixture_bodies());
    let mix = corpus(2000, 2008);
    bench_set(c, "realistic mix", &mix);
    // The mix by kind, to see where the time goes.
    let is = |needle: &'static str| move |b: &&Vec<u8>| b.windows(needle.len()).any(|w| w == needle.as_bytes());
    let lists: Vec<Vec<u8>> = mix.iter().filter(is("buddy_list")).cloned().collect();
    let messages: Vec<Vec<u8>> = mix.iter().filter(is("\"type\":\"msg\"")).cloned().collect();
    bench_set(c, "buddy lists", &lists);
    bench_set(c, "message frames", &messages);
}

criterion_group!(decode, benches);
criterion_main!(decode);
