//! Values kept as they stood on the wire: raw JSON and unknown keys.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::value::RawValue;

/// A JSON value kept exactly as it stood on the wire, borrowed from the input
/// where possible.
///
/// Unknown frames, unknown event types and keys this codec has no field for
/// are kept this way, so they survive a decode and an encode untouched.
#[derive(Clone)]
pub struct RawJson<'a>(Cow<'a, RawValue>);

impl<'a> RawJson<'a> {
    /// Parses `json` as one JSON value and keeps its text.
    ///
    /// Fails when `json` is not exactly one valid JSON value.
    pub fn parse(json: &'a str) -> Result<Self, serde_json::Error> {
        let raw: &'a RawValue = serde_json::from_str(json)?;
        Ok(Self(Cow::Borrowed(raw)))
    }

    /// Makes a raw value from owned text, checking that it is valid JSON.
    pub fn from_string(json: String) -> Result<RawJson<'static>, serde_json::Error> {
        Ok(RawJson(Cow::Owned(RawValue::from_string(json)?)))
    }

    /// The text of `value`.
    pub fn from_value(value: &serde_json::Value) -> RawJson<'static> {
        // A Value always serializes to valid JSON; `null` is never needed.
        match serde_json::value::to_raw_value(value) {
            Ok(raw) => RawJson(Cow::Owned(raw)),
            Err(_) => RawJson(Cow::Borrowed(RawValue::NULL)),
        }
    }

    pub(crate) fn borrowed(raw: &'a RawValue) -> Self {
        Self(Cow::Borrowed(raw))
    }

    /// The JSON text, exactly as it was received.
    pub fn get(&self) -> &str {
        self.0.get()
    }

    /// Detaches the value from the input it borrows from.
    pub fn into_owned(self) -> RawJson<'static> {
        RawJson(Cow::Owned(self.0.into_owned()))
    }
}

impl PartialEq for RawJson<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl Eq for RawJson<'_> {}

impl fmt::Debug for RawJson<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.get())
    }
}

impl fmt::Display for RawJson<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.get())
    }
}

impl Serialize for RawJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for RawJson<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        <&'de RawValue>::deserialize(deserializer).map(RawJson::borrowed)
    }
}

/// Keys of an object that this codec has no field for, with their values as
/// raw JSON, in the order they were received.
///
/// docs/protocol.md: unknown keys occur in real traffic and must survive decoding
/// untouched; encoding writes them back after the known fields.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Extra<'a>(pub Vec<(Cow<'a, str>, RawJson<'a>)>);

impl<'a> Extra<'a> {
    /// No extra keys.
    pub fn new() -> Self {
        Self(Vec::new())
    }

    /// Whether there are no extra keys.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The raw value of `key`, the last one where a key repeats.
    pub fn get(&self, key: &str) -> Option<&RawJson<'a>> {
        self.0.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Adds a key and its raw value at the end.
    pub fn push(&mut self, key: impl Into<Cow<'a, str>>, value: RawJson<'a>) {
        self.0.push((key.into(), value));
    }

    /// Detaches the keys and values from the input they borrow from.
    pub fn into_owned(self) -> Extra<'static> {
        Extra(self.0.into_iter().map(|(k, v)| (Cow::Owned(k.into_owned()), v.into_owned())).collect())
    }

    pub(crate) fn serialize_into<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        for (k, v) in &self.0 {
            map.serialize_entry(k.as_ref(), v)?;
        }
        Ok(())
    }
}

/// Detaches a borrowed string from its input.
pub(crate) fn own(s: Cow<'_, str>) -> Cow<'static, str> {
    Cow::Owned(s.into_owned())
}

/// Detaches an optional borrowed string from its input.
pub(crate) fn own_opt(s: Option<Cow<'_, str>>) -> Option<Cow<'static, str>> {
    s.map(own)
}

/// A string that borrows from the input when it has no escapes.
///
/// serde's own `Cow<str>` always allocates outside derived code, so keys and
/// string values go through this.
pub(crate) struct CowStr<'de>(pub(crate) Cow<'de, str>);

impl<'de> Deserialize<'de> for CowStr<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = CowStr<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(V)
    }
}
