//! The Messenger Platform's Send API on graph.facebook.com (2016):
//! `POST /v2.6/me/messages?access_token=PAGE_TOKEN` (any version from
//! v2.6 to v3.x, or none), as a bot calls it. A message becomes the page's
//! message to the user in the chat core, so it reaches the user through
//! whatever door they use; `typing_on` shows as typing. Errors are Graph
//! error objects with HTTP 400, never a 500.

use std::sync::atomic::{AtomicU64, Ordering};

use fbcomet_chat::{ChatError, ChatService, Outgoing, Page};
use fbcomet_codec::ChatHost;
use fbcomet_platform::{GraphError, GraphErrorBody, OutgoingMessage, SendRequest, SendResponse};
use serde_json::Value;

use super::shell::{Door, Emulator};
use super::wire::mid;
use fbcomet_server::{Reply, Request};

/// The most quick replies one message could carry.
const MAX_QUICK_REPLIES: usize = 13;

/// Whether `path` is for the Graph API's door when the server is addressed
/// directly: the Send API's path under any version (an unknown version
/// gets the Graph API's error, not a 404).
pub(super) fn is_graph_path(path: &str) -> bool {
    let rest = path.strip_suffix('/').unwrap_or(path);
    rest.ends_with("/me/messages") && (rest == "/me/messages" || rest.starts_with("/v"))
}

/// The version of a Send API path (`None` inside for `/me/messages`); `None`
/// for other paths and for versions before v2.6 or after v3.x.
fn send_api_version(path: &str) -> Option<Option<&str>> {
    let rest = path.strip_suffix('/').unwrap_or(path);
    if rest == "/me/messages" {
        return Some(None);
    }
    let version = rest.strip_prefix("/v")?.strip_suffix("/me/messages")?;
    let (major, minor) = version.split_once('.')?;
    let (major, minor): (u32, u32) = (major.parse().ok()?, minor.parse().ok()?);
    ((major == 2 && minor >= 6) || major == 3).then_some(Some(version))
}

/// A page-scoped id: the id `page` knows `user` by, stable for the pair,
/// and no other pair's (a mixing bijection of the pair, in the range of
/// the platform's 16-digit ids).
pub fn psid(user: u64, page: u64) -> u64 {
    let mut z = page.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ user;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    1_000_000_000_000_000 + z % 9_000_000_000_000_000
}

/// The user `page` knows as `id`, among those who messaged it.
fn user_of(chat: &ChatService, page: u64, id: &str) -> Option<u64> {
    let id: u64 = id.trim().parse().ok()?;
    chat.users().map(|u| u.uid).find(|&uid| psid(uid, page) == id && chat.may_message(page, uid))
}

static TRACES: AtomicU64 = AtomicU64::new(0x5eed);

fn error(code: i64, kind: &str, subcode: Option<i64>, message: impl Into<String>) -> Reply {
    // A trace id per error, as the platform gave (not secret, only distinct).
    let n = TRACES.fetch_add(0x9e37_79b9, Ordering::Relaxed);
    let body = GraphErrorBody {
        error: GraphError {
            message: message.into(),
            kind: kind.to_owned(),
            code,
            error_subcode: subcode,
            fbtrace_id: format!("F{:010x}", n & 0xff_ffff_ffff),
        },
    };
    json(400, &serde_json::to_value(&body).unwrap_or_default())
}

fn json(status: u16, value: &Value) -> Reply {
    Reply::with_status(status, value.to_string()).header("content-type", "application/json; charset=UTF-8")
}

fn bad_param(message: impl Into<String>) -> Reply {
    error(100, "OAuthException", None, message)
}

/// The Send API.
/// The Send API: requests to graph.facebook.com, or to a Graph path on
/// any host.
pub(super) const DOOR: Door = Door {
    name: Some("messenger platform"),
    serves: |req, host| host == Some(&ChatHost::Graph) || is_graph_path(&req.path),
    answer: |emulator, req| send_api(emulator, req),
};

fn send_api(emulator: &Emulator, req: &Request) -> Reply {
    if send_api_version(&req.path).is_none() {
        return error(2500, "OAuthException", None, format!("Unknown path components: {}", req.path));
    }
    if req.method != "POST" {
        return error(100, "GraphMethodException", Some(33), "Unsupported get request. Use POST to send messages.");
    }
    let bearer = req.header("authorization").and_then(|h| h.strip_prefix("Bearer ").or(h.strip_prefix("bearer ")));
    let Some(token) = req.query("access_token").or(req.field("access_token")).or(bearer).map(str::trim) else {
        return error(
            2500,
            "OAuthException",
            None,
            "An active access token must be used to query information about the current user.",
        );
    };
    let request = match parse(req) {
        Ok(request) => request,
        Err(message) => return bad_param(message),
    };
    emulator.with_chat(|chat, now| {
        let Some(page) = chat.page_by_token(token).cloned() else {
            return error(190, "OAuthException", None, "Invalid OAuth access token.");
        };
        let Some(user) = user_of(chat, page.id, &request.recipient.id) else {
            return error(100, "OAuthException", Some(2_018_001), "No matching user found");
        };
        let recipient_id = psid(user, page.id).to_string();
        match (&request.message, request.sender_action.as_deref()) {
            (Some(_), Some(_)) => bad_param("(#100) Only one of message and sender_action may be sent"),
            (None, None) => bad_param("(#100) param message must be non-empty."),
            (None, Some(action)) => sender_action(chat, &page, user, action, now, recipient_id),
            (Some(message), None) => {
                if let Err(message) = check_message(message, chat.max_chars_of(page.id)) {
                    return bad_param(message);
                }
                let outgoing =
                    Outgoing { offline_ok: true, ..Outgoing::new(user, message.text.clone().unwrap_or_default()) };
                match chat.send(page.id, outgoing, now) {
                    Ok(sent) => json(
                        200,
                        &serde_json::to_value(SendResponse { recipient_id, message_id: Some(mid(&sent.message)) })
                            .unwrap_or_default(),
                    ),
                    Err(ChatError::DestinationNotOnline) => {
                        error(100, "OAuthException", Some(2_018_001), "No matching user found")
                    }
                    Err(err) => bad_param(format!("(#100) {err}")),
                }
            }
        }
    })
}

fn sender_action(
    chat: &mut ChatService,
    page: &Page,
    user: u64,
    action: &str,
    now: std::time::Instant,
    recipient_id: String,
) -> Reply {
    let done = match action {
        "typing_on" | "typing_off" => chat.typing(page.id, user, action == "typing_on", now).is_ok(),
        "mark_seen" => {
            chat.mark_read(page.id, user, None, now);
            true
        }
        other => {
            return bad_param(format!(
                "(#100) param sender_action must be one of typing_on, typing_off, mark_seen, not {other:?}"
            ));
        }
    };
    if !done {
        return error(100, "OAuthException", Some(2_018_001), "No matching user found");
    }
    json(200, &serde_json::json!({ "recipient_id": recipient_id }))
}

/// The request from a JSON body, or from form fields whose values are JSON
/// (as some bots posted it); `Err` is the (#100) error's message.
fn parse(req: &Request) -> Result<SendRequest, String> {
    let json_body = req.header("content-type").is_some_and(|c| c.to_ascii_lowercase().contains("json"))
        || req.form.is_empty() && req.body.first() == Some(&b'{');
    let value: Value = if json_body {
        serde_json::from_slice(&req.body).map_err(|e| format!("(#100) The request body is not JSON: {e}"))?
    } else {
        let mut object = serde_json::Map::new();
        for key in ["messaging_type", "recipient", "message", "sender_action"] {
            if let Some(v) = req.field(key) {
                let value = serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.to_owned()));
                object.insert(key.to_owned(), value);
            }
        }
        Value::Object(object)
    };
    if value.get("recipient").is_none_or(Value::is_null) {
        return Err("(#100) param recipient must be non-empty.".to_owned());
    }
    serde_json::from_value(value).map_err(|e| format!("(#100) {e}"))
}

/// A message the Send API takes: text of at most `max_chars` characters
/// (the core's limit for pages, said here as the Graph API said it).
fn check_message(message: &OutgoingMessage, max_chars: usize) -> Result<(), String> {
    let Some(text) = &message.text else {
        return Err("(#100) param message[text] must be non-empty: fbcomet emulates text messages".to_owned());
    };
    let chars = text.chars().count();
    if chars == 0 {
        return Err("(#100) param message[text] must be non-empty.".to_owned());
    }
    if chars > max_chars {
        return Err(format!("(#100) Length of param message[text] must be less than or equal to {max_chars}"));
    }
    let replies = message.quick_replies.as_deref().unwrap_or_default();
    if replies.len() > MAX_QUICK_REPLIES {
        return Err(format!("(#100) param message[quick_replies] must have at most {MAX_QUICK_REPLIES} elements"));
    }
    for (i, reply) in replies.iter().enumerate() {
        match reply.content_type.as_str() {
            "text" => {
                let title = reply.title.as_deref().unwrap_or_default().chars().count();
                let payload = reply.payload.as_deref().unwrap_or_default().chars().count();
                if title == 0 || title > 20 {
                    return Err(format!("(#100) param message[quick_replies][{i}][title] must be 1 to 20 characters"));
                }
                if payload == 0 || payload > 1000 {
                    return Err(format!(
                        "(#100) param message[quick_replies][{i}][payload] must be 1 to 1000 characters"
                    ));
                }
            }
            "location" | "user_phone_number" | "user_email" => {}
            other => {
                return Err(format!(
                    "(#100) param message[quick_replies][{i}][content_type] {other:?} is not one of text, location, user_phone_number, user_email"
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_from_2_6_to_3_x_and_none() {
        for ok in ["/me/messages", "/v2.6/me/messages", "/v2.12/me/messages", "/v3.3/me/messages/"] {
            assert!(send_api_version(ok).is_some(), "{ok}");
        }
        for not in ["/v2.5/me/messages", "/v4.0/me/messages", "/v2/me/messages", "/me/feed", "/vx.y/me/messages"] {
            assert!(send_api_version(not).is_none(), "{not}");
        }
    }

    #[test]
    fn page_scoped_ids_are_stable_and_distinct() {
        assert_eq!(psid(1001, 2001), psid(1001, 2001));
        assert_ne!(psid(1001, 2001), psid(1001, 2002));
        assert_ne!(psid(1001, 2001), psid(1002, 2001));
        assert_eq!(psid(1001, 2001).to_string().len(), 16);
    }
}
