//! The entry points of decoding: one body from bytes, on the fast path
//! ([`crate::fast`]) where it applies and by the general decoder
//! ([`crate::general`]) otherwise.

use crate::body::Body;
use crate::envelope::Envelope;
use crate::frame::Frame;
use crate::general::decode_object_general;
use crate::{Error, Result};

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
