//! HTTPS from the command line: curl and Python's requests, unchanged,
//! through `fbcomet serve` as their HTTPS proxy with fbcomet's CA trusted;
//! fbcomet's own client over https; a session recorded over TLS replays
//! over TLS. A test that needs a foreign client says loudly when it skips.

mod support;

use std::path::PathBuf;
use std::process::Command;

use support::{ca_dir, fbcomet, have, listening, python, start_until as start};

fn curl(ca: &str, proxy: &str, args: &[&str]) -> String {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "20", "--cacert", ca, "-x", proxy])
        .args(args)
        .output()
        .expect("curl");
    assert!(out.status.success(), "curl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn curl_logs_in_and_polls_over_https_through_the_proxy() {
    if !have("curl", &["--version"]) {
        eprintln!(
            "SKIPPED curl_logs_in_and_polls_over_https_through_the_proxy: curl is not installed (.ci/run installs it)"
        );
        return;
    }
    let dir = ca_dir("curl");
    let (_serve, lines) = start(&["serve", "--hold", "1s", "--ca-dir", &dir.to_string_lossy()], "users:");
    let proxy = listening(&lines);
    let ca = dir.join("ca.pem").to_string_lossy().into_owned();
    let jar = dir.join("jar").to_string_lossy().into_owned();
    let login = curl(
        &ca,
        &proxy,
        &[
            "-c",
            &jar,
            "-d",
            "email=alice@example.com",
            "-d",
            "pass=alice",
            "-w",
            "%{http_code}",
            "-o",
            "/dev/null",
            "https://www.facebook.com/login.php",
        ],
    );
    assert_eq!(login, "302");
    let home = curl(&ca, &proxy, &["-b", &jar, "https://www.facebook.com/home.php"]);
    assert!(home.contains("\"channel07\""), "{home}");
    let poll = curl(&ca, &proxy, &["-b", &jar, "https://0.channel07.facebook.com/x/0/false/p_1001=-1"]);
    assert_eq!(poll, r#"for (;;);{"t":"refresh","seq":0}"#);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn python_requests_logs_in_and_polls_with_https_proxy_and_the_ca_bundle() {
    let python = python();
    if !have(&python, &["-c", "import requests"]) {
        eprintln!(
            "SKIPPED python_requests_logs_in_and_polls_with_https_proxy_and_the_ca_bundle: {python} has no requests \
             (.ci/run installs it in a venv and sets FBCOMET_PYTHON)"
        );
        return;
    }
    let dir = ca_dir("requests");
    let (_serve, lines) = start(&["serve", "--hold", "1s", "--ca-dir", &dir.to_string_lossy()], "users:");
    let proxy = listening(&lines);
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/https/requests_login.py");
    let out = Command::new(&python)
        .arg(&script)
        .args(["alice@example.com", "alice"])
        .env("HTTPS_PROXY", &proxy)
        .env("REQUESTS_CA_BUNDLE", dir.join("ca.pem"))
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .output()
        .expect("python");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(got["login_status"], 200, "{got}");
    assert_eq!(got["final_url"], "https://www.facebook.com/home.php", "{got}");
    assert_eq!((got["uid"].as_str(), got["channel"].as_str()), (Some("1001"), Some("07")), "{got}");
    assert_eq!(got["poll"], r#"for (;;);{"t":"refresh","seq":0}"#);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fbcomet_itself_over_https_straight_and_a_bad_ca_dir_is_an_error() {
    let dir = ca_dir("direct");
    let ca_dir_arg = dir.to_string_lossy().into_owned();
    let (_serve, lines) =
        start(&["serve", "--hold", "1s", "--ca-dir", &ca_dir_arg, "--tls-addr", "127.0.0.1:0"], "users:");
    let https = lines.iter().find_map(|l| l.strip_prefix("https on ")).expect("the TLS listener").to_owned();
    let ca = dir.join("ca.pem").to_string_lossy().into_owned();
    let out = fbcomet()
        .args(["buddies", "--server", &https, "--cacert", &ca, "--email", "carol@example.com", "--password", "carol"])
        .output()
        .expect("buddies");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Alice Example"));
    // Without the CA, the certificate is refused.
    let out = fbcomet()
        .args(["buddies", "--server", &https, "--email", "carol@example.com", "--password", "carol"])
        .output()
        .expect("buddies");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("certificate"), "{}", String::from_utf8_lossy(&out.stderr));
    // A CA key others may read: an error before anything is served.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.join("ca-key.pem"), std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let out = fbcomet().args(["serve", "--addr", "127.0.0.1:0", "--ca-dir", &ca_dir_arg]).output().expect("serve");
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("readable by others"));
        assert!(out.stdout.is_empty(), "nothing served");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_session_recorded_over_tls_replays_over_tls() {
    if !have("curl", &["--version"]) {
        eprintln!("SKIPPED a_session_recorded_over_tls_replays_over_tls: curl is not installed (.ci/run installs it)");
        return;
    }
    let dir = ca_dir("record");
    let ca_dir_arg = dir.to_string_lossy().into_owned();
    let ca = dir.join("ca.pem").to_string_lossy().into_owned();
    let (_serve, lines) = start(&["serve", "--hold", "1s", "--ca-dir", &ca_dir_arg], "users:");
    let upstream = listening(&lines);
    let session = dir.join("over-tls.json");
    let (mut record, lines) = start(
        &[
            "record",
            "--upstream",
            &upstream,
            "--out",
            &session.to_string_lossy(),
            "--ca-dir",
            &ca_dir_arg,
            "--timeout",
            "3s",
        ],
        "listening on",
    );
    let proxy = listening(&lines);
    let page = curl(&ca, &proxy, &["https://www.facebook.com/login.php"]);
    assert!(page.contains("name=\"email\""), "{page}");
    assert!(record.0.wait().expect("record ends").success());
    let recorded = std::fs::read_to_string(&session).expect("the session");
    assert!(recorded.contains("\"host\": \"www.facebook.com\""), "{recorded}");

    let (replay, lines) =
        start(&["replay", &session.to_string_lossy(), "--speed", "0", "--ca-dir", &ca_dir_arg], "listening on");
    let proxy = listening(&lines);
    assert_eq!(curl(&ca, &proxy, &["https://www.facebook.com/login.php"]), page, "the same page, over TLS again");
    let mut replay = replay;
    let status = replay.0.wait().expect("replay ends");
    assert!(status.success(), "every exchange used: a clean report");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn node_accepts_the_certificates_and_fbcomet_ca_prints_what_to_trust() {
    let dir = ca_dir("node");
    let ca_dir_arg = dir.to_string_lossy().into_owned();
    let path = fbcomet().args(["ca", "--ca-dir", &ca_dir_arg, "--path"]).output().expect("ca");
    assert_eq!(String::from_utf8_lossy(&path.stdout).trim(), dir.join("ca.pem").to_string_lossy());
    let pem = fbcomet().args(["ca", "--ca-dir", &ca_dir_arg, "--pem"]).output().expect("ca");
    assert!(String::from_utf8_lossy(&pem.stdout).starts_with("-----BEGIN CERTIFICATE-----"));
    let guide = fbcomet().args(["ca", "--ca-dir", &ca_dir_arg]).output().expect("ca");
    let guide = String::from_utf8_lossy(&guide.stdout);
    assert!(
        ["HTTPS_PROXY", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS"].iter().all(|v| guide.contains(v)),
        "{guide}"
    );

    if !have("node", &["--version"]) {
        eprintln!("SKIPPED the Node part of node_accepts_the_certificates: node is not installed");
        return;
    }
    let (_serve, lines) = start(&["serve", "--ca-dir", &ca_dir_arg, "--tls-addr", "127.0.0.1:0"], "users:");
    let https = lines.iter().find_map(|l| l.strip_prefix("https on https://")).expect("the TLS listener").to_owned();
    let (host, port) = https.rsplit_once(':').expect("host:port");
    // Node's own TLS, trusting the CA through NODE_EXTRA_CA_CERTS, asking
    // for www.facebook.com by SNI.
    let script = format!(
        "require('https').get({{host:'{host}',port:{port},servername:'www.facebook.com',path:'/login.php',headers:{{Host:'www.facebook.com'}}}},\
         r=>{{let b='';r.on('data',d=>b+=d);r.on('end',()=>{{console.log(r.statusCode, b.includes('name=\"email\"'))}})}})\
         .on('error',e=>{{console.error(e.message);process.exit(1)}})"
    );
    let out = Command::new("node")
        .args(["-e", &script])
        .env("NODE_EXTRA_CA_CERTS", dir.join("ca.pem"))
        .output()
        .expect("node");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "200 true");
    let _ = std::fs::remove_dir_all(&dir);
}
