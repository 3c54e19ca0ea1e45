//! What the front doors write alike: the core's events as `ms` entries,
//! in the 2008 shape (`msg`, `typ`) and in the `/pull` era's (`delta`), and
//! refusals as the error envelopes of the 2008 codes, and the fields of
//! a post (its form token, its parameters). Every door uses it;
//! none reaches into another.

use std::borrow::Cow;

use fbcomet_chat::{ChatError, ChatEvent, ChatMessage, ChatService};
use fbcomet_codec::{
    Envelope, ErrorCode, Event, Extra, MID_PREFIX, Message, NewMessage, RawJson, ReadReceipt, ThreadKey, Typing,
    UnknownEvent,
};

use fbcomet_server::{Reply, Request};

/// The core's events as 2008 `ms` entries. A read receipt, which 2008
/// clients had no use for, is the later `m_read_receipt` they skip; it
/// still counts as an event, so seqs stay whole.
pub(super) fn events_of(chat: &ChatService, events: &[ChatEvent]) -> Vec<Event<'static>> {
    events
        .iter()
        .map(|event| match event {
            ChatEvent::Message(m) => Event::Msg(message(chat, m)),
            ChatEvent::Typing { from, to, typing } => typing_event(*from, *to, *typing),
            ChatEvent::Read { reader, at_ms, .. } => unknown(
                "m_read_receipt",
                serde_json::json!({"type": "m_read_receipt", "reader": reader, "time": at_ms}),
            ),
            ChatEvent::Delivered { reader, watermark_ms, .. } => delivered(*reader, *watermark_ms),
        })
        .collect()
}

/// A delivery to a page: only pages get them, and pages do not poll (their
/// webhook does); written as the later `m_delivery` should one be read.
fn delivered(reader: u64, watermark_ms: i64) -> Event<'static> {
    unknown("m_delivery", serde_json::json!({"type": "m_delivery", "reader": reader, "watermark": watermark_ms}))
}

/// An event of a type the codec keeps raw.
fn unknown(kind: &'static str, json: serde_json::Value) -> Event<'static> {
    Event::Unknown(UnknownEvent { kind: kind.into(), raw: RawJson::from_value(&json) })
}

/// The core's events as the `/pull` era wrote them for `viewer`: messages
/// and read receipts as deltas, typing as `typ`.
pub(super) fn deltas_of(viewer: u64, events: &[ChatEvent]) -> Vec<Event<'static>> {
    events
        .iter()
        .map(|event| match event {
            ChatEvent::Message(m) => Event::Delta(new_message(viewer, m).to_delta()),
            ChatEvent::Typing { from, to, typing } => typing_event(*from, *to, *typing),
            ChatEvent::Read { reader, watermark_ms, at_ms } => Event::Delta(
                ReadReceipt {
                    reader: *reader,
                    thread: ThreadKey::User(*reader),
                    watermark_ms: *watermark_ms,
                    action_ms: *at_ms,
                }
                .to_delta(),
            ),
            ChatEvent::Delivered { reader, watermark_ms, .. } => delivered(*reader, *watermark_ms),
        })
        .collect()
}

/// A message as a `NewMessage` delta for `viewer`.
pub(super) fn new_message(viewer: u64, m: &ChatMessage) -> NewMessage {
    NewMessage {
        message_id: mid(m),
        actor: m.from,
        timestamp: m.time_ms,
        thread: ThreadKey::User(m.partner_of(viewer)),
        offline_threading_id: Some(m.msg_id.clone()),
        tags: vec!["source:chat:web".to_owned()],
        body: Some(m.text.clone()),
        attachments: 0,
    }
}

/// The `/pull` era's id of a message: `mid.$` and the sender's own id.
pub(super) fn mid(m: &ChatMessage) -> String {
    format!("{MID_PREFIX}{}", m.msg_id)
}

fn typing_event(from: u64, to: u64, typing: bool) -> Event<'static> {
    Event::Typ(Typing { from, to, typing, extra: Extra::new() })
}

/// A message with its names, as the 2008 channel and history.php wrote it.
pub(super) fn message(chat: &ChatService, m: &ChatMessage) -> Message<'static> {
    let name = |uid| chat.name_of(uid).map(|(name, _)| Cow::Owned(name.to_owned()));
    let first = |uid| chat.name_of(uid).map(|(_, first)| Cow::Owned(first.to_owned()));
    Message {
        from_name: name(m.from),
        to_name: name(m.to),
        from_first_name: first(m.from),
        to_first_name: first(m.to),
        time: Some(m.time_ms),
        client_time: Some(m.client_time.unwrap_or(m.time_ms)),
        msg_id: Some(Cow::Owned(m.msg_id.clone())),
        ..Message::new(m.from, m.to, m.text.clone())
    }
}

/// The 2008 error code for a refusal.
pub(super) fn error_code(err: &ChatError) -> ErrorCode {
    match err {
        ChatError::NotLoggedIn => ErrorCode::NotLoggedIn,
        ChatError::LoginChanged => ErrorCode::LoginChanged,
        ChatError::CsrfFailed => ErrorCode::CsrfFailed,
        ChatError::DestinationNotOnline => ErrorCode::DestinationNotOnline,
        ChatError::Validation => ErrorCode::Validation,
        _ => ErrorCode::BadParameter,
    }
}

/// The form token of a post: `post_form_id` (2008), or `fb_dtsg` (later
/// pages, which the service issues as the same token).
pub(super) fn form_token(req: &Request) -> Option<&str> {
    ["post_form_id", "fb_dtsg"].into_iter().find_map(|name| req.field(name).or(req.query(name)))
}

/// A field or query parameter of a post, parsed.
pub(super) fn param<T: std::str::FromStr>(req: &Request, name: &'static str) -> Result<T, ChatError> {
    req.field(name).or(req.query(name)).and_then(|v| v.trim().parse().ok()).ok_or(ChatError::BadParameter(name))
}

/// The answer for a path no door serves.
pub(super) fn not_found(req: &Request) -> Reply {
    Reply::text(404, format!("fbcomet: no page at {}\n", req.path))
}

pub(super) fn envelope(e: Envelope<'_>) -> Reply {
    Reply::ok(e.encode())
}
