//! What the 2008 channel and `/pull` write alike: the core's events as
//! `ms` entries (messages with their names), and refusals as the error
//! envelopes of the 2008 codes. Both doors use it; neither reaches into the
//! other.

use std::borrow::Cow;

use fbcomet_chat::{ChatError, ChatEvent, ChatMessage};
use fbcomet_codec::{Envelope, ErrorCode, Event, Extra, Message, Typing};

use super::Emulator;
use crate::reply::Reply;

/// The core's events as 2008 `ms` entries.
pub(super) fn events_of(emulator: &Emulator, events: &[ChatEvent]) -> Vec<Event<'static>> {
    events
        .iter()
        .map(|event| match event {
            ChatEvent::Message(m) => Event::Msg(message(emulator, m)),
            ChatEvent::Typing { from, to, typing } => {
                Event::Typ(Typing { from: *from, to: *to, typing: *typing, extra: Extra::new() })
            }
        })
        .collect()
}

/// A message with its names, as the 2008 channel and history.php wrote it.
pub(super) fn message(emulator: &Emulator, m: &ChatMessage) -> Message<'static> {
    let name = |uid| emulator.user(uid).map(|u| Cow::Owned(u.name.clone()));
    let first = |uid| emulator.user(uid).map(|u| Cow::Owned(u.first_name.clone()));
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

pub(super) fn envelope(e: Envelope<'_>) -> Reply {
    Reply::ok(e.encode())
}
