//! The sender and the login against fbcomet's replay server (strict: every
//! request must match what the session recorded, form fields included).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use fbcomet_http::{HttpClient, HttpConfig};
use fbcomet_mock::{
    Dialect, Exchange, Fault, Handler, Recording, ReplayConfig, ReplayServer, Reply, Request, RequestSpec,
    ResponseSpec, Server, ServerConfig,
};
use fbcomet_sender::{Error, LoginError, SavedSession, Sender, SenderConfig, login};
use url::Url;

const PFID: &str = "3414c0f2db19233221ad8c2374398ed6";
const OK: &str = r#"for (;;);{"error":0,"errorSummary":"","errorDescription":"No error.","payload":[]}"#;

fn load(name: &str) -> Recording {
    Recording::load(format!("{}/../../fixtures/sessions/{name}.json", env!("CARGO_MANIFEST_DIR"))).expect("a session")
}

fn www_only(session: &Recording) -> Recording {
    let exchanges = session
        .exchanges
        .iter()
        .filter(|e| fbcomet_mock::stream_of(e.request.host.as_deref(), &e.request.path) == fbcomet_mock::Stream::Www)
        .cloned()
        .collect();
    Recording { exchanges, ..session.clone() }
}

fn exchange(
    method: &str,
    path: &str,
    form: &[(&str, &str)],
    status: u16,
    headers: &[(&str, &str)],
    body: &str,
) -> Exchange {
    Exchange {
        note: String::new(),
        request: RequestSpec {
            method: method.into(),
            host: Some("www.facebook.com".into()),
            path: path.into(),
            headers: Vec::new(),
            form: form.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect(),
        },
        response: ResponseSpec {
            status,
            headers: headers.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect(),
            body: body.into(),
            hold_ms: 0,
            chunks: Vec::new(),
            fault: None,
        },
    }
}

fn recording(exchanges: Vec<Exchange>) -> Recording {
    Recording {
        name: "test".into(),
        description: String::new(),
        provenance: "constructed in the test".into(),
        dialect: Dialect::Channel,
        uid: 1001,
        channel: Some(7),
        exchanges,
    }
}

fn login_page() -> String {
    load("2008-login-chat").exchanges[0].response.body.clone()
}

/// login.php, the post, and a home page.
fn login_exchanges(home: &str, set_cookie: Option<&str>) -> Vec<Exchange> {
    let mut headers = vec![("Location", "http://www.facebook.com/home.php")];
    if let Some(cookie) = set_cookie {
        headers.push(("Set-Cookie", cookie));
    }
    vec![
        exchange("GET", "/login.php", &[], 200, &[], &login_page()),
        exchange(
            "POST",
            "/login.php",
            &[("md5pass", "0"), ("noerror", "1"), ("email", "me@example.com"), ("pass", "secret")],
            302,
            &headers,
            "",
        ),
        exchange("GET", "/home.php", &[], 200, &[], home),
    ]
}

/// The www base through the server as a proxy, and a client for it.
fn through(server: &ReplayServer) -> (Url, HttpClient) {
    let http = HttpClient::new(HttpConfig { proxy: Some(server.url().parse().expect("url")), ..HttpConfig::default() });
    ("http://www.facebook.com".parse().expect("url"), http)
}

fn config(www: Url) -> SenderConfig {
    SenderConfig { retry_delay: Duration::from_millis(10), rng_seed: Some(5), ..SenderConfig::new(www) }
}

#[tokio::test]
async fn the_2008_session_logs_in_fetches_the_buddy_list_and_sends() {
    let session = www_only(&load("2008-login-chat"));
    let server = ReplayServer::start(session, ReplayConfig::default().speed(0.0)).await.expect("start");
    let (www, http) = through(&server);
    let logged_in = login(&http, &www, "me@example.com", "secret").await.expect("login");
    assert_eq!((logged_in.uid, logged_in.channel, logged_in.post_form_id.as_str()), (1001, 7, PFID));
    assert_eq!(
        http.cookie(&"http://0.channel07.facebook.com/".parse().expect("url"), "c_user").as_deref(),
        Some("1001")
    );

    let sender = Sender::new(http, config(www), logged_in);
    let presence = sender.buddy_list(false).await.expect("buddy list");
    let list = presence.buddy_list.expect("a list");
    assert_eq!(
        list.now_available.iter().map(|(uid, a)| (uid.to_owned(), a.idle)).collect::<Vec<_>>(),
        [("UID1".to_owned(), false)]
    );
    assert_eq!(list.user_infos.get("UID2").and_then(|u| u.name.as_deref()), Some("Buddi 2"));
    assert_eq!(presence.time, Some(1209560380000));

    let sent = sender.send(2002, "hello back & more").await.expect("send");
    assert_eq!(sent.attempts, 1);
    assert!(sent.client_time > 1_600_000_000_000, "milliseconds");
    let report = server.shutdown().await;
    assert!(report.is_clean(), "{report}");
}

#[tokio::test]
async fn every_home_page_variant_logs_in() {
    let token =
        r#"<input type="hidden" id="post_form_id" name="post_form_id" value="3414c0f2db19233221ad8c2374398ed6" />"#;
    let variants: Vec<(&str, String, Option<&str>, u64, u32)> = vec![
        ("profile_nav_link", format!(r#"<a href="http://www.facebook.com/profile.php?id=596176850" class="profile_nav_link">Profile</a>{token}<script>p("a", "channel15")</script>"#), None, 596176850, 15),
        ("ref=profile", format!(r#"<a href="http://www.facebook.com/profile.php?id=800753867&amp;ref=profile">Profile</a>{token}<script>p("a","channel07")</script>"#), None, 800753867, 7),
        ("hidden user input", format!(r#"<input type="hidden" id="user" name="user" value="1190346972" />{token}<script src="x.js", "channel03"></script>"#), None, 1190346972, 3),
        ("Presence(", format!(r#"{token}<script>new Presence("100000123456789", "channel12")</script>"#), None, 100000123456789, 12),
        ("c_user cookie", format!(r#"<div>{token}</div><script>x("y", "channel01")</script>"#), Some("c_user=1386786477; path=/; domain=.facebook.com"), 1386786477, 1),
        ("post_form_id in script", r#"<a class="profile_nav_link" href="/profile.php?id=42">Me</a><script>Env={post_form_id:"3414c0f2db19233221ad8c2374398ed6"}; x("y", "channel20")</script>"#.to_owned(), None, 42, 20),
    ];
    for (name, home, cookie, uid, channel) in variants {
        let server = ReplayServer::start(recording(login_exchanges(&home, cookie)), ReplayConfig::default().speed(0.0))
            .await
            .expect("start");
        let (www, http) = through(&server);
        let session = login(&http, &www, "me@example.com", "secret").await.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!((session.uid, session.channel, session.post_form_id.as_str()), (uid, channel, PFID), "{name}");
        assert!(server.shutdown().await.is_clean(), "{name}");
    }
}

#[tokio::test]
async fn wrong_credentials_and_missing_pieces_are_clear_errors() {
    let refused = format!(
        r#"<div id="error" class="login_error"><h2>Incorrect Email</h2>The email you entered does not belong to any account.</div>{}"#,
        login_page()
    );
    let mut exchanges = login_exchanges("", None);
    exchanges[1].response = ResponseSpec { status: 200, body: refused, ..exchanges[1].response.clone() };
    exchanges[1].response.headers.clear();
    exchanges.truncate(2);
    let server = ReplayServer::start(recording(exchanges), ReplayConfig::default().speed(0.0)).await.expect("start");
    let (www, http) = through(&server);
    let err = login(&http, &www, "me@example.com", "secret").await.expect_err("refused");
    assert!(matches!(err, LoginError::BadCredentials(Some(_))), "{err}");
    assert_eq!(
        err.to_string(),
        "wrong email or password: Incorrect Email: The email you entered does not belong to any account."
    );

    let no_channel = format!(
        r#"<a href="/profile.php?id=5" class="profile_nav_link">P</a><input type="hidden" name="post_form_id" value="{PFID}" />"#
    );
    let server = ReplayServer::start(recording(login_exchanges(&no_channel, None)), ReplayConfig::default().speed(0.0))
        .await
        .expect("start");
    let (www, http) = through(&server);
    assert!(matches!(login(&http, &www, "me@example.com", "secret").await, Err(LoginError::NoChannel)));
}

#[tokio::test]
async fn awkward_text_arrives_intact_and_long_text_is_refused_before_sending() {
    let texts = [
        "Tom & Jerry",
        "a=b&c=d",
        "1 + 1 = 2",
        "100% sure",
        "line one\nline two",
        "caf\u{e9} \u{5341}\u{4e00}",
        "\u{1F600}\u{1F44D}",
        "\"quoted\" <b>bold</b> it's",
    ];
    let exchanges = texts
        .iter()
        .map(|t| {
            exchange(
                "POST",
                "/ajax/chat/send.php",
                &[
                    ("msg_text", t),
                    ("msg_id", "{ANY}"),
                    ("client_time", "{ANY}"),
                    ("to", "1002"),
                    ("popped_out", "false"),
                    ("num_tabs", "1"),
                    ("post_form_id", PFID),
                ],
                200,
                &[],
                OK,
            )
        })
        .collect();
    let server = ReplayServer::start(recording(exchanges), ReplayConfig::default().speed(0.0)).await.expect("start");
    let (www, http) = through(&server);
    let sender = Sender::new(http, config(www), session());
    for text in texts {
        sender.send(1002, text).await.unwrap_or_else(|e| panic!("{text:?}: {e}"));
    }
    let long = "x".repeat(1000);
    let err = sender.send(1002, &long).await.expect_err("too long");
    assert_eq!(err.to_string(), "the message is 1000 characters long; the service takes at most 999");
    // 999 emoji are 999 characters, not 3996 bytes: allowed (and unmatched
    // here, so strict replay refuses it, which proves it was sent).
    let err = sender.send(1002, &"\u{1F600}".repeat(999)).await.expect_err("not recorded");
    assert!(matches!(err, Error::Status { status: 400, .. }), "{err}");
    let report = server.shutdown().await;
    assert_eq!(report.used, texts.len(), "{report}");
    assert_eq!(report.unmatched.len(), 1);
}

fn session() -> fbcomet_sender::Session {
    fbcomet_sender::Session { uid: 1001, channel: 7, post_form_id: PFID.into(), fb_dtsg: None, h: None, revision: None }
}

#[tokio::test]
async fn notifications_typing_settings_reconnect_and_history() {
    let relogin = load("2008-error-relogin");
    let notifications_body = relogin.exchanges[4].response.body.clone();
    let history = r#"for (;;);{"error":0,"errorSummary":"","errorDescription":"No error.","payload":{"history":[{"type":"msg","msg":{"text":"missed you","msgID":"77"},"from":1002,"to":1001,"time":1211177400000}]}}"#;
    let reconnect = r#"for (;;);{"error":0,"errorSummary":"","errorDescription":"No error.","payload":{"host":"channel04","seq":35}}"#;
    let exchanges = vec![
        exchange(
            "POST",
            "/ajax/presence/update.php",
            &[
                ("buddy_list", "1"),
                ("notifications", "1"),
                ("force_render", "true"),
                ("post_form_id", PFID),
                ("user", "1001"),
            ],
            200,
            &[],
            &notifications_body,
        ),
        exchange("POST", "/ajax/chat/typ.php", &[("typ", "1"), ("to", "1002"), ("post_form_id", PFID)], 200, &[], OK),
        exchange("POST", "/ajax/chat/typ.php", &[("typ", "0"), ("to", "1002"), ("post_form_id", PFID)], 200, &[], OK),
        exchange(
            "POST",
            "/ajax/chat/settings.php",
            &[("focus_chat", "1002"), ("window_id", "12345"), ("post_form_id", PFID)],
            200,
            &[],
            OK,
        ),
        exchange("POST", "/ajax/chat/settings.php", &[("visibility", "false"), ("post_form_id", PFID)], 200, &[], OK),
        exchange(
            "POST",
            "/ajax/chat/settings.php",
            &[("close_chat", "1002"), ("window_id", "12345"), ("post_form_id", PFID)],
            200,
            &[],
            OK,
        ),
        exchange(
            "GET",
            &format!("/ajax/presence/reconnect.php?reason=7&post_form_id={PFID}&__a=1"),
            &[],
            200,
            &[],
            reconnect,
        ),
        exchange("POST", "/ajax/chat/history.php", &[("id", "1002"), ("post_form_id", PFID)], 200, &[], history),
    ];
    let server = ReplayServer::start(recording(exchanges), ReplayConfig::default().speed(0.0)).await.expect("start");
    let (www, http) = through(&server);
    let sender = Sender::new(http, config(www), session());
    let presence = sender.buddy_list(true).await.expect("buddy list");
    let n = presence.notifications.expect("notifications");
    assert_eq!((n.count, n.count_new, n.inbox_count), (Some(1), Some(0), Some(0)));
    assert_eq!(n.app_names.get("2356318349").map(|s| s.as_ref()), Some("\u{670b}\u{53cb}"));
    sender.typing(1002, true).await.expect("typing");
    sender.typing(1002, false).await.expect("stopped");
    sender.focus_chat(1002).await.expect("focus");
    sender.visibility(false).await.expect("offline");
    sender.close_chat(1002).await.expect("close");
    let r = sender.reconnect(7).await.expect("reconnect");
    assert_eq!((r.channel_number(), r.seq), (Some(4), Some(35)));
    let events = sender.history(1002).await.expect("history");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].msg_id(), Some("77"));
    let report = server.shutdown().await;
    assert!(report.is_clean(), "{report}");
}

#[tokio::test]
async fn every_error_code_path() {
    let relogin = load("2008-error-relogin");
    let not_logged_in = relogin.exchanges[0].response.body.clone();
    let offline = relogin.exchanges[5].response.body.clone();
    let csrf = r#"for (;;);{"error":1357004,"errorSummary":"Page expired","errorDescription":"This page is no longer valid.","payload":null}"#;
    let any = |path: &str, body: &str, status: u16| {
        let mut e = exchange("POST", path, &[], status, &[], body);
        e.request.form = vec![("post_form_id".into(), "{ANY}".into())];
        e
    };
    let mut exchanges = vec![
        exchange(
            "POST",
            "/ajax/presence/update.php",
            &[
                ("buddy_list", "1"),
                ("notifications", "0"),
                ("force_render", "true"),
                ("post_form_id", PFID),
                ("user", "1001"),
            ],
            200,
            &[],
            &not_logged_in,
        ),
        exchange(
            "POST",
            "/ajax/chat/send.php",
            &[
                ("msg_text", "are you there?"),
                ("to", "1190346972"),
                ("popped_out", "false"),
                ("num_tabs", "1"),
                ("post_form_id", PFID),
            ],
            200,
            &[],
            &offline,
        ),
        any("/ajax/chat/typ.php", csrf, 200),
        any("/ajax/chat/typ.php", "<html>oops</html>", 200),
        any("/ajax/chat/typ.php", "", 500),
    ];
    for e in &mut exchanges[2..] {
        e.request.form =
            vec![("typ".into(), "1".into()), ("to".into(), "2".into()), ("post_form_id".into(), PFID.into())];
    }
    let server = ReplayServer::start(recording(exchanges), ReplayConfig::default().speed(0.0)).await.expect("start");
    let (www, http) = through(&server);
    let sender = Sender::new(http, SenderConfig { send_attempts: 1, ..config(www) }, session());

    let err = sender.buddy_list(false).await.expect_err("1357001");
    assert!(err.is_not_logged_in() && err.needs_new_session(), "{err}");
    let err = sender.send(1190346972, "are you there?").await.expect_err("1356003");
    assert!(err.server_error().is_some_and(|e| e.is_recipient_offline()), "{err}");
    assert!(!err.is_transient());
    assert_eq!(err.to_string(), "server error 1356003: Send destination not online: This person is no longer online.");
    let err = sender.typing(2, true).await.expect_err("1357004");
    assert!(err.server_error().is_some_and(|e| e.is_csrf_failure()) && err.needs_new_session(), "{err}");
    let err = sender.typing(2, true).await.expect_err("undecodable");
    assert!(matches!(err, Error::Decode { .. }) && err.is_transient(), "{err}");
    let err = sender.typing(2, true).await.expect_err("500");
    assert!(matches!(err, Error::Status { status: 500, .. }) && err.is_transient(), "{err}");
    assert!(server.shutdown().await.is_clean());
    let _ = Fault::Empty;
}

#[tokio::test]
async fn a_session_saves_and_restores_with_its_cookies() {
    let session = www_only(&load("2008-login-chat"));
    let server = ReplayServer::start(session, ReplayConfig::default().speed(0.0)).await.expect("start");
    let (www, http) = through(&server);
    let logged_in = login(&http, &www, "me@example.com", "secret").await.expect("login");
    let saved = SavedSession::capture(&www, &logged_in, &http).to_json();

    let restored = SavedSession::from_json(&saved).expect("restore");
    assert_eq!(restored.session, logged_in);
    let http2 = HttpClient::with_jar(http.config().clone(), restored.cookie_jar().expect("cookies"));
    let channel_url: Url = "http://0.channel07.facebook.com/x/".parse().expect("url");
    assert_eq!(http2.cookie(&channel_url, "c_user").as_deref(), Some("1001"));
    assert_eq!(http2.cookie(&"http://www.facebook.com/".parse().expect("url"), "xs").as_deref(), Some("8a3f0c"));
    let sender = Sender::new(http2, config(restored.www().expect("www")), restored.session);
    sender.buddy_list(false).await.expect("works without logging in again");

    assert!(SavedSession::from_json("{\"version\":1}").is_err());
    server.shutdown().await;
}

/// Fails the first two sends (a 503, then a reset) and takes the third;
/// remembers every msg_id it saw.
struct Flaky(Mutex<Vec<String>>);

impl Handler for Flaky {
    async fn handle(&self, request: Request) -> Reply {
        let n = {
            let mut ids = self.0.lock().expect("lock");
            ids.push(request.field("msg_id").unwrap_or_default().to_owned());
            ids.len()
        };
        match n {
            1 => Reply::text(503, "busy"),
            2 => Reply { fault: Some(fbcomet_mock::FaultAction::ResetBeforeAnswer), ..Reply::ok(OK) },
            _ => Reply::ok(OK),
        }
    }
}

#[tokio::test]
async fn a_failed_send_is_retried_with_the_same_msg_id() {
    let flaky = Arc::new(Flaky(Mutex::new(Vec::new())));
    let server =
        Server::bind("127.0.0.1:0".parse().expect("addr"), flaky.clone(), ServerConfig::default()).await.expect("bind");
    let www: Url = format!("http://{}", server.local_addr()).parse().expect("url");
    let sender = Sender::new(HttpClient::new(HttpConfig::default()), config(www), session());
    let sent = sender.send(1002, "only once").await.expect("third time lucky");
    assert_eq!(sent.attempts, 3);
    let ids = flaky.0.lock().expect("lock").clone();
    assert_eq!(ids, vec![sent.msg_id.clone(); 3]);
    // A new message gets a new id.
    let next = sender.send(1002, "another").await.expect("send");
    assert_ne!(next.msg_id, sent.msg_id);
}
