//! A whole body: a channel frame or an ajax envelope.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess};
use serde_json::value::RawValue;

use crate::envelope::{Envelope, build_envelope};
use crate::event::EventFields;
use crate::frame::{Frame, build_frame};
use crate::loose::{Scalar, Shaped, ShapedVisitor, shaped, skip_seq};
use crate::payload::PayloadSlot;
use crate::raw::{CowStr, Extra, RawJson};
use crate::scan::{Seg, locate};
use crate::{Error, Result};

/// What one JSON object from the protocol decodes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body<'a> {
    /// An object with a `t`: what the channel hosts send.
    Frame(Frame<'a>),
    /// An object with `error` or `payload`: what the ajax endpoints send.
    Envelope(Envelope<'a>),
}

impl Body<'_> {
    /// The body with its prefix, as the 2008 service sent it.
    pub fn encode(&self) -> Vec<u8> {
        crate::Encoder::default().body(self)
    }

    /// Detaches the body from the input it borrows from.
    pub fn into_owned(self) -> Body<'static> {
        match self {
            Body::Frame(f) => Body::Frame(f.into_owned()),
            Body::Envelope(e) => Body::Envelope(e.into_owned()),
        }
    }
}

impl<'a> From<Frame<'a>> for Body<'a> {
    fn from(frame: Frame<'a>) -> Self {
        Body::Frame(frame)
    }
}

impl<'a> From<Envelope<'a>> for Body<'a> {
    fn from(envelope: Envelope<'a>) -> Self {
        Body::Envelope(envelope)
    }
}

/// Decodes one body: whitespace, junk and the `for (;;);` prefix, then one
/// JSON object, then nothing but whitespace.
///
/// Strings without escapes are borrowed from `input`.
pub fn decode(input: &[u8]) -> Result<Body<'_>> {
    let (text, start) = object_text(input)?;
    decode_object(text, start)
}

/// The text from the object's `{` on, and where it starts.
fn object_text(input: &[u8]) -> Result<(&str, usize)> {
    let start = match crate::prefix::find_object(input, true)? {
        crate::prefix::Start::Object(at) => at,
        crate::prefix::Start::NeedMore(_) => return Err(Error::Empty),
    };
    let text = std::str::from_utf8(&input[start..]).map_err(|e| Error::Utf8 { offset: start + e.valid_up_to() })?;
    Ok((text, start))
}

/// Decodes one body that must be a channel frame.
pub fn decode_frame(input: &[u8]) -> Result<Frame<'_>> {
    match decode(input)? {
        Body::Frame(frame) => Ok(frame),
        Body::Envelope(_) => Err(not_what_was_asked(input, "a channel frame", "an ajax envelope")),
    }
}

/// Decodes one body that must be an ajax envelope.
pub fn decode_envelope(input: &[u8]) -> Result<Envelope<'_>> {
    match decode(input)? {
        Body::Envelope(envelope) => Ok(envelope),
        Body::Frame(_) => Err(not_what_was_asked(input, "an ajax envelope", "a channel frame")),
    }
}

fn not_what_was_asked(input: &[u8], wanted: &str, found: &str) -> Error {
    Error::Shape {
        offset: crate::prefix::find_object(input, true)
            .ok()
            .and_then(|s| match s {
                crate::prefix::Start::Object(at) => Some(at),
                crate::prefix::Start::NeedMore(_) => None,
            })
            .unwrap_or(0),
        path: "$".to_owned(),
        message: format!("expected {wanted}, found {found}"),
    }
}

/// Decodes the JSON object that is `text` (plus trailing whitespace), which
/// starts at byte `base` of the caller's input: the common shapes on the
/// fast path ([`crate::fast`]), everything else (and every error) by the
/// general decoder.
pub(crate) fn decode_object(text: &str, base: usize) -> Result<Body<'_>> {
    match crate::fast::decode(text) {
        Some(body) => Ok(body),
        None => decode_object_general(text, base),
    }
}

/// [`decode`] without the fast path: the general decoder alone, which the
/// fast path must agree with on every input (the differential fuzz target
/// and the property tests compare the two). Not for other uses.
#[doc(hidden)]
pub fn decode_general(input: &[u8]) -> Result<Body<'_>> {
    let (text, start) = object_text(input)?;
    decode_object_general(text, start)
}

/// The general decoder: one serde pass into tolerant slots, then the typed
/// values built from them, with a path and an offset for every error.
pub(crate) fn decode_object_general(text: &str, base: usize) -> Result<Body<'_>> {
    let mut de = serde_json::Deserializer::from_str(text);
    let fields = match shaped(&mut de, BodyVisitor) {
        Ok(Shaped::Ok(fields)) => fields,
        Ok(Shaped::Not(found)) => {
            return Err(Error::NotAnObject { offset: base, found });
        }
        Err(err) => return Err(Error::from_json(&err, text).shifted(base)),
    };
    de.end().map_err(|err| Error::from_json(&err, text).shifted(base))?;
    let mut ctx = Ctx { text, base, path: Vec::new() };
    if fields.t.is_some() {
        build_frame(fields, &mut ctx).map(Body::Frame)
    } else if fields.envelope.error.is_some() || fields.envelope.payload.is_some() {
        build_envelope(fields, &mut ctx).map(Body::Envelope)
    } else {
        Err(ctx.shape(None, "neither a channel frame (no `t`) nor an ajax envelope (no `error` or `payload`)".into()))
    }
}

// ---- the decoding pass ----------------------------------------------------

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

struct BodyVisitor;

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

// ---- the build step -------------------------------------------------------

/// Where the build step stands in the object: the text (for locating raw
/// values and offsets) and the path from the top.
pub(crate) struct Ctx<'a> {
    text: &'a str,
    base: usize,
    path: Vec<Seg>,
}

impl<'a> Ctx<'a> {
    pub(crate) fn enter(&mut self, seg: Seg) {
        self.path.push(seg);
    }

    pub(crate) fn enter_key(&mut self, key: &'static str) {
        self.enter(Seg::Key(key));
    }

    pub(crate) fn enter_index(&mut self, index: usize) {
        self.enter(Seg::Index(index));
    }

    pub(crate) fn leave(&mut self) {
        self.path.pop();
    }

    fn locate(&self, key: Option<&'static str>) -> Option<&'a str> {
        match key {
            None => locate(self.text, &self.path),
            Some(key) => {
                let mut path = self.path.clone();
                path.push(Seg::Key(key));
                locate(self.text, &path)
            }
        }
    }

    fn path_string(&self, key: Option<&'static str>) -> String {
        let mut out = String::from("$");
        for seg in self.path.iter().copied().chain(key.map(Seg::Key)) {
            match seg {
                Seg::Key(k) => {
                    out.push('.');
                    out.push_str(k);
                }
                Seg::Index(i) => {
                    out.push('[');
                    out.push_str(&i.to_string());
                    out.push(']');
                }
            }
        }
        out
    }

    /// A shape error at `key` of the current object (or at the current
    /// value itself).
    pub(crate) fn shape(&self, key: Option<&'static str>, message: String) -> Error {
        let at = self
            .locate(key)
            .or_else(|| self.locate(None))
            .map_or(0, |s| s.as_ptr() as usize - self.text.as_ptr() as usize);
        Error::Shape { offset: self.base + at, path: self.path_string(key), message }
    }

    fn raw_of(&self, key: Option<&'static str>) -> Result<RawJson<'a>> {
        let text = self.locate(key).ok_or_else(|| self.shape(key, "value not found".into()))?;
        let raw: &'a RawValue = serde_json::from_str(text).map_err(|e| Error::from_json(&e, text))?;
        Ok(RawJson::borrowed(raw))
    }

    /// The raw text of the current value.
    pub(crate) fn raw_here(&self) -> Result<RawJson<'a>> {
        self.raw_of(None)
    }

    /// The raw text of `key` in the current object.
    pub(crate) fn raw_at(&self, key: &'static str) -> Result<RawJson<'a>> {
        self.raw_of(Some(key))
    }

    /// Keeps `key` as an extra key when it is present: a known key that the
    /// object's kind has no field for.
    pub(crate) fn keep_if(&self, extra: &mut Extra<'a>, key: &'static str, present: bool) {
        if present && let Ok(raw) = self.raw_at(key) {
            extra.push(Cow::Borrowed(key), raw);
        }
    }

    pub(crate) fn required<T>(&self, key: &'static str, value: Option<T>) -> Result<T> {
        value.ok_or_else(|| self.shape(None, format!("missing `{key}`")))
    }

    fn convert<T>(
        &self,
        key: &'static str,
        value: Option<Scalar<'a>>,
        expected: &str,
        f: impl FnOnce(Scalar<'a>) -> std::result::Result<T, Scalar<'a>>,
    ) -> Result<Option<T>> {
        match value {
            None | Some(Scalar::Null) => Ok(None),
            Some(v) => {
                f(v).map(Some).map_err(|v| self.shape(Some(key), format!("expected {expected}, found {}", v.what())))
            }
        }
    }

    /// An integer (or a string holding one); null is absent.
    pub(crate) fn int(&self, key: &'static str, value: Option<Scalar<'a>>) -> Result<Option<i64>> {
        self.convert(key, value, "an integer", |v| v.as_i64().ok_or(v))
    }

    /// A uid: a non-negative integer (or a string holding one).
    pub(crate) fn uid(&self, key: &'static str, value: Option<Scalar<'a>>) -> Result<Option<u64>> {
        self.convert(key, value, "a uid", |v| v.as_u64().ok_or(v))
    }

    /// A boolean (or 0/1).
    pub(crate) fn flag(&self, key: &'static str, value: Option<Scalar<'a>>) -> Result<Option<bool>> {
        self.convert(key, value, "a boolean", |v| v.as_bool().ok_or(v))
    }

    /// A string.
    pub(crate) fn string(&self, key: &'static str, value: Option<Scalar<'a>>) -> Result<Option<Cow<'a, str>>> {
        self.convert(key, value, "a string", |v| match v {
            Scalar::Str(s) => Ok(s),
            other => Err(other),
        })
    }

    /// A string or an integer written as text (ids, tokens).
    pub(crate) fn text(&self, key: &'static str, value: Option<Scalar<'a>>) -> Result<Option<Cow<'a, str>>> {
        self.convert(key, value, "a string", |v| match v {
            Scalar::Str(s) => Ok(s),
            Scalar::I64(n) => Ok(Cow::Owned(n.to_string())),
            Scalar::U64(n) => Ok(Cow::Owned(n.to_string())),
            other => Err(other),
        })
    }
}

impl fmt::Display for Body<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Body::Frame(frame) => write!(f, "frame {}", frame.kind_name()),
            Body::Envelope(e) if e.error != 0 => write!(f, "envelope error {}", e.error),
            Body::Envelope(_) => f.write_str("envelope"),
        }
    }
}
