//! A plain JSON view of decoded values, for tools and fixtures.
//!
//! `fbcomet decode` prints it and the fixture tests compare against it, so
//! its form is stable: snake_case names, a `kind` on every body and payload,
//! a `type` on every event, absent fields left out.

use serde_json::{Map, Value, json};

use crate::{
    Body, BuddyList, DeltaKind, Envelope, ErrorCode, Event, Extra, Frame, FrameKind, Notifications, Payload, RawJson,
    ThreadKey,
};

/// Describes a decoded body.
///
/// ```
/// let body = fbcomet_codec::decode(b"for (;;);{\"t\":\"refresh\", \"seq\":0}").unwrap();
/// assert_eq!(
///     fbcomet_codec::describe(&body),
///     serde_json::json!({"kind": "refresh", "seq": 0})
/// );
/// ```
pub fn describe(body: &Body<'_>) -> Value {
    match body {
        Body::Frame(f) => frame(f),
        Body::Envelope(e) => envelope(e),
    }
}

/// Describes one event.
pub fn describe_event(event: &Event<'_>) -> Value {
    let mut m = Map::new();
    m.insert("type".into(), event.kind().into());
    match event {
        Event::Msg(msg) => {
            m.insert("from".into(), msg.from.into());
            m.insert("to".into(), msg.to.into());
            for (key, value) in [
                ("from_name", &msg.from_name),
                ("to_name", &msg.to_name),
                ("from_first_name", &msg.from_first_name),
                ("to_first_name", &msg.to_first_name),
            ] {
                put(&mut m, key, value.as_deref().map(Value::from));
            }
            m.insert("text".into(), msg.text.as_ref().into());
            put(&mut m, "time", msg.time.map(Value::from));
            put(&mut m, "client_time", msg.client_time.map(Value::from));
            put(&mut m, "msg_id", msg.msg_id.as_deref().map(Value::from));
            put_extra(&mut m, "msg_extra", &msg.msg_extra);
            put_extra(&mut m, "extra", &msg.extra);
        }
        Event::Typ(t) => {
            m.insert("from".into(), t.from.into());
            m.insert("to".into(), t.to.into());
            m.insert("typing".into(), t.typing.into());
            put_extra(&mut m, "extra", &t.extra);
        }
        Event::Delta(d) => {
            m.insert("class".into(), d.class().into());
            match &d.kind {
                DeltaKind::NewMessage(nm) => {
                    m.insert("message_id".into(), nm.message_id.as_str().into());
                    m.insert("actor".into(), nm.actor.into());
                    m.insert("thread".into(), thread(nm.thread));
                    m.insert("timestamp".into(), nm.timestamp.into());
                    put(&mut m, "offline_threading_id", nm.offline_threading_id.as_deref().map(Value::from));
                    put(&mut m, "body", nm.body.as_deref().map(Value::from));
                    m.insert("tags".into(), nm.tags.clone().into());
                    m.insert("attachments".into(), nm.attachments.into());
                }
                DeltaKind::ReadReceipt(r) => {
                    m.insert("reader".into(), r.reader.into());
                    m.insert("thread".into(), thread(r.thread));
                    m.insert("watermark_ms".into(), r.watermark_ms.into());
                    m.insert("action_ms".into(), r.action_ms.into());
                }
                DeltaKind::Other { .. } => {
                    m.insert("raw".into(), raw(&d.raw));
                }
            }
        }
        Event::Unknown(u) => {
            m.insert("raw".into(), raw(&u.raw));
        }
    }
    Value::Object(m)
}

fn thread(key: ThreadKey) -> Value {
    match key {
        ThreadKey::User(uid) => json!({ "user": uid }),
        ThreadKey::Group(id) => json!({ "group": id }),
    }
}

fn frame(f: &Frame<'_>) -> Value {
    let mut m = Map::new();
    m.insert("kind".into(), f.kind_name().into());
    put(&mut m, "seq", f.seq.map(Value::from));
    match &f.kind {
        FrameKind::Msg { channel, events } => {
            put(&mut m, "channel", channel.as_deref().map(Value::from));
            m.insert("events".into(), events.iter().map(describe_event).collect());
        }
        FrameKind::Refresh { reason } => put(&mut m, "reason", reason.map(Value::from)),
        FrameKind::Lb { sticky, pool, info_extra } => {
            m.insert("sticky".into(), sticky.as_ref().into());
            put(&mut m, "pool", pool.as_deref().map(Value::from));
            put_extra(&mut m, "lb_info_extra", info_extra);
        }
        FrameKind::Batched { frames } => {
            m.insert("frames".into(), frames.iter().map(frame).collect());
        }
        FrameKind::Unknown { raw: r, .. } => {
            m.insert("raw".into(), raw(r));
        }
        FrameKind::Continue | FrameKind::Heartbeat | FrameKind::FullReload | FrameKind::Backoff => {}
    }
    put_extra(&mut m, "extra", &f.extra);
    Value::Object(m)
}

fn envelope(e: &Envelope<'_>) -> Value {
    let mut m = Map::new();
    m.insert("kind".into(), if e.is_error() { "error" } else { "envelope" }.into());
    m.insert("error".into(), e.error.into());
    if e.error != 0 {
        let name = match ErrorCode::from_code(e.error) {
            ErrorCode::Other(_) => "unknown".to_owned(),
            known => format!("{known:?}"),
        };
        m.insert("error_name".into(), name.into());
    }
    m.insert("summary".into(), e.summary.as_ref().into());
    m.insert("description".into(), e.description.as_ref().into());
    put(&mut m, "is_warning", e.is_warning.map(Value::from));
    if let Some(p) = payload(&e.payload) {
        m.insert("payload".into(), p);
    }
    put(&mut m, "bootload", e.bootload.as_ref().map(raw));
    put_extra(&mut m, "extra", &e.extra);
    Value::Object(m)
}

fn payload(p: &Payload<'_>) -> Option<Value> {
    let mut m = Map::new();
    match p {
        Payload::Absent => return None,
        Payload::Null => return Some(json!({"kind": "null"})),
        Payload::Empty => return Some(json!({"kind": "empty"})),
        Payload::Presence(p) => {
            m.insert("kind".into(), "presence".into());
            put(&mut m, "time", p.time.map(Value::from));
            put(&mut m, "buddy_list", p.buddy_list.as_ref().map(buddy_list));
            put(&mut m, "notifications", p.notifications.as_ref().map(notifications));
            put_extra(&mut m, "extra", &p.extra);
        }
        Payload::Reconnect(r) => {
            m.insert("kind".into(), "reconnect".into());
            m.insert("host".into(), r.host.as_ref().into());
            put(&mut m, "seq", r.seq.map(Value::from));
            put_extra(&mut m, "extra", &r.extra);
        }
        Payload::History(h) => {
            m.insert("kind".into(), "history".into());
            m.insert("events".into(), h.events.iter().map(describe_event).collect());
            put_extra(&mut m, "extra", &h.extra);
        }
        Payload::Other(r) => {
            m.insert("kind".into(), "other".into());
            m.insert("raw".into(), raw(r));
        }
    }
    Some(Value::Object(m))
}

fn buddy_list(b: &BuddyList<'_>) -> Value {
    let mut m = Map::new();
    put(&mut m, "list_changed", b.list_changed.map(Value::from));
    put(&mut m, "available_count", b.available_count.map(Value::from));
    m.insert("online".into(), b.now_available.iter().map(|(uid, a)| json!({"uid": uid, "idle": a.idle})).collect());
    m.insert("went_offline".into(), b.was_available.clone().into());
    m.insert(
        "users".into(),
        b.user_infos
            .iter()
            .map(|(uid, u)| {
                let mut m = Map::new();
                m.insert("uid".into(), uid.into());
                put(&mut m, "name", u.name.as_deref().map(Value::from));
                put(&mut m, "first_name", u.first_name.as_deref().map(Value::from));
                put(&mut m, "thumb_src", u.thumb_src.as_deref().map(Value::from));
                put(&mut m, "status", u.status.as_deref().map(Value::from));
                put(&mut m, "status_time", u.status_time.map(Value::from));
                put(&mut m, "status_time_rel", u.status_time_rel.as_deref().map(Value::from));
                Value::Object(m)
            })
            .collect(),
    );
    put(&mut m, "forced_render", b.forced_render.map(Value::from));
    put(&mut m, "fl_mode", b.fl_mode.map(Value::from));
    put(&mut m, "fl_data", b.fl_data.as_ref().map(raw));
    Value::Object(m)
}

fn notifications(n: &Notifications<'_>) -> Value {
    let mut m = Map::new();
    put(&mut m, "count_new", n.count_new.map(Value::from));
    put(&mut m, "count", n.count.map(Value::from));
    m.insert(
        "app_names".into(),
        n.app_names.iter().map(|(id, name)| (id.to_owned(), Value::from(name.as_ref()))).collect::<Map<_, _>>().into(),
    );
    put(&mut m, "latest_notif", n.latest_notif.map(Value::from));
    put(&mut m, "latest_read_notif", n.latest_read_notif.map(Value::from));
    put(&mut m, "markup", n.markup.as_deref().map(Value::from));
    put(&mut m, "inbox_count", n.inbox_count.map(Value::from));
    Value::Object(m)
}

fn put(m: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(v) = value {
        m.insert(key.into(), v);
    }
}

fn put_extra(m: &mut Map<String, Value>, key: &str, extra: &Extra<'_>) {
    if !extra.is_empty() {
        let obj = extra.0.iter().map(|(k, v)| (k.to_string(), raw(v))).collect();
        m.insert(key.into(), Value::Object(obj));
    }
}

fn raw(r: &RawJson<'_>) -> Value {
    serde_json::from_str(r.get()).unwrap_or_else(|_| Value::String(r.get().to_owned()))
}
