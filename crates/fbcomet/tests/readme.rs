//! The README's embedding example is `examples/hello.rs` word for word, and
//! it runs against the emulator.

#[allow(dead_code)]
#[path = "../examples/hello.rs"]
mod hello;

/// The example's code between its `README:` markers.
fn example() -> String {
    let source = include_str!("../examples/hello.rs");
    let start = source.find("// README: begin\n").expect("begin marker") + "// README: begin\n".len();
    let end = source.find("// README: end").expect("end marker");
    source[start..end].to_owned()
}

#[test]
fn the_readme_shows_the_example_as_it_is() {
    let readme = include_str!("../../../README.md");
    assert!(
        readme.contains(&example()),
        "README.md's embedding example differs from examples/hello.rs:\n{}",
        example()
    );
}

#[tokio::test]
async fn the_example_runs_against_the_emulator() {
    let server = fbcomet_mock::EmulatorServer::start(&fbcomet_mock::World::default(), Default::default())
        .await
        .expect("the emulator");
    let line = tokio::time::timeout(std::time::Duration::from_secs(20), hello::hello(server.url().parse().unwrap()))
        .await
        .expect("in time")
        .expect("hello runs");
    assert_eq!(line, "Alice Example: hi Bob & all \u{1F600}");
    server.shutdown().await;
}
