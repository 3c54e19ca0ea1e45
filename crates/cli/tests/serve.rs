//! `fbcomet serve` and `fbcomet record`, run as processes.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;

use support::start;

fn curl_available() -> bool {
    Command::new("curl").arg("--version").output().is_ok_and(|o| o.status.success())
}

fn curl(args: &[&str]) -> String {
    let out = Command::new("curl").args(["-s", "--max-time", "10"]).args(args).output().expect("curl");
    assert!(out.status.success(), "curl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn between<'a>(text: &'a str, before: &str, after: &str) -> &'a str {
    let start = text.find(before).map(|i| i + before.len()).unwrap_or_else(|| panic!("{before:?} in {text}"));
    let end = text[start..].find(after).map(|i| start + i).expect("the end");
    &text[start..end]
}

#[test]
fn an_old_client_through_the_proxy_with_curl() {
    if !curl_available() {
        eprintln!("curl is not installed: skipping the curl-driven test (.ci/run installs it)");
        return;
    }
    let (mut child, addr) = start(&["serve", "--addr", "127.0.0.1:0", "--hold", "300ms"]);
    let proxy = format!("http://{addr}");
    let jar =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("fbcomet-curl-jar-{}", std::process::id()));
    let jar = jar.to_string_lossy().into_owned();

    let login = curl(&[
        "-x",
        &proxy,
        "-c",
        &jar,
        "-D",
        "-",
        "-d",
        "email=alice@example.com",
        "-d",
        "pass=alice",
        "http://www.facebook.com/login.php",
    ]);
    assert!(login.starts_with("HTTP/1.1 302"), "{login}");
    assert!(login.to_lowercase().contains("set-cookie: c_user=1001"), "{login}");
    let home = curl(&["-x", &proxy, "-b", &jar, "http://www.facebook.com/home.php"]);
    assert!(home.contains(r#"class="profile_nav_link""#) && home.contains(r#""channel07""#), "{home}");
    let token = between(&home, r#"name="post_form_id" value=""#, "\"").to_owned();

    let refresh = curl(&["-x", &proxy, "-b", &jar, "http://0.channel07.facebook.com/x/1209557234/false/p_1001=-1"]);
    assert_eq!(refresh, r#"for (;;);{"t":"refresh","seq":0}"#);
    let list = curl(&[
        "-x",
        &proxy,
        "-b",
        &jar,
        "-d",
        "buddy_list=1",
        "-d",
        "force_render=true",
        "-d",
        &format!("post_form_id={token}"),
        "-d",
        "user=1001",
        "http://www.facebook.com/ajax/presence/update.php",
    ]);
    assert!(list.starts_with(r#"for (;;);{"error":0,"#) && list.contains("Bob Example"), "{list}");
    let offline = curl(&[
        "-x",
        &proxy,
        "-b",
        &jar,
        "-d",
        "msg_text=hi",
        "-d",
        "to=1002",
        "-d",
        &format!("post_form_id={token}"),
        "http://www.facebook.com/ajax/chat/send.php",
    ]);
    assert!(offline.contains(r#""error":1356003"#), "{offline}");
    let held = curl(&["-x", &proxy, "-b", &jar, "http://0.channel07.facebook.com/x/1/false/p_1001=0"]);
    assert_eq!(held, r#"for (;;);{"t":"continue"}"#);
    // Plain form reaches the same service.
    let page = curl(&[&format!("http://{addr}/login.php")]);
    assert!(page.contains(r#"name="pass""#));

    let _ = std::fs::remove_file(&jar);
    child.kill().expect("kill");
    let _ = child.wait();
}

/// One request over a fresh connection, the whole answer back.
fn http(addr: &str, request: &str) -> String {
    let mut tcp = TcpStream::connect(addr).expect("connect");
    tcp.write_all(request.as_bytes()).expect("write");
    let mut answer = Vec::new();
    let _ = tcp.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

#[test]
fn record_then_replay_from_the_command_line() {
    let (mut serve, upstream) = start(&["serve", "--addr", "127.0.0.1:0", "--hold", "200ms"]);
    let out =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("fbcomet-recorded-{}.json", std::process::id()));
    let out_arg = out.to_string_lossy().into_owned();
    let (record, addr) = start(&[
        "record",
        "--upstream",
        &format!("http://{upstream}"),
        "--addr",
        "127.0.0.1:0",
        "--out",
        &out_arg,
        "--timeout",
        "1500ms",
    ]);

    let form = "email=carol%40example.com&pass=carol";
    let login = http(
        &addr,
        &format!(
            "POST /login.php HTTP/1.1\r\nHost: www.facebook.com\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
            form.len()
        ),
    );
    assert!(login.starts_with("HTTP/1.1 302"), "{login}");
    let cookies: Vec<String> = login
        .lines()
        .filter_map(|l| l.strip_prefix("set-cookie: "))
        .map(|c| c.split(';').next().unwrap_or_default().to_owned())
        .collect();
    let cookie = cookies.join("; ");
    let home = http(
        &addr,
        &format!(
            "GET http://www.facebook.com/home.php HTTP/1.1\r\nHost: www.facebook.com\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
        ),
    );
    assert!(home.contains("channel09"), "{home}");
    let poll = http(
        &addr,
        &format!(
            "GET /x/5/false/p_1003=-1 HTTP/1.1\r\nHost: 0.channel09.facebook.com\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
        ),
    );
    assert!(poll.ends_with(r#"for (;;);{"t":"refresh","seq":0}"#), "{poll}");

    let finished = record.wait_with_output().expect("record ends at its timeout");
    assert!(finished.status.success(), "{}", String::from_utf8_lossy(&finished.stderr));
    assert!(String::from_utf8_lossy(&finished.stdout).contains("recorded 3 exchanges to"));
    let session: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("written")).expect("json");
    assert_eq!((session["uid"].as_u64(), session["channel"].as_u64()), (Some(1003), Some(9)));
    serve.kill().expect("kill");
    let _ = serve.wait();

    // The recording replays.
    let (replay, addr) = start(&["replay", &out_arg, "--speed", "0", "--timeout", "5s"]);
    let again = http(
        &addr,
        &format!(
            "POST /login.php HTTP/1.1\r\nHost: www.facebook.com\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
            form.len()
        ),
    );
    assert!(again.starts_with("HTTP/1.1 302"), "{again}");
    let home_again = http(&addr, "GET /home.php HTTP/1.1\r\nHost: www.facebook.com\r\nConnection: close\r\n\r\n");
    assert!(home_again.contains("channel09"));
    let poll_again = http(
        &addr,
        "GET /x/77/false/p_1003=-1 HTTP/1.1\r\nHost: 0.channel09.facebook.com\r\nConnection: close\r\n\r\n",
    );
    assert!(poll_again.ends_with(r#"for (;;);{"t":"refresh","seq":0}"#), "{poll_again}");
    let done = replay.wait_with_output().expect("replay ends when every exchange was answered");
    assert_eq!(done.status.code(), Some(0), "{}", String::from_utf8_lossy(&done.stdout));
    let _ = std::fs::remove_file(&out);
}

#[test]
fn a_bad_world_is_a_clear_error() {
    let bad = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("fbcomet-bad-world-{}.json", std::process::id()));
    std::fs::write(&bad, r#"{"users": [], "friendships": [[1, 2]]}"#).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_fbcomet")).args(["serve", "--world"]).arg(&bad).output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("names uid 1, who is not a user"));
    let out = Command::new(env!("CARGO_BIN_EXE_fbcomet")).args(["serve", "--hold", "forever"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(env!("CARGO_BIN_EXE_fbcomet"))
        .args(["record", "--upstream", "https://x", "--out", "/tmp/x.json"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let _ = std::fs::remove_file(&bad);
}

#[test]
fn record_finds_a_bad_out_and_a_down_upstream_at_the_start() {
    use std::process::Stdio;
    // An --out in a folder that does not exist: refused before serving.
    let out = support::fbcomet()
        .args([
            "record",
            "--upstream",
            "http://127.0.0.1:9",
            "--addr",
            "127.0.0.1:0",
            "--out",
            "/nonexistent/dir/s.json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("record");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot write /nonexistent/dir/s.json"), "{out:?}");
    assert!(out.stdout.is_empty(), "nothing served");
    // An upstream nobody listens on (a port just freed).
    let free = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr");
    let file =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("fbcomet-record-{}.json", std::process::id()));
    let out = support::fbcomet()
        .args(["record", "--upstream", &format!("http://{free}"), "--addr", "127.0.0.1:0", "--out"])
        .arg(&file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("record");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&format!("cannot reach the upstream http://{free}/")),
        "{out:?}"
    );
    let _ = std::fs::remove_file(&file);
}

#[test]
fn serve_prints_each_pages_webhook_state_and_page_talks_to_it() {
    let dead_port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let world = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("fbcomet-cli-page-world-{}.json", std::process::id()));
    let text = format!(
        r#"{{"users":[{{"uid":1001,"name":"Alice Example","first_name":"Alice","email":"alice@example.com","password":"alice","channel":7}}],
            "pages":[{{"id":2001,"name":"Roger \u001b[31mBot","access_token":"PAGE_TOKEN","webhook":"http://127.0.0.1:{dead_port}/","verify_token":"VERIFY"}}]}}"#
    );
    std::fs::write(&world, text).expect("world");
    let (serve, lines) =
        support::start_until(&["serve", "--hold", "1s", "--world", &world.to_string_lossy()], "page: ");
    let server = support::listening(&lines);
    let page_line = lines.last().expect("the page line");
    assert!(page_line.contains("(2001)") && page_line.contains("\\u{1b}"), "names are printed escaped: {page_line}");
    // No bot listens: the answer never comes (exit 3), and the server says why.
    let out = support::fbcomet()
        .args(["page", "send", "2001", "--server", &server, "--email", "alice@example.com", "--password", "alice"])
        .args(["--text", "anyone?", "--timeout", "2s"])
        .output()
        .expect("page");
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("sent to page 2001"));
    let out = support::fbcomet().args(["page", "verify", "2001", "--server", &server]).output().expect("verify");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = support::fbcomet().args(["page", "verify", "2999", "--server", &server]).output().expect("verify");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no page 2999"), "{}", String::from_utf8_lossy(&out.stderr));
    drop(serve);
    let _ = std::fs::remove_file(&world);
}
