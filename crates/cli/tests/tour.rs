//! The README's tour, run: every `cargo run -- ...` line of the README, as
//! the built binary. Where a line would bind or reach the fixed port 8008,
//! the test gives it a port of the OS's choosing instead (`--addr
//! 127.0.0.1:0`, `--server` the tour's server); long-running commands get
//! a timeout. Everything else is as written.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use support::readme::commands;

fn workspace() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fbcomet(args: &[String]) -> Command {
    let mut c = support::fbcomet();
    c.args(args).current_dir(workspace());
    c
}

/// Starts a server line with a free port; its `http://ADDR`.
fn start(args: &[String]) -> (Child, String) {
    let mut child = fbcomet(args)
        .args(["--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut first = String::new();
    BufReader::new(child.stdout.as_mut().expect("stdout")).read_line(&mut first).expect("first line");
    let url = first.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("{first:?}")).to_owned();
    (child, url)
}

fn run(mut cmd: Command, stdin: &str) -> Output {
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("stdin");
    child.wait_with_output().expect("wait")
}

fn text(out: &Output) -> String {
    format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn the_readme_tour_runs() {
    // Lines that start a service in the background (`... &`) belong to
    // the sections on fbchat and bots, which their own tests run with the
    // foreign clients; `page` needs a bot.
    let lines: Vec<_> = commands(include_str!("../../../README.md"))
        .into_iter()
        .filter(|(line, args)| !line.ends_with('&') && args[0] != "page")
        .collect();
    let (mut server, url) = {
        let (_, serve) = lines.iter().find(|(_, a)| a[0] == "serve").expect("a serve line");
        start(serve)
    };
    let mut ran = 0;
    // The listener first, so that the send of the tour reaches it.
    let listen = lines.iter().find(|(_, a)| a[0] == "listen").map(|(_, a)| a.clone()).expect("a listen line");
    let listener = fbcomet(&listen)
        .args(["--server", &url, "--timeout", "5s", "--count", "1", "--presence-every", "0s"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("listen");
    std::thread::sleep(Duration::from_millis(500));
    for (line, args) in &lines {
        let out = match args[0].as_str() {
            "serve" => {
                let (mut again, _) = start(args);
                let _ = again.kill();
                let _ = again.wait();
                ran += 1;
                continue;
            }
            "listen" => continue, // started above
            "chat" => run(
                {
                    let mut c = fbcomet(args);
                    c.args(["--server", &url, "--linger", "200ms"]);
                    c
                },
                "/buddies\n/quit\n",
            ),
            "send" | "buddies" => run(
                {
                    let mut c = fbcomet(args);
                    c.args(["--server", &url]);
                    c
                },
                "",
            ),
            "replay" => {
                let mut c = fbcomet(args);
                c.args(["--addr", "127.0.0.1:0", "--timeout", "1s"]);
                let out = run(c, "");
                // Nobody plays the client here: the report says so, strictly.
                assert_eq!(out.status.code(), Some(1), "{line}: {}", text(&out));
                assert!(text(&out).contains("session 2008-login-chat: 0 of"), "{line}: {}", text(&out));
                ran += 1;
                continue;
            }
            _ => run(fbcomet(args), ""),
        };
        assert!(out.status.success(), "README: {line}\n{}", text(&out));
        ran += 1;
    }
    let heard = listener.wait_with_output().expect("listen");
    assert!(heard.status.success(), "listen: {}", text(&heard));
    assert!(String::from_utf8_lossy(&heard.stdout).contains(r#""text":"hi & \"bye\"""#), "{}", text(&heard));
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(ran, lines.len() - 1, "every line but the listener's was run in the loop");
}
