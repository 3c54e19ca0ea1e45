//! The `/pull` era's deltas: `{"type":"delta","delta":{"class":..}}`, the
//! shape in which the 2013-2018 service wrote new messages, read receipts
//! and thread changes (docs/protocol.md, section 5).
//!
//! A delta keeps its JSON whole ([`Delta::raw`]), so that encoding writes it
//! back byte for byte; [`Delta::kind`] is the typed reading of the classes
//! clients act on. A delta of another class is [`DeltaKind::Other`]; a
//! `NewMessage` or `ReadReceipt` without what makes it one is a shape error.

use serde::Deserialize;
use serde_json::Value;

use crate::raw::RawJson;

/// A `delta` event: its typed reading, and the event's JSON as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delta<'a> {
    /// What the delta says.
    pub kind: DeltaKind,
    /// The whole event object (`{"type":"delta",...}`); encoding writes it
    /// back verbatim.
    pub raw: RawJson<'a>,
}

/// The classes of delta that clients act on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeltaKind {
    /// `NewMessage`: a message in a thread.
    NewMessage(NewMessage),
    /// `ReadReceipt`: someone read a thread up to a time.
    ReadReceipt(ReadReceipt),
    /// Any other class (`DeliveryReceipt`, `MarkRead`, `ThreadName`, ...).
    Other {
        /// The delta's `class`, or `""` where it has none.
        class: String,
    },
}

/// Which thread: the conversation with one user, or a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ThreadKey {
    /// `{"otherUserFbId":..}`: the conversation with this user, as seen by
    /// the reader of the delta.
    User(u64),
    /// `{"threadFbId":..}`: a group thread.
    Group(u64),
}

impl ThreadKey {
    /// `{"otherUserFbId":".."}` or `{"threadFbId":".."}`.
    fn to_json(self) -> Value {
        match self {
            ThreadKey::User(uid) => serde_json::json!({ "otherUserFbId": uid.to_string() }),
            ThreadKey::Group(id) => serde_json::json!({ "threadFbId": id.to_string() }),
        }
    }
}

/// A `NewMessage` delta.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// `messageMetadata.messageId` (`mid.$...`).
    pub message_id: String,
    /// `messageMetadata.actorFbId`: the sender.
    pub actor: u64,
    /// `messageMetadata.timestamp`, in milliseconds.
    pub timestamp: i64,
    /// `messageMetadata.threadKey`.
    pub thread: ThreadKey,
    /// `messageMetadata.offlineThreadingId`: the id the sending client chose.
    pub offline_threading_id: Option<String>,
    /// `messageMetadata.tags` (`source:chat:web`, ...).
    pub tags: Vec<String>,
    /// `body`; a sticker or an attachment alone has none.
    pub body: Option<String>,
    /// How many `attachments` it carries.
    pub attachments: usize,
}

/// A `ReadReceipt` delta.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadReceipt {
    /// `actorFbId`: who read.
    pub reader: u64,
    /// `threadKey`: which thread.
    pub thread: ThreadKey,
    /// `watermarkTimestampMs`: read up to this time.
    pub watermark_ms: i64,
    /// `actionTimestampMs`: when.
    pub action_ms: i64,
}

/// The prefix of the message ids of the era; what follows it in fbcomet's
/// ids is the id the sending client chose.
pub const MID_PREFIX: &str = "mid.$";

impl NewMessage {
    /// The event `{"type":"delta","delta":{"class":"NewMessage",...}}` that
    /// the service writes for this message, in the shape fbchat 1.1.3 reads
    /// (`tags` present and not empty, `attachments` an array).
    pub fn to_delta(&self) -> Delta<'static> {
        let mut metadata = serde_json::json!({
            "messageId": self.message_id,
            "actorFbId": self.actor.to_string(),
            "timestamp": self.timestamp.to_string(),
            "threadKey": self.thread.to_json(),
            "tags": self.tags,
        });
        if let Some(id) = &self.offline_threading_id {
            metadata["offlineThreadingId"] = Value::String(id.clone());
        }
        let mut delta = serde_json::json!({
            "class": "NewMessage",
            "attachments": [],
            "messageMetadata": metadata,
        });
        if let Some(body) = &self.body {
            delta["body"] = Value::String(body.clone());
        }
        Delta::from_value(DeltaKind::NewMessage(self.clone()), delta)
    }
}

impl ReadReceipt {
    /// The `{"type":"delta","delta":{"class":"ReadReceipt",...}}` event.
    pub fn to_delta(&self) -> Delta<'static> {
        let delta = serde_json::json!({
            "class": "ReadReceipt",
            "actorFbId": self.reader.to_string(),
            "threadKey": self.thread.to_json(),
            "watermarkTimestampMs": self.watermark_ms.to_string(),
            "actionTimestampMs": self.action_ms.to_string(),
        });
        Delta::from_value(DeltaKind::ReadReceipt(*self), delta)
    }
}

impl<'a> Delta<'a> {
    fn from_value(kind: DeltaKind, delta: Value) -> Delta<'static> {
        let event = serde_json::json!({ "type": "delta", "delta": delta });
        Delta { kind, raw: RawJson::from_value(&event) }
    }

    /// Reads the typed part of a delta event from its raw JSON. `Err` says
    /// what is wrong (its path inside the event, and what was expected).
    pub(crate) fn parse(raw: RawJson<'a>) -> Result<Self, (String, String)> {
        let event: WireEvent = serde_json::from_str(raw.get()).map_err(|e| ("delta".to_owned(), e.to_string()))?;
        let delta = event.delta.ok_or_else(|| (String::new(), "a delta event needs a `delta` object".to_owned()))?;
        let class = match delta.get("class") {
            Some(Value::String(class)) => class.clone(),
            None => String::new(),
            Some(other) => return Err(("delta.class".to_owned(), format!("expected a string, found {other}"))),
        };
        let kind = match class.as_str() {
            "NewMessage" => DeltaKind::NewMessage(new_message(&delta)?),
            "ReadReceipt" => DeltaKind::ReadReceipt(ReadReceipt {
                reader: id_at(&delta, &["actorFbId"]).or_else(|_| id_at(&delta, &["threadKey", "otherUserFbId"]))?,
                thread: thread_key(&delta, "delta.threadKey")?,
                watermark_ms: int_at(&delta, &["watermarkTimestampMs"])?,
                action_ms: int_at(&delta, &["actionTimestampMs"])?,
            }),
            _ => DeltaKind::Other { class },
        };
        Ok(Delta { kind, raw })
    }

    /// Detaches the delta from the input it borrows from.
    pub fn into_owned(self) -> Delta<'static> {
        Delta { kind: self.kind, raw: self.raw.into_owned() }
    }

    /// The new message, when this is one.
    pub fn as_new_message(&self) -> Option<&NewMessage> {
        match &self.kind {
            DeltaKind::NewMessage(m) => Some(m),
            _ => None,
        }
    }

    /// The delta's class as on the wire.
    pub fn class(&self) -> &str {
        match &self.kind {
            DeltaKind::NewMessage(_) => "NewMessage",
            DeltaKind::ReadReceipt(_) => "ReadReceipt",
            DeltaKind::Other { class } => class,
        }
    }
}

#[derive(Deserialize)]
struct WireEvent {
    delta: Option<Value>,
}

fn new_message(delta: &Value) -> Result<NewMessage, (String, String)> {
    let meta = delta
        .get("messageMetadata")
        .filter(|m| m.is_object())
        .ok_or_else(|| ("delta".to_owned(), "a NewMessage needs a `messageMetadata` object".to_owned()))?;
    let body = match delta.get("body") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => return Err(("delta.body".to_owned(), format!("expected a string, found {other}"))),
    };
    let attachments = match delta.get("attachments") {
        None | Some(Value::Null) => 0,
        Some(Value::Array(a)) => a.len(),
        Some(other) => return Err(("delta.attachments".to_owned(), format!("expected an array, found {other}"))),
    };
    let message_id = match meta.get("messageId") {
        Some(Value::String(id)) => id.clone(),
        _ => return Err(("delta.messageMetadata.messageId".to_owned(), "expected a string".to_owned())),
    };
    let offline_threading_id = match meta.get("offlineThreadingId") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(other) => {
            return Err((
                "delta.messageMetadata.offlineThreadingId".to_owned(),
                format!("expected a string, found {other}"),
            ));
        }
    };
    let tags = match meta.get("tags") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(tags)) => tags.iter().filter_map(|t| t.as_str().map(str::to_owned)).collect(),
        Some(other) => {
            return Err(("delta.messageMetadata.tags".to_owned(), format!("expected an array, found {other}")));
        }
    };
    Ok(NewMessage {
        message_id,
        actor: id_at(meta, &["actorFbId"]).map_err(|(p, m)| (format!("delta.messageMetadata.{p}"), m))?,
        timestamp: int_at(meta, &["timestamp"]).map_err(|(p, m)| (format!("delta.messageMetadata.{p}"), m))?,
        thread: thread_key(meta, "delta.messageMetadata.threadKey")?,
        offline_threading_id,
        tags,
        body,
        attachments,
    })
}

fn thread_key(parent: &Value, path: &str) -> Result<ThreadKey, (String, String)> {
    let key = parent.get("threadKey").ok_or_else(|| (path.to_owned(), "missing".to_owned()))?;
    if key.get("threadFbId").is_some_and(|v| !v.is_null()) {
        return id_at(key, &["threadFbId"]).map(ThreadKey::Group).map_err(|(p, m)| (format!("{path}.{p}"), m));
    }
    id_at(key, &["otherUserFbId"]).map(ThreadKey::User).map_err(|(p, m)| (format!("{path}.{p}"), m))
}

/// A uid at `path`: a number or a string of digits, as the era wrote both.
fn id_at(value: &Value, path: &[&str]) -> Result<u64, (String, String)> {
    let found = lookup(value, path)?;
    match found {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .ok_or_else(|| (path.join("."), format!("expected a uid, found {found}")))
}

/// A number at `path`, or a string of one.
fn int_at(value: &Value, path: &[&str]) -> Result<i64, (String, String)> {
    let found = lookup(value, path)?;
    match found {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .ok_or_else(|| (path.join("."), format!("expected an integer, found {found}")))
}

fn lookup<'v>(value: &'v Value, path: &[&str]) -> Result<&'v Value, (String, String)> {
    let mut at = value;
    for key in path {
        at = at.get(key).ok_or_else(|| (path.join("."), "missing".to_owned()))?;
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_message_round_trips_and_reads_as_a_2008_message() {
        let m = NewMessage {
            message_id: "mid.$123".into(),
            actor: 1002,
            timestamp: 1_500_000_000_000,
            thread: ThreadKey::User(1002),
            offline_threading_id: Some("123".into()),
            tags: vec!["source:chat:web".into()],
            body: Some("a \"quoted\" </script> ☃ 😀".into()),
            attachments: 0,
        };
        let delta = m.to_delta();
        let parsed = Delta::parse(delta.raw.clone()).expect("parses");
        assert_eq!(parsed, delta);
        let seen = m.to_message(1001);
        assert_eq!((seen.from, seen.to, seen.msg_id.as_deref()), (1002, 1001, Some("123")));
        let own = NewMessage { actor: 1001, ..m }.to_message(1001);
        assert_eq!(own.to, 1002, "the viewer's own message goes to the other end");
    }

    #[test]
    fn wrong_shapes_say_where() {
        let raw = RawJson::parse(r#"{"type":"delta","delta":{"class":"NewMessage","messageMetadata":{"messageId":"m","actorFbId":"x","timestamp":"1","threadKey":{"otherUserFbId":"2"}}}}"#).unwrap();
        let (path, _) = Delta::parse(raw).expect_err("a bad actor");
        assert_eq!(path, "delta.messageMetadata.actorFbId");
        let raw = RawJson::parse(r#"{"type":"delta","delta":{"class":"ForcedFetch"}}"#).unwrap();
        assert_eq!(Delta::parse(raw).expect("other").class(), "ForcedFetch");
    }
}
