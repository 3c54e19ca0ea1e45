//! The decoding pass: a body object read into tolerant slots, frame keys
//! and envelope keys both, since the kind is known only when the object is
//! complete.

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess};

use crate::event::EventFields;
use crate::loose::{Scalar, Shaped, ShapedVisitor, shaped, skip_seq};
use crate::payload::PayloadSlot;
use crate::raw::{CowStr, Extra, RawJson};

/// A body object as read in the decoding pass: frame keys and envelope keys
/// both, since the kind is known only when the object is complete.
#[derive(Default)]
pub(crate) struct BodyFields<'de> {
    pub(crate) t: Option<Scalar<'de>>,
    pub(crate) c: Option<Scalar<'de>>,
    pub(crate) seq: Option<Scalar<'de>>,
    pub(crate) s: Option<Scalar<'de>>,
    pub(crate) reason: Option<Scalar<'de>>,
    pub(crate) ms: Option<Shaped<Vec<Shaped<EventFields<'de>>>>>,
    pub(crate) lb_info: Option<Shaped<LbFields<'de>>>,
    pub(crate) batches: Option<Shaped<Vec<Shaped<BodyFields<'de>>>>>,
    pub(crate) extra: Extra<'de>,
    pub(crate) envelope: EnvelopeFields<'de>,
}

#[derive(Default)]
pub(crate) struct EnvelopeFields<'de> {
    pub(crate) error: Option<Scalar<'de>>,
    pub(crate) summary: Option<Scalar<'de>>,
    pub(crate) description: Option<Scalar<'de>>,
    pub(crate) is_warning: Option<Scalar<'de>>,
    pub(crate) payload: Option<PayloadSlot<'de>>,
    pub(crate) bootload: Option<RawJson<'de>>,
}

impl EnvelopeFields<'_> {
    /// The envelope keys that were present (for keeping them on a frame).
    pub(crate) fn present_keys(&self) -> impl Iterator<Item = &'static str> {
        [
            ("error", self.error.is_some()),
            ("errorSummary", self.summary.is_some()),
            ("errorDescription", self.description.is_some()),
            ("errorIsWarning", self.is_warning.is_some()),
            ("payload", self.payload.is_some()),
            ("bootload", self.bootload.is_some()),
        ]
        .into_iter()
        .filter_map(|(k, present)| present.then_some(k))
    }
}

#[derive(Default)]
pub(crate) struct LbFields<'de> {
    pub(crate) sticky: Option<Scalar<'de>>,
    pub(crate) pool: Option<Scalar<'de>>,
    pub(crate) extra: Extra<'de>,
}

pub(crate) struct BodyVisitor;

impl<'de> ShapedVisitor<'de> for BodyVisitor {
    type Value = BodyFields<'de>;

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Shaped<Self::Value>, A::Error> {
        let mut f = BodyFields::default();
        while let Some(CowStr(key)) = map.next_key()? {
            match key.as_ref() {
                "t" => f.t = Some(map.next_value()?),
                "c" => f.c = Some(map.next_value()?),
                "seq" => f.seq = Some(map.next_value()?),
                "s" => f.s = Some(map.next_value()?),
                "reason" => f.reason = Some(map.next_value()?),
                "ms" => f.ms = Some(map.next_value()?),
                "lb_info" => f.lb_info = Some(map.next_value()?),
                "batches" => f.batches = Some(map.next_value()?),
                "error" => f.envelope.error = Some(map.next_value()?),
                "errorSummary" => f.envelope.summary = Some(map.next_value()?),
                "errorDescription" => f.envelope.description = Some(map.next_value()?),
                "errorIsWarning" => f.envelope.is_warning = Some(map.next_value()?),
                "payload" => f.envelope.payload = Some(map.next_value()?),
                "bootload" => f.envelope.bootload = Some(map.next_value()?),
                _ => f.extra.push(key, map.next_value()?),
            }
        }
        Ok(Shaped::Ok(f))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Shaped<Self::Value>, A::Error> {
        skip_seq(seq)
    }
}

impl<'de> Deserialize<'de> for Shaped<BodyFields<'de>> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        shaped(deserializer, BodyVisitor)
    }
}

impl<'de> Deserialize<'de> for Shaped<LbFields<'de>> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> ShapedVisitor<'de> for V {
            type Value = LbFields<'de>;
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Shaped<Self::Value>, A::Error> {
                let mut f = LbFields::default();
                while let Some(CowStr(key)) = map.next_key()? {
                    match key.as_ref() {
                        "sticky" => f.sticky = Some(map.next_value()?),
                        "pool" => f.pool = Some(map.next_value()?),
                        _ => f.extra.push(key, map.next_value()?),
                    }
                }
                Ok(Shaped::Ok(f))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Shaped<Self::Value>, A::Error> {
                skip_seq(seq)
            }
        }
        shaped(deserializer, V)
    }
}
