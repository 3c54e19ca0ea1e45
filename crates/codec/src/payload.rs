//! Typed payloads of ajax envelopes: the buddy list with its notifications
//! block (presence/update.php), reconnect.php and history.php.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use crate::Result;
use crate::ctx::Ctx;
use crate::event::{Event, EventFields, build_events};
use crate::loose::{Scalar, Shaped};
use crate::raw::{CowStr, Extra, RawJson, own, own_opt};

/// What an envelope's `payload` holds.
///
/// The codec does not know which endpoint a body came from, so it tells the
/// payload by its keys: `buddy_list` or `notifications` make a
/// [`Presence`], `host` a [`Reconnect`], `history` a [`History`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload<'a> {
    /// No `payload` key.
    Absent,
    /// `null`, as error envelopes send.
    Null,
    /// `[]`, the empty payload of a successful post (send.php, typ.php).
    Empty,
    /// presence/update.php's answer (boxed: it is by far the largest).
    Presence(Box<Presence<'a>>),
    /// reconnect.php's answer.
    Reconnect(Reconnect<'a>),
    /// history.php's answer.
    History(History<'a>),
    /// Any other payload, as received.
    Other(RawJson<'a>),
}

impl Payload<'_> {
    /// Detaches the payload from the input it borrows from.
    pub fn into_owned(self) -> Payload<'static> {
        match self {
            Payload::Absent => Payload::Absent,
            Payload::Null => Payload::Null,
            Payload::Empty => Payload::Empty,
            Payload::Presence(p) => Payload::Presence(Box::new(p.into_owned())),
            Payload::Reconnect(r) => {
                Payload::Reconnect(Reconnect { host: own(r.host), seq: r.seq, extra: r.extra.into_owned() })
            }
            Payload::History(h) => Payload::History(History {
                events: h.events.into_iter().map(Event::into_owned).collect(),
                extra: h.extra.into_owned(),
            }),
            Payload::Other(raw) => Payload::Other(raw.into_owned()),
        }
    }
}

impl Serialize for Payload<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Payload::Absent | Payload::Null => serializer.serialize_unit(),
            Payload::Empty => serializer.serialize_seq(Some(0))?.end(),
            Payload::Presence(p) => {
                let mut map = serializer.serialize_map(None)?;
                if let Some(time) = p.time {
                    map.serialize_entry("time", &time)?;
                }
                if let Some(list) = &p.buddy_list {
                    map.serialize_entry("buddy_list", list)?;
                }
                if let Some(n) = &p.notifications {
                    map.serialize_entry("notifications", n)?;
                }
                p.extra.serialize_into(&mut map)?;
                map.end()
            }
            Payload::Reconnect(r) => {
                let mut map = serializer.serialize_map(None)?;
                map.serialize_entry("host", &r.host)?;
                if let Some(seq) = r.seq {
                    map.serialize_entry("seq", &seq)?;
                }
                r.extra.serialize_into(&mut map)?;
                map.end()
            }
            Payload::History(h) => {
                let mut map = serializer.serialize_map(None)?;
                map.serialize_entry("history", &h.events)?;
                h.extra.serialize_into(&mut map)?;
                map.end()
            }
            Payload::Other(raw) => raw.serialize(serializer),
        }
    }
}

/// presence/update.php's payload.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Presence<'a> {
    /// `time`: the server's time in milliseconds.
    pub time: Option<i64>,
    /// `buddy_list`, when asked for with `buddy_list=1`.
    pub buddy_list: Option<BuddyList<'a>>,
    /// `notifications`, when asked for with `notifications=1`.
    pub notifications: Option<Notifications<'a>>,
    /// Unknown keys of the payload.
    pub extra: Extra<'a>,
}

impl Presence<'_> {
    /// Detaches the payload from the input it borrows from.
    pub fn into_owned(self) -> Presence<'static> {
        Presence {
            time: self.time,
            buddy_list: self.buddy_list.map(BuddyList::into_owned),
            notifications: self.notifications.map(Notifications::into_owned),
            extra: self.extra.into_owned(),
        }
    }
}

/// The buddy list: who is online, who went offline, and who everyone is.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
pub struct BuddyList<'a> {
    /// `listChanged`.
    #[serde(rename = "listChanged", default, deserialize_with = "opt_bool", skip_serializing_if = "Option::is_none")]
    pub list_changed: Option<bool>,
    /// `availableCount`: how many friends are online.
    #[serde(rename = "availableCount", default, deserialize_with = "opt_int", skip_serializing_if = "Option::is_none")]
    pub available_count: Option<i64>,
    /// `nowAvailableList`: friends online now, uid to idle flag.
    #[serde(rename = "nowAvailableList", borrow, default)]
    pub now_available: UidMap<'a, Availability>,
    /// `wasAvailableIDs`: friends who went offline since the last request.
    #[serde(rename = "wasAvailableIDs", default, deserialize_with = "uid_list")]
    pub was_available: Vec<u64>,
    /// `userInfos`: every friend's names and status, offline ones and
    /// yourself included.
    #[serde(rename = "userInfos", borrow, default)]
    pub user_infos: UidMap<'a, UserInfo<'a>>,
    /// `forcedRender` (null in some captures).
    #[serde(rename = "forcedRender", default, deserialize_with = "opt_bool", skip_serializing_if = "Option::is_none")]
    pub forced_render: Option<bool>,
    /// `flMode`, seen in mid-2008.
    #[serde(rename = "flMode", default, deserialize_with = "opt_bool", skip_serializing_if = "Option::is_none")]
    pub fl_mode: Option<bool>,
    /// `flData`, seen in mid-2008, kept raw.
    #[serde(rename = "flData", borrow, default, skip_serializing_if = "Option::is_none")]
    pub fl_data: Option<RawJson<'a>>,
}

impl BuddyList<'_> {
    /// Detaches the list from the input it borrows from.
    pub fn into_owned(self) -> BuddyList<'static> {
        BuddyList {
            list_changed: self.list_changed,
            available_count: self.available_count,
            now_available: UidMap(self.now_available.0.into_iter().map(|(k, v)| (own(k), v)).collect()),
            was_available: self.was_available,
            user_infos: UidMap(self.user_infos.0.into_iter().map(|(k, v)| (own(k), v.into_owned())).collect()),
            forced_render: self.forced_render,
            fl_mode: self.fl_mode,
            fl_data: self.fl_data.map(RawJson::into_owned),
        }
    }
}

/// An entry of `nowAvailableList`: `{"i": idle}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Availability {
    /// `i`: whether the friend is idle.
    #[serde(rename = "i", default, deserialize_with = "lenient_bool")]
    pub idle: bool,
}

/// An entry of `userInfos`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
pub struct UserInfo<'a> {
    /// `name`, the full name.
    #[serde(default, deserialize_with = "opt_str", skip_serializing_if = "Option::is_none")]
    pub name: Option<Cow<'a, str>>,
    /// `firstName`.
    #[serde(rename = "firstName", default, deserialize_with = "opt_str", skip_serializing_if = "Option::is_none")]
    pub first_name: Option<Cow<'a, str>>,
    /// `thumbSrc`, the picture's URL.
    #[serde(rename = "thumbSrc", default, deserialize_with = "opt_str", skip_serializing_if = "Option::is_none")]
    pub thumb_src: Option<Cow<'a, str>>,
    /// `status`, the status line (null when there is none).
    #[serde(default, deserialize_with = "opt_str")]
    pub status: Option<Cow<'a, str>>,
    /// `statusTime`, seconds.
    #[serde(rename = "statusTime", default, deserialize_with = "opt_int", skip_serializing_if = "Option::is_none")]
    pub status_time: Option<i64>,
    /// `statusTimeRel`, the status time in words.
    #[serde(rename = "statusTimeRel", default, deserialize_with = "opt_str", skip_serializing_if = "Option::is_none")]
    pub status_time_rel: Option<Cow<'a, str>>,
}

impl UserInfo<'_> {
    /// Detaches the entry from the input it borrows from.
    pub fn into_owned(self) -> UserInfo<'static> {
        UserInfo {
            name: own_opt(self.name),
            first_name: own_opt(self.first_name),
            thumb_src: own_opt(self.thumb_src),
            status: own_opt(self.status),
            status_time: self.status_time,
            status_time_rel: own_opt(self.status_time_rel),
        }
    }
}

/// The notifications block of presence/update.php (`notifications=1`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
pub struct Notifications<'a> {
    /// `countNew`: unseen notifications.
    #[serde(rename = "countNew", default, deserialize_with = "opt_int", skip_serializing_if = "Option::is_none")]
    pub count_new: Option<i64>,
    /// `count`: all notifications.
    #[serde(default, deserialize_with = "opt_int", skip_serializing_if = "Option::is_none")]
    pub count: Option<i64>,
    /// `app_names`: application id to name.
    #[serde(borrow, default)]
    pub app_names: UidMap<'a, Cow<'a, str>>,
    /// `latest_notif`, seconds.
    #[serde(default, deserialize_with = "opt_int", skip_serializing_if = "Option::is_none")]
    pub latest_notif: Option<i64>,
    /// `latest_read_notif`, seconds.
    #[serde(default, deserialize_with = "opt_int", skip_serializing_if = "Option::is_none")]
    pub latest_read_notif: Option<i64>,
    /// `markup`: the notifications as HTML.
    #[serde(default, deserialize_with = "opt_str", skip_serializing_if = "Option::is_none")]
    pub markup: Option<Cow<'a, str>>,
    /// `inboxCount`: unread inbox messages (a string on the wire in 2008).
    #[serde(
        rename = "inboxCount",
        default,
        deserialize_with = "opt_int",
        serialize_with = "int_as_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub inbox_count: Option<i64>,
}

impl Notifications<'_> {
    /// Detaches the block from the input it borrows from.
    pub fn into_owned(self) -> Notifications<'static> {
        Notifications {
            count_new: self.count_new,
            count: self.count,
            app_names: UidMap(self.app_names.0.into_iter().map(|(k, v)| (own(k), own(v))).collect()),
            latest_notif: self.latest_notif,
            latest_read_notif: self.latest_read_notif,
            markup: own_opt(self.markup),
            inbox_count: self.inbox_count,
        }
    }
}

/// reconnect.php's payload: where the channel lives now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reconnect<'a> {
    /// `host`, such as `channel01`: the channel host's first label.
    pub host: Cow<'a, str>,
    /// `seq`, the seq to poll next.
    pub seq: Option<i64>,
    /// Unknown keys of the payload.
    pub extra: Extra<'a>,
}

impl Reconnect<'_> {
    /// The channel number in `host` (`channel01` is 1).
    pub fn channel_number(&self) -> Option<u32> {
        self.host.strip_prefix("channel")?.parse().ok()
    }
}

/// history.php's payload: a friend's recent messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct History<'a> {
    /// `history`, oldest first.
    pub events: Vec<Event<'a>>,
    /// Unknown keys of the payload.
    pub extra: Extra<'a>,
}

/// A JSON object keyed by uid (or other id), kept in wire order.
///
/// Keys stay strings: they are strings on the wire, and captures hold
/// placeholders such as `UID1` where numbers stood. PHP wrote an empty map as
/// `[]`, which decodes as an empty map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UidMap<'a, V>(pub Vec<(Cow<'a, str>, V)>);

impl<V> Default for UidMap<'_, V> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<'a, V> UidMap<'a, V> {
    /// The value for `key`.
    pub fn get(&self, key: &str) -> Option<&V> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The value for a numeric uid.
    pub fn get_uid(&self, uid: u64) -> Option<&V> {
        self.0.iter().find(|(k, _)| k.parse() == Ok(uid)).map(|(_, v)| v)
    }

    /// The entries in wire order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.0.iter().map(|(k, v)| (k.as_ref(), v))
    }

    /// How many entries there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<V: Serialize> Serialize for UidMap<'_, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k.as_ref(), v)?;
        }
        map.end()
    }
}

impl<'de: 'a, 'a, V: Deserialize<'de>> Deserialize<'de> for UidMap<'a, V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V2<'a, V>(PhantomData<(&'a (), V)>);
        impl<'de: 'a, 'a, V: Deserialize<'de>> Visitor<'de> for V2<'a, V> {
            type Value = UidMap<'a, V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object keyed by id")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(CowStr(k)) = map.next_key()? {
                    out.push((k, map.next_value()?));
                }
                Ok(UidMap(out))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                match seq.next_element::<IgnoredAny>()? {
                    None => Ok(UidMap(Vec::new())),
                    Some(_) => Err(de::Error::invalid_type(de::Unexpected::Seq, &self)),
                }
            }
        }
        deserializer.deserialize_any(V2(PhantomData))
    }
}

fn opt_int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match Scalar::deserialize(d)? {
        Scalar::Null => Ok(None),
        s => s
            .as_i64()
            .map(Some)
            .ok_or_else(|| de::Error::custom(format_args!("expected an integer, found {}", s.what()))),
    }
}

fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    match Scalar::deserialize(d)? {
        Scalar::Null => Ok(None),
        s => s
            .as_bool()
            .map(Some)
            .ok_or_else(|| de::Error::custom(format_args!("expected a boolean, found {}", s.what()))),
    }
}

fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    match Scalar::deserialize(d)? {
        Scalar::Null => Ok(false),
        s => s
            .as_bool()
            .or_else(|| s.as_i64().map(|v| v != 0))
            .ok_or_else(|| de::Error::custom(format_args!("expected a boolean, found {}", s.what()))),
    }
}

fn opt_str<'de: 'a, 'a, D: Deserializer<'de>>(d: D) -> Result<Option<Cow<'a, str>>, D::Error> {
    Ok(Option::<CowStr<'de>>::deserialize(d)?.map(|s| s.0))
}

fn uid_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u64>, D::Error> {
    let items = Vec::<Scalar<'de>>::deserialize(d)?;
    items
        .iter()
        .map(|s| s.as_u64().ok_or_else(|| de::Error::custom(format_args!("expected a uid, found {}", s.what()))))
        .collect()
}

fn int_as_string<S: Serializer>(v: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.collect_str(v),
        None => s.serialize_none(),
    }
}

// ---- decoding -------------------------------------------------------------

/// A `payload` as read in the decoding pass.
#[allow(clippy::large_enum_variant)] // one per body, never stored
pub(crate) enum PayloadSlot<'de> {
    Null,
    EmptyArray,
    /// A non-empty array or a scalar: kept raw.
    Other,
    Object(PayloadFields<'de>),
}

#[derive(Default)]
pub(crate) struct PayloadFields<'de> {
    time: Option<Scalar<'de>>,
    host: Option<Scalar<'de>>,
    seq: Option<Scalar<'de>>,
    buddy_list: Option<BuddyList<'de>>,
    notifications: Option<Notifications<'de>>,
    history: Option<Shaped<Vec<Shaped<EventFields<'de>>>>>,
    extra: Extra<'de>,
}

impl<'de> Deserialize<'de> for PayloadSlot<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = PayloadSlot<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a payload")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(PayloadSlot::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(PayloadSlot::Null)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(PayloadSlot::Other)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(PayloadSlot::Other)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(PayloadSlot::Other)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(PayloadSlot::Other)
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(PayloadSlot::Other)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                if seq.next_element::<IgnoredAny>()?.is_none() {
                    return Ok(PayloadSlot::EmptyArray);
                }
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(PayloadSlot::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut f = PayloadFields::default();
                while let Some(CowStr(key)) = map.next_key()? {
                    match key.as_ref() {
                        "time" => f.time = Some(map.next_value()?),
                        "host" => f.host = Some(map.next_value()?),
                        "seq" => f.seq = Some(map.next_value()?),
                        "buddy_list" => f.buddy_list = map.next_value()?,
                        "notifications" => f.notifications = map.next_value()?,
                        "history" => f.history = Some(map.next_value()?),
                        _ => f.extra.push(key, map.next_value()?),
                    }
                }
                Ok(PayloadSlot::Object(f))
            }
        }
        deserializer.deserialize_any(V)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Shaped<Vec<T>> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SeqOf<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> crate::loose::ShapedVisitor<'de> for SeqOf<T> {
            type Value = Vec<T>;
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Shaped<Vec<T>>, A::Error> {
                crate::loose::skip_map(map)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Shaped<Vec<T>>, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
                while let Some(item) = seq.next_element()? {
                    out.push(item);
                }
                Ok(Shaped::Ok(out))
            }
        }
        crate::loose::shaped(deserializer, SeqOf(PhantomData))
    }
}

/// Builds the payload; `ctx` stands at the envelope.
pub(crate) fn build_payload<'a>(slot: Option<PayloadSlot<'a>>, ctx: &mut Ctx<'a>) -> Result<Payload<'a>> {
    let fields = match slot {
        None => return Ok(Payload::Absent),
        Some(PayloadSlot::Null) => return Ok(Payload::Null),
        Some(PayloadSlot::EmptyArray) => return Ok(Payload::Empty),
        Some(PayloadSlot::Other) => return Ok(Payload::Other(ctx.raw_at("payload")?)),
        Some(PayloadSlot::Object(fields)) => fields,
    };
    ctx.enter_key("payload");
    let payload = build_payload_object(fields, ctx);
    ctx.leave();
    payload
}

fn build_payload_object<'a>(f: PayloadFields<'a>, ctx: &mut Ctx<'a>) -> Result<Payload<'a>> {
    let PayloadFields { time, host, seq, buddy_list, notifications, history, mut extra } = f;
    if buddy_list.is_some() || notifications.is_some() {
        ctx.keep_if(&mut extra, "host", host.is_some());
        ctx.keep_if(&mut extra, "seq", seq.is_some());
        ctx.keep_if(&mut extra, "history", history.is_some());
        return Ok(Payload::Presence(Box::new(Presence {
            time: ctx.int("time", time)?,
            buddy_list,
            notifications,
            extra,
        })));
    }
    if let Some(host) = host {
        ctx.keep_if(&mut extra, "time", time.is_some());
        ctx.keep_if(&mut extra, "history", history.is_some());
        let host = ctx.required("host", ctx.text("host", Some(host))?)?;
        return Ok(Payload::Reconnect(Reconnect { host, seq: ctx.int("seq", seq)?, extra }));
    }
    match history {
        Some(Shaped::Ok(slots)) => {
            ctx.keep_if(&mut extra, "time", time.is_some());
            ctx.keep_if(&mut extra, "seq", seq.is_some());
            ctx.enter_key("history");
            let events = build_events(slots, ctx);
            ctx.leave();
            Ok(Payload::History(History { events: events?, extra }))
        }
        Some(Shaped::Not(found)) => {
            Err(ctx.shape(Some("history"), format!("expected an array of events, found {found}")))
        }
        None => Ok(Payload::Other(ctx.raw_here()?)),
    }
}
