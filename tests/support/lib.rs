//! Shared support for fbcomet's end-to-end tests: where the fixtures are,
//! the checks every fixture test runs, waiting on a client's events, and
//! what the tests of foreign clients need (a CA, Python, a free port).
//!
//! Set `FBCOMET_BLESS=1` to write what the code produces into the expected
//! files instead of comparing (then read the diff before committing it).

use std::path::{Path, PathBuf};

// The README's code blocks are compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;

use fbcomet::{ClientEvent, Events};
use serde_json::{Value, json};

/// The next event that is not [`ClientEvent::Other`], within 10 s (a
/// panic otherwise, or when the stream ends).
pub async fn next_event(events: &mut Events) -> ClientEvent {
    loop {
        let next = tokio::time::timeout(std::time::Duration::from_secs(10), events.next());
        match next.await.expect("an event in time") {
            Some(ClientEvent::Other(_)) => continue,
            Some(event) => return event,
            None => panic!("the stream ended"),
        }
    }
}

/// A CA of the test binary's own, in a directory of `scratch` (the test's
/// `CARGO_TARGET_TMPDIR`, inside the target directory) named after `name`,
/// created on first use and shared by the binary's tests.
pub fn test_ca(scratch: &str, name: &str) -> std::sync::Arc<fbcomet_mock::tls::Authority> {
    let dir = std::path::Path::new(scratch).join(format!("fbcomet-{name}-ca-{}", std::process::id()));
    fbcomet_mock::tls::Authority::load_or_create(&dir).expect("a CA")
}

/// The Python to run foreign clients with: `FBCOMET_PYTHON` (CI points it
/// at a venv with them installed), else `python3`.
pub fn python() -> String {
    std::env::var("FBCOMET_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

/// A port of 127.0.0.1 free right now, for a server whose address must be
/// known before it starts.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// The workspace's `fixtures/` folder.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

fn blessing() -> bool {
    std::env::var_os("FBCOMET_BLESS").is_some_and(|v| v == "1")
}

fn read_expected(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn write_expected(path: &Path, value: &Value) {
    let mut text = serde_json::to_string_pretty(value).expect("serializable");
    text.push('\n');
    std::fs::write(path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// Checks `fixtures/bodies/{stem}.body` against `{stem}.expected.json`: the
/// decoding, and that encoding it decodes to the same value (and whether
/// the encoding is byte for byte the captured body).
pub fn check_body_fixture(stem: &str) {
    let dir = fixtures_dir().join("bodies");
    let body_path = dir.join(format!("{stem}.body"));
    let expected_path = dir.join(format!("{stem}.expected.json"));
    let bytes = std::fs::read(&body_path).unwrap_or_else(|e| panic!("{}: {e}", body_path.display()));
    let body =
        fbcomet_codec::decode(&bytes).unwrap_or_else(|e| panic!("{}: does not decode: {e}", body_path.display()));
    let decoded = fbcomet_codec::describe(&body);

    let encoded = body.encode();
    let again = fbcomet_codec::decode(&encoded)
        .unwrap_or_else(|e| panic!("{}: its encoding does not decode: {e}", body_path.display()));
    assert_eq!(again, body, "{}: decode(encode(x)) != x", body_path.display());
    let exact = encoded == bytes;

    let mut expected = read_expected(&expected_path);
    if blessing() {
        expected["decoded"] = decoded;
        expected["byte_exact_reencode"] = json!(exact);
        write_expected(&expected_path, &expected);
        return;
    }
    assert_eq!(
        decoded,
        expected["decoded"],
        "{}: decoded differently from {}",
        body_path.display(),
        expected_path.display()
    );
    assert_eq!(
        json!(exact),
        expected["byte_exact_reencode"],
        "{}: byte-exact re-encoding changed (encoded: {})",
        body_path.display(),
        String::from_utf8_lossy(&encoded)
    );
}

/// Checks that `fixtures/malformed/{stem}.body` fails to decode with the
/// error in `{stem}.expected.json`, and that the stream decoder reports an
/// error for it too and then decodes a good frame that follows.
pub fn check_malformed_fixture(stem: &str) {
    let dir = fixtures_dir().join("malformed");
    let body_path = dir.join(format!("{stem}.body"));
    let expected_path = dir.join(format!("{stem}.expected.json"));
    let bytes = std::fs::read(&body_path).unwrap_or_else(|e| panic!("{}: {e}", body_path.display()));
    let err = match fbcomet_codec::decode(&bytes) {
        Ok(body) => panic!("{}: decoded to {body:?}", body_path.display()),
        Err(err) => err,
    };
    let actual = json!({"message": err.to_string(), "offset": err.offset()});

    let mut expected = read_expected(&expected_path);
    if blessing() {
        expected["error"] = actual;
        write_expected(&expected_path, &expected);
    } else {
        assert_eq!(actual, expected["error"], "{}: a different error", body_path.display());
    }

    // In a stream, the bad body is reported (or skipped as junk before a
    // prefix, or waited on when it is cut short), and a good frame after a
    // prefix still comes through last.
    let mut decoder = fbcomet_codec::StreamDecoder::new();
    decoder.push(&bytes);
    decoder.push(b"\r\nfor (;;);{\"t\":\"follows\"}");
    let mut last = None;
    for _ in 0..64 {
        match decoder.next_body() {
            Ok(Some(body)) => last = Some(body.into_owned()),
            Err(_) => {}
            Ok(None) => break,
        }
    }
    if !err.is_truncated() {
        match last {
            Some(fbcomet_codec::Body::Frame(f)) if f.kind_name() == "follows" => {}
            other => panic!("{}: the stream did not recover: {other:?}", body_path.display()),
        }
    }
}

/// The stems of the files in `fixtures/{dir}` ending in `.body`.
pub fn fixture_stems(dir: &str) -> Vec<String> {
    let mut stems: Vec<String> = std::fs::read_dir(fixtures_dir().join(dir))
        .expect("fixtures dir")
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".body").map(str::to_owned)
        })
        .collect();
    stems.sort();
    stems
}
