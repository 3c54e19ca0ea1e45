//! Tolerant slots for the decoding pass.
//!
//! The decoder reads a body in one serde pass without knowing yet what it is
//! (`t` or `type` may come last, key order is not fixed), so known keys are
//! read into [`Scalar`]s that accept any JSON value. Only when the object is
//! complete does the build step decide what each value must be, and report a
//! mismatch with the key's path and byte offset.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// Any JSON value, with the scalars kept and containers skipped.
#[derive(Debug)]
pub(crate) enum Scalar<'de> {
    Null,
    Bool(bool),
    I64(i64),
    U64(u64),
    F64,
    Str(Cow<'de, str>),
    Array,
    Object,
}

impl<'de> Scalar<'de> {
    /// What a value of this kind is called in an error message.
    pub(crate) fn what(&self) -> &'static str {
        match self {
            Scalar::Null => "null",
            Scalar::Bool(_) => "a boolean",
            Scalar::I64(_) | Scalar::U64(_) => "an integer",
            Scalar::F64 => "a fractional or out-of-range number",
            Scalar::Str(_) => "a string",
            Scalar::Array => "an array",
            Scalar::Object => "an object",
        }
    }

    /// An integer: a JSON integer that fits, or a string holding one.
    pub(crate) fn as_i64(&self) -> Option<i64> {
        match self {
            Scalar::I64(v) => Some(*v),
            Scalar::U64(v) => i64::try_from(*v).ok(),
            Scalar::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// A non-negative integer (ids): a JSON integer or a string holding one.
    pub(crate) fn as_u64(&self) -> Option<u64> {
        match self {
            Scalar::I64(v) => u64::try_from(*v).ok(),
            Scalar::U64(v) => Some(*v),
            Scalar::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// A flag: a boolean, or the integers 0 and 1 as PHP wrote them.
    pub(crate) fn as_bool(&self) -> Option<bool> {
        match self {
            Scalar::Bool(b) => Some(*b),
            Scalar::I64(0) | Scalar::U64(0) => Some(false),
            Scalar::I64(1) | Scalar::U64(1) => Some(true),
            _ => None,
        }
    }

    /// A string and nothing else.
    pub(crate) fn into_str(self) -> Option<Cow<'de, str>> {
        match self {
            Scalar::Str(s) => Some(s),
            _ => None,
        }
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Scalar::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Scalar::Null)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Scalar::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Scalar::I64(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Scalar::U64(v))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Scalar::F64)
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Owned(v)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Array)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Object)
    }
}

impl<'de> Deserialize<'de> for Scalar<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ScalarVisitor)
    }
}

/// A value expected to be an object or an array, read into `T` when it is
/// one, skipped (and remembered as what it was) when it is not.
#[derive(Debug)]
pub(crate) enum Shaped<T> {
    Ok(T),
    Not(&'static str),
}

/// A [`Visitor`] for the expected container that also accepts and skips
/// every other JSON value, so that a wrong shape never stops the pass.
pub(crate) trait ShapedVisitor<'de>: Sized {
    type Value;
    fn visit_map<A: MapAccess<'de>>(self, _map: A) -> Result<Shaped<Self::Value>, A::Error>;
    fn visit_seq<A: SeqAccess<'de>>(self, _seq: A) -> Result<Shaped<Self::Value>, A::Error>;
}

/// Reads one value through a [`ShapedVisitor`].
pub(crate) fn shaped<'de, D, V>(deserializer: D, visitor: V) -> Result<Shaped<V::Value>, D::Error>
where
    D: Deserializer<'de>,
    V: ShapedVisitor<'de>,
{
    struct Adapter<V>(V);
    impl<'de, V: ShapedVisitor<'de>> Visitor<'de> for Adapter<V> {
        type Value = Shaped<V::Value>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("any JSON value")
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            self.0.visit_map(map)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            self.0.visit_seq(seq)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Shaped::Not("null"))
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Shaped::Not("null"))
        }
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(Shaped::Not("a boolean"))
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok(Shaped::Not("a number"))
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok(Shaped::Not("a number"))
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok(Shaped::Not("a number"))
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok(Shaped::Not("a string"))
        }
    }
    deserializer.deserialize_any(Adapter(visitor))
}

/// Skips an object where an array was expected.
pub(crate) fn skip_map<'de, A: MapAccess<'de>, T>(mut map: A) -> Result<Shaped<T>, A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(Shaped::Not("an object"))
}

/// Skips an array where an object was expected.
pub(crate) fn skip_seq<'de, A: SeqAccess<'de>, T>(mut seq: A) -> Result<Shaped<T>, A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(Shaped::Not("an array"))
}
