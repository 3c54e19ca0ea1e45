//! Events: the entries of a `msg` frame's `ms` array (and of history).

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess};
use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::Result;
use crate::ctx::Ctx;
use crate::delta::{Delta, DeltaKind, MID_PREFIX, NewMessage, ThreadKey};
use crate::loose::{Scalar, Shaped, ShapedVisitor, shaped, skip_seq};
use crate::raw::{CowStr, Extra, RawJson, own, own_opt};

/// One event from a channel.
///
/// docs/protocol.md lists `msg` and `typ` as the events of 2008 chat, and
/// `delta` as the `/pull` era's; every other type (`focus_chat`,
/// `notifications_read`, `m_read_receipt`, ...) is kept whole as
/// [`Event::Unknown`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event<'a> {
    /// A chat message (`"type":"msg"`).
    Msg(Message<'a>),
    /// A typing notification (`"type":"typ"`).
    Typ(Typing<'a>),
    /// A `/pull` era delta (`"type":"delta"`): new messages, read receipts.
    Delta(Delta<'a>),
    /// Any other event type, with its raw JSON.
    Unknown(UnknownEvent<'a>),
}

/// A chat message event.
///
/// Messages you send come back on your own channel (`from` is you): see
/// [`Message::is_own_echo`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message<'a> {
    /// The sender's uid (a JSON number on the wire; 64 bits).
    pub from: u64,
    /// The recipient's uid.
    pub to: u64,
    /// `from_name`, the sender's full name.
    pub from_name: Option<Cow<'a, str>>,
    /// `to_name`, the recipient's full name.
    pub to_name: Option<Cow<'a, str>>,
    /// `from_first_name`.
    pub from_first_name: Option<Cow<'a, str>>,
    /// `to_first_name`.
    pub to_first_name: Option<Cow<'a, str>>,
    /// `msg.text`, with JSON escapes resolved (HTML entities, which some
    /// 2010 text carries, are left: see [`unescape_html`]).
    pub text: Cow<'a, str>,
    /// `msg.time`: the server's time in milliseconds.
    pub time: Option<i64>,
    /// `msg.clientTime`: whatever the sender posted as `client_time`
    /// (milliseconds, or seconds from some 2008 clients).
    pub client_time: Option<i64>,
    /// `msg.msgID`: the id the sender chose, as a string (it can be
    /// negative). The key for dropping duplicates.
    pub msg_id: Option<Cow<'a, str>>,
    /// Unknown keys inside `msg`.
    pub msg_extra: Extra<'a>,
    /// Unknown keys of the event.
    pub extra: Extra<'a>,
}

/// A typing notification event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Typing<'a> {
    /// Who is typing.
    pub from: u64,
    /// To whom.
    pub to: u64,
    /// `st`: 1 (typing) is `true`, 0 (stopped) is `false`.
    pub typing: bool,
    /// Unknown keys of the event.
    pub extra: Extra<'a>,
}

/// An event of a type this codec does not model, kept whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownEvent<'a> {
    /// The event's `type`.
    pub kind: Cow<'a, str>,
    /// The whole event object as received; encoding writes it back verbatim.
    pub raw: RawJson<'a>,
}

impl<'a> Event<'a> {
    /// The event's `type` as on the wire.
    pub fn kind(&self) -> &str {
        match self {
            Event::Msg(_) => "msg",
            Event::Typ(_) => "typ",
            Event::Delta(_) => "delta",
            Event::Unknown(u) => &u.kind,
        }
    }

    /// The message this event carries as `viewer` (the user whose channel
    /// it came on) sees it: a `msg` event's, or a `NewMessage` delta's read
    /// as one ([`NewMessage::to_message`](crate::NewMessage::to_message)).
    pub fn message_for(&self, viewer: u64) -> Option<Cow<'_, Message<'a>>> {
        match self {
            Event::Msg(m) => Some(Cow::Borrowed(m)),
            Event::Delta(d) => d.as_new_message().map(|m| Cow::Owned(m.to_message(viewer))),
            _ => None,
        }
    }

    /// The `msg` event's message, when this is one.
    pub fn as_message(&self) -> Option<&Message<'a>> {
        match self {
            Event::Msg(m) => Some(m),
            _ => None,
        }
    }

    /// The message id, for messages that carry one.
    pub fn msg_id(&self) -> Option<&str> {
        self.as_message().and_then(|m| m.msg_id.as_deref())
    }

    /// Detaches the event from the input it borrows from.
    pub fn into_owned(self) -> Event<'static> {
        match self {
            Event::Msg(m) => Event::Msg(m.into_owned()),
            Event::Typ(t) => Event::Typ(Typing { extra: t.extra.into_owned(), ..t }),
            Event::Delta(d) => Event::Delta(d.into_owned()),
            Event::Unknown(u) => Event::Unknown(UnknownEvent { kind: own(u.kind), raw: u.raw.into_owned() }),
        }
    }

    /// The event as JSON text (no prefix), in the 2008 key order.
    pub fn to_json(&self) -> String {
        crate::encode::to_json_string(self)
    }
}

impl<'a> Message<'a> {
    /// A message with the given ends and text and nothing else set.
    pub fn new(from: u64, to: u64, text: impl Into<Cow<'a, str>>) -> Self {
        Self {
            from,
            to,
            from_name: None,
            to_name: None,
            from_first_name: None,
            to_first_name: None,
            text: text.into(),
            time: None,
            client_time: None,
            msg_id: None,
            msg_extra: Extra::new(),
            extra: Extra::new(),
        }
    }

    /// Whether this is the echo of a message `me` sent to someone else.
    ///
    /// docs/protocol.md: messages you send come back on your own channel with
    /// `from` = you; drop them unless `to` is you too.
    pub fn is_own_echo(&self, me: u64) -> bool {
        self.from == me && self.to != me
    }

    /// The text with the HTML entities of 2010-era text resolved.
    pub fn text_unescaped(&self) -> Cow<'_, str> {
        unescape_html(&self.text)
    }

    /// Detaches the message from the input it borrows from.
    pub fn into_owned(self) -> Message<'static> {
        Message {
            from: self.from,
            to: self.to,
            from_name: own_opt(self.from_name),
            to_name: own_opt(self.to_name),
            from_first_name: own_opt(self.from_first_name),
            to_first_name: own_opt(self.to_first_name),
            text: own(self.text),
            time: self.time,
            client_time: self.client_time,
            msg_id: own_opt(self.msg_id),
            msg_extra: self.msg_extra.into_owned(),
            extra: self.extra.into_owned(),
        }
    }
}

/// Resolves the HTML entities that some 2010 message text carries on top of
/// JSON escaping: `&amp;`, `&quot;`, `&#039;` (and `&#39;`), `&lt;`, `&gt;`.
/// Anything else is left as it is.
pub fn unescape_html(text: &str) -> Cow<'_, str> {
    if !text.contains('&') {
        return Cow::Borrowed(text);
    }
    const ENTITIES: &[(&str, char)] =
        &[("&amp;", '&'), ("&quot;", '"'), ("&#039;", '\''), ("&#39;", '\''), ("&lt;", '<'), ("&gt;", '>')];
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        match ENTITIES.iter().find(|(e, _)| rest.starts_with(e)) {
            Some((e, c)) => {
                out.push(*c);
                rest = &rest[e.len()..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

impl Serialize for Event<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Event::Msg(m) => {
                let mut map = serializer.serialize_map(None)?;
                map.serialize_entry("type", "msg")?;
                map.serialize_entry("msg", &MsgInner(m))?;
                map.serialize_entry("from", &m.from)?;
                map.serialize_entry("to", &m.to)?;
                for (key, value) in [
                    ("from_name", &m.from_name),
                    ("to_name", &m.to_name),
                    ("from_first_name", &m.from_first_name),
                    ("to_first_name", &m.to_first_name),
                ] {
                    if let Some(v) = value {
                        map.serialize_entry(key, v)?;
                    }
                }
                m.extra.serialize_into(&mut map)?;
                map.end()
            }
            Event::Typ(t) => {
                let mut map = serializer.serialize_map(None)?;
                map.serialize_entry("type", "typ")?;
                map.serialize_entry("st", &u8::from(t.typing))?;
                map.serialize_entry("from", &t.from)?;
                map.serialize_entry("to", &t.to)?;
                t.extra.serialize_into(&mut map)?;
                map.end()
            }
            Event::Delta(d) => d.raw.serialize(serializer),
            Event::Unknown(u) => u.raw.serialize(serializer),
        }
    }
}

struct MsgInner<'m, 'a>(&'m Message<'a>);

impl Serialize for MsgInner<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let m = self.0;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("text", &m.text)?;
        if let Some(time) = m.time {
            map.serialize_entry("time", &time)?;
        }
        if let Some(client_time) = m.client_time {
            map.serialize_entry("clientTime", &client_time)?;
        }
        if let Some(id) = &m.msg_id {
            map.serialize_entry("msgID", id)?;
        }
        m.msg_extra.serialize_into(&mut map)?;
        map.end()
    }
}

// ---- decoding -------------------------------------------------------------

/// An event object as read in the decoding pass.
#[derive(Default)]
pub(crate) struct EventFields<'de> {
    kind: Option<Scalar<'de>>,
    from: Option<Scalar<'de>>,
    to: Option<Scalar<'de>>,
    st: Option<Scalar<'de>>,
    names: [Option<Scalar<'de>>; 4],
    msg: Option<Shaped<MsgFields<'de>>>,
    extra: Extra<'de>,
}

const NAME_KEYS: [&str; 4] = ["from_name", "to_name", "from_first_name", "to_first_name"];

#[derive(Default)]
pub(crate) struct MsgFields<'de> {
    text: Option<Scalar<'de>>,
    time: Option<Scalar<'de>>,
    client_time: Option<Scalar<'de>>,
    msg_id: Option<Scalar<'de>>,
    extra: Extra<'de>,
}

struct EventVisitor;

impl<'de> ShapedVisitor<'de> for EventVisitor {
    type Value = EventFields<'de>;

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Shaped<Self::Value>, A::Error> {
        let mut f = EventFields::default();
        while let Some(CowStr(key)) = map.next_key()? {
            match key.as_ref() {
                "type" => f.kind = Some(map.next_value()?),
                "from" => f.from = Some(map.next_value()?),
                "to" => f.to = Some(map.next_value()?),
                "st" => f.st = Some(map.next_value()?),
                "msg" => f.msg = Some(map.next_value()?),
                k => match NAME_KEYS.iter().position(|n| *n == k) {
                    Some(i) => f.names[i] = Some(map.next_value()?),
                    None => f.extra.push(key, map.next_value()?),
                },
            }
        }
        Ok(Shaped::Ok(f))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Shaped<Self::Value>, A::Error> {
        skip_seq(seq)
    }
}

impl<'de> Deserialize<'de> for Shaped<EventFields<'de>> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        shaped(deserializer, EventVisitor)
    }
}

struct MsgVisitor;

impl<'de> ShapedVisitor<'de> for MsgVisitor {
    type Value = MsgFields<'de>;

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Shaped<Self::Value>, A::Error> {
        let mut f = MsgFields::default();
        while let Some(CowStr(key)) = map.next_key()? {
            match key.as_ref() {
                "text" => f.text = Some(map.next_value()?),
                "time" => f.time = Some(map.next_value()?),
                "clientTime" => f.client_time = Some(map.next_value()?),
                "msgID" => f.msg_id = Some(map.next_value()?),
                _ => f.extra.push(key, map.next_value()?),
            }
        }
        Ok(Shaped::Ok(f))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Shaped<Self::Value>, A::Error> {
        skip_seq(seq)
    }
}

impl<'de> Deserialize<'de> for Shaped<MsgFields<'de>> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        shaped(deserializer, MsgVisitor)
    }
}

/// Builds the events of an array read in the decoding pass; `ctx` stands at
/// the array.
pub(crate) fn build_events<'a>(slots: Vec<Shaped<EventFields<'a>>>, ctx: &mut Ctx<'a>) -> Result<Vec<Event<'a>>> {
    let mut events = Vec::with_capacity(slots.len());
    for (i, slot) in slots.into_iter().enumerate() {
        ctx.enter_index(i);
        let event = match slot {
            Shaped::Ok(fields) => build_event(fields, ctx),
            Shaped::Not(found) => Err(ctx.shape(None, format!("expected an event object, found {found}"))),
        };
        ctx.leave();
        events.push(event?);
    }
    Ok(events)
}

fn build_event<'a>(f: EventFields<'a>, ctx: &mut Ctx<'a>) -> Result<Event<'a>> {
    let kind = match f.kind.map(Scalar::into_str) {
        Some(Some(kind)) => kind,
        _ => return Err(ctx.shape(Some("type"), "an event needs a `type` string".into())),
    };
    let EventFields { from, to, st, names, msg, mut extra, .. } = f;
    match kind.as_ref() {
        "msg" => {
            let msg = match msg {
                Some(Shaped::Ok(msg)) => msg,
                Some(Shaped::Not(found)) => {
                    return Err(ctx.shape(Some("msg"), format!("expected an object, found {found}")));
                }
                None => return Err(ctx.shape(None, "a msg event needs a `msg` object".into())),
            };
            let [from_name, to_name, from_first_name, to_first_name] = names;
            let from = ctx.required("from", ctx.uid("from", from)?)?;
            let to = ctx.required("to", ctx.uid("to", to)?)?;
            let from_name = ctx.string("from_name", from_name)?;
            let to_name = ctx.string("to_name", to_name)?;
            let from_first_name = ctx.string("from_first_name", from_first_name)?;
            let to_first_name = ctx.string("to_first_name", to_first_name)?;
            ctx.keep_if(&mut extra, "st", st.is_some());
            ctx.enter_key("msg");
            let inner = build_msg(msg, ctx);
            ctx.leave();
            let (text, time, client_time, msg_id, msg_extra) = inner?;
            Ok(Event::Msg(Message {
                from,
                to,
                from_name,
                to_name,
                from_first_name,
                to_first_name,
                text,
                time,
                client_time,
                msg_id,
                msg_extra,
                extra,
            }))
        }
        "typ" => {
            let typing = match st {
                None => return Err(ctx.shape(None, "a typ event needs `st`".into())),
                Some(st) => match st.as_bool().or_else(|| st.as_i64().map(|v| v != 0)) {
                    Some(typing) => typing,
                    None => {
                        return Err(ctx.shape(Some("st"), format!("expected 0 or 1, found {}", st.what())));
                    }
                },
            };
            let from = ctx.required("from", ctx.uid("from", from)?)?;
            let to = ctx.required("to", ctx.uid("to", to)?)?;
            ctx.keep_if(&mut extra, "msg", msg.is_some());
            for (key, slot) in NAME_KEYS.iter().zip(&names) {
                ctx.keep_if(&mut extra, key, slot.is_some());
            }
            Ok(Event::Typ(Typing { from, to, typing, extra }))
        }
        "delta" => Delta::parse(ctx.raw_here()?).map(Event::Delta).map_err(|(path, message)| {
            let key = path.split('.').next().filter(|k| !k.is_empty()).map(|_| "delta");
            ctx.shape(key, if path.is_empty() { message } else { format!("{path}: {message}") })
        }),
        _ => Ok(Event::Unknown(UnknownEvent { kind, raw: ctx.raw_here()? })),
    }
}

type MsgParts<'a> = (Cow<'a, str>, Option<i64>, Option<i64>, Option<Cow<'a, str>>, Extra<'a>);

fn build_msg<'a>(m: MsgFields<'a>, ctx: &mut Ctx<'a>) -> Result<MsgParts<'a>> {
    let text = ctx.required("text", ctx.string("text", m.text)?)?;
    let time = ctx.int("time", m.time)?;
    let client_time = ctx.int("clientTime", m.client_time)?;
    let msg_id = ctx.text("msgID", m.msg_id)?;
    Ok((text, time, client_time, msg_id, m.extra))
}

impl fmt::Display for Event<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Msg(m) => write!(f, "msg {} -> {}: {:?}", m.from, m.to, m.text),
            Event::Typ(t) => write!(f, "typ {} -> {}: {}", t.from, t.to, if t.typing { "typing" } else { "stopped" }),
            Event::Delta(d) => match &d.kind {
                DeltaKind::NewMessage(m) => {
                    write!(f, "delta NewMessage {} in {:?}: {:?}", m.actor, m.thread, m.body.as_deref().unwrap_or(""))
                }
                DeltaKind::ReadReceipt(r) => write!(f, "delta ReadReceipt by {} in {:?}", r.reader, r.thread),
                DeltaKind::Other { class } => write!(f, "delta {class}"),
            },
            Event::Unknown(u) => write!(f, "{} (unknown event)", u.kind),
        }
    }
}

impl NewMessage {
    /// The message as `viewer` (the user whose pull it came on) sees it, in
    /// the shape of a 2008 message: `from` the actor, `to` the other end
    /// (the viewer, unless the viewer sent it), `msg_id` the sending
    /// client's id where the delta carries one (so that a message has the
    /// same key in every dialect), else the message id.
    pub fn to_message(&self, viewer: u64) -> Message<'static> {
        let to = match self.thread {
            ThreadKey::User(other) if self.actor == viewer => other,
            ThreadKey::User(_) => viewer,
            ThreadKey::Group(group) => group,
        };
        let id = self
            .offline_threading_id
            .clone()
            .or_else(|| self.message_id.strip_prefix(MID_PREFIX).map(str::to_owned))
            .unwrap_or_else(|| self.message_id.clone());
        let mut message = Message::new(self.actor, to, self.body.clone().unwrap_or_default());
        message.time = Some(self.timestamp);
        message.msg_id = Some(Cow::Owned(id));
        message
    }
}
