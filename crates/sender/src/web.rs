//! The 2013-2018 web dialect: logging in through m.facebook.com and the
//! www posts fbchat made (docs/protocol.md, section 5).
//!
//! Login: the mobile login form is fetched and posted with its hidden
//! inputs, `email`, `pass` and `login`; success is landing on a page whose
//! path has `home`; then the www front page gives `fb_dtsg` (the token every
//! post echoes), `h` (for logout) and `client_revision`. Answers are
//! `for (;;);{"__ar":1,"payload":..}` with no `error` on success.

use fbcomet_codec::{Event, MID_PREFIX, Message, ServerError};
use fbcomet_http::{HttpClient, Response};
use serde_json::Value;
use url::Url;

use crate::error::{Error, LoginError};
use crate::scrape;
use crate::session::{Session, on_www};

/// The doc_id of the thread query (a thread's details and messages), as
/// fbchat 1.1.3 sends it.
pub const THREAD_QUERY_DOC_ID: &str = "1386147188135407";

/// Logs in as fbchat did: the form of `mobile`'s front page, posted to
/// `/login.php?login_attempt=1`, redirects followed to a `home` page; then
/// the tokens from `www`'s front page.
pub async fn login_web(
    http: &HttpClient,
    mobile: &Url,
    www: &Url,
    email: &str,
    password: &str,
) -> Result<Session, LoginError> {
    let page = http.get(&on_www(mobile, "/")).await?;
    if page.status != 200 {
        return Err(LoginError::Status { status: page.status, page: "m.facebook.com/".to_owned() });
    }
    let mut fields = scrape::first_form(&page.text()).ok_or(LoginError::NoLoginForm)?.inputs;
    fields.retain(|(name, _)| !["email", "pass", "login"].contains(&name.as_str()));
    fields
        .extend([("email", email), ("pass", password), ("login", "Log In")].map(|(k, v)| (k.to_owned(), v.to_owned())));
    let mut answer = http.post_form(&on_www(mobile, "/login.php?login_attempt=1"), &fields).await?;
    for _ in 0..5 {
        match answer.location() {
            Some(next) if (300..400).contains(&answer.status) => {
                answer = http.get(&on_www(mobile, next.as_str())).await?
            }
            _ => break,
        }
    }
    if !answer.url.path().contains("home") {
        return Err(LoginError::BadCredentials(scrape::login_error(&answer.text())));
    }
    let front = http.get(&on_www(www, "/")).await?;
    if front.status != 200 {
        return Err(LoginError::Status { status: front.status, page: "www.facebook.com/".to_owned() });
    }
    session_of_front_page(&front.text(), http.cookie(www, "c_user").and_then(|c| c.trim().parse().ok()))
}

/// The session the www front page (and the `c_user` cookie) describe:
/// `fb_dtsg` is required, as it was by fbchat.
pub fn session_of_front_page(page: &str, c_user: Option<u64>) -> Result<Session, LoginError> {
    let uid = c_user.or_else(|| scrape::uid(page)).ok_or(LoginError::NoUid)?;
    let fb_dtsg = scrape::fb_dtsg(page).ok_or(LoginError::NoFormToken)?;
    Ok(Session {
        uid,
        channel: scrape::channel(page).unwrap_or(0),
        post_form_id: fb_dtsg.clone(),
        fb_dtsg: Some(fb_dtsg),
        h: scrape::input(page, "h"),
        revision: scrape::client_revision(page),
    })
}

/// The fields every post of the era carries: `__user`, `__a`, `__req` (a
/// base-36 counter), `fb_dtsg`, `ttstamp` (the token's character codes and
/// a 2) and `__rev`.
pub(crate) fn common_fields(session: &Session, request: u64) -> Vec<(&'static str, String)> {
    let dtsg = session.fb_dtsg.clone().unwrap_or_else(|| session.post_form_id.clone());
    let mut ttstamp: String = dtsg.chars().map(|c| (c as u32).to_string()).collect();
    ttstamp.push('2');
    let mut fields = vec![
        ("__user", session.uid.to_string()),
        ("__a", "1".to_owned()),
        ("__req", base36(request)),
        ("fb_dtsg", dtsg),
        ("ttstamp", ttstamp),
    ];
    if let Some(rev) = session.revision {
        fields.push(("__rev", rev.to_string()));
    }
    fields
}

fn base36(mut n: u64) -> String {
    let mut digits = Vec::new();
    loop {
        digits.push(char::from_digit((n % 36) as u32, 36).unwrap_or('0'));
        n /= 36;
        if n == 0 {
            break;
        }
    }
    digits.iter().rev().collect()
}

/// The JSON of an answer of the era: its status checked, the `for (;;);`
/// prefix skipped, an `error` turned into [`Error::Server`].
pub(crate) fn answer(endpoint: &str, response: &Response) -> Result<Value, Error> {
    if response.status != 200 {
        return Err(Error::Status { status: response.status, endpoint: endpoint.to_owned() });
    }
    let body = fbcomet_codec::strip_prefix(&response.body)
        .map_err(|source| Error::Decode { endpoint: endpoint.to_owned(), source })?;
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| Error::Answer { endpoint: endpoint.to_owned(), reason: format!("not JSON: {e}") })?;
    check(&value)?;
    Ok(value)
}

/// `Err` for an object with a non-null `error`.
fn check(value: &Value) -> Result<(), Error> {
    match value.get("error") {
        None | Some(Value::Null) => Ok(()),
        Some(code) => {
            let text = |key| value.get(key).and_then(Value::as_str).unwrap_or_default().to_owned();
            Err(Error::Server(ServerError {
                code: code.as_i64().or_else(|| code.as_str()?.parse().ok()).unwrap_or(0),
                summary: text("errorSummary"),
                description: text("errorDescription"),
                is_warning: false,
            }))
        }
    }
}

/// The message id `/messaging/send/` answered with.
pub(crate) fn sent_message_id(endpoint: &str, answer: &Value) -> Result<String, Error> {
    answer["payload"]["actions"]
        .as_array()
        .and_then(|actions| actions.iter().find_map(|a| a.get("message_id")?.as_str()))
        .map(str::to_owned)
        .ok_or_else(|| Error::Answer { endpoint: endpoint.to_owned(), reason: "no message_id in its actions".into() })
}

/// The thread query for the messages with `friend`, as fbchat sent it.
pub(crate) fn thread_query(friend: u64, limit: usize) -> String {
    serde_json::json!({
        "q0": {
            "doc_id": THREAD_QUERY_DOC_ID,
            "query_params": {
                "id": friend.to_string(),
                "message_limit": limit,
                "load_messages": true,
                "load_read_receipts": false,
                "before": null,
            }
        }
    })
    .to_string()
}

/// The messages of a thread query's answer (JSON objects one after
/// another), oldest first, as `me` sees them.
pub(crate) fn thread_messages(endpoint: &str, body: &[u8], me: u64, friend: u64) -> Result<Vec<Event<'static>>, Error> {
    let bad = |reason: String| Error::Answer { endpoint: endpoint.to_owned(), reason };
    let body =
        fbcomet_codec::strip_prefix(body).map_err(|source| Error::Decode { endpoint: endpoint.to_owned(), source })?;
    let first = serde_json::Deserializer::from_slice(body)
        .into_iter::<Value>()
        .next()
        .ok_or_else(|| bad("empty".into()))?
        .map_err(|e| bad(format!("not JSON: {e}")))?;
    check(&first)?;
    let result = &first["q0"];
    check(result)?;
    let thread = &result["data"]["message_thread"];
    if thread.is_null() {
        return Ok(Vec::new());
    }
    let nodes = thread["messages"]["nodes"].as_array().ok_or_else(|| bad("no messages.nodes".into()))?;
    let mut events = Vec::with_capacity(nodes.len());
    for node in nodes {
        let from: u64 = match &node["message_sender"]["id"] {
            Value::String(s) => s.parse().ok(),
            Value::Number(n) => n.as_u64(),
            _ => None,
        }
        .ok_or_else(|| bad("a message without message_sender.id".into()))?;
        let to = if from == me { friend } else { me };
        let mut message = Message::new(from, to, node["message"]["text"].as_str().unwrap_or_default().to_owned());
        message.time = match &node["timestamp_precise"] {
            Value::String(s) => s.parse().ok(),
            other => other.as_i64(),
        };
        let id = node["offline_threading_id"]
            .as_str()
            .map(str::to_owned)
            .or_else(|| node["message_id"].as_str().map(|m| m.strip_prefix(MID_PREFIX).unwrap_or(m).to_owned()));
        message.msg_id = id.map(Into::into);
        events.push(Event::Msg(message));
    }
    Ok(events)
}

/// An id as the era's clients made them for `offline_threading_id`: the
/// time in milliseconds, shifted 22 bits, with 22 random bits.
pub(crate) fn offline_threading_id(now_ms: i64, random: u32) -> String {
    ((now_ms.max(0) as u64) << 22 | u64::from(random & 0x3f_ffff)).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_common_fields_are_fbchats() {
        let session = Session {
            uid: 1001,
            channel: 0,
            post_form_id: "AB".into(),
            fb_dtsg: Some("AB".into()),
            h: None,
            revision: Some(7),
        };
        let fields = common_fields(&session, 37);
        assert!(fields.contains(&("ttstamp", "65662".to_owned())), "{fields:?}");
        assert!(fields.contains(&("__req", "11".to_owned())), "{fields:?}");
        assert!(fields.contains(&("__rev", "7".to_owned())), "{fields:?}");
    }

    #[test]
    fn thread_messages_read_the_query_answer() {
        let body = br#"for (;;);{"q0":{"data":{"message_thread":{"messages":{"nodes":[
            {"message_id":"mid.$9","offline_threading_id":"9","message_sender":{"id":"1002"},"message":{"text":"hi"},"timestamp_precise":"5","message_reactions":[]},
            {"message_id":"mid.$x","message_sender":{"id":"1001"},"message":{"text":"yo"},"timestamp_precise":"6","message_reactions":[]}]}}}}}
            {"successful_results":1,"error_results":0,"skipped_results":0}"#;
        let events = thread_messages("q", body, 1001, 1002).expect("reads");
        let messages: Vec<_> = events.iter().filter_map(Event::as_message).collect();
        assert_eq!((messages[0].from, messages[0].to, messages[0].msg_id.as_deref()), (1002, 1001, Some("9")));
        assert_eq!((messages[1].to, messages[1].msg_id.as_deref(), messages[1].time), (1002, Some("x"), Some(6)));
        let err = thread_messages("q", br#"{"q0":{"error":1675012,"errorSummary":"no"}}"#, 1, 2).unwrap_err();
        assert_eq!(err.server_error().map(|e| e.code), Some(1675012));
    }

    #[test]
    fn offline_threading_ids_carry_the_time() {
        assert_eq!(offline_threading_id(1, 0), (1u64 << 22).to_string());
        assert_eq!(offline_threading_id(0, u32::MAX), 0x3f_ffff.to_string());
    }
}
