//! Encoding frames, events and envelopes back to their wire form.

use std::io;

use serde::Serialize;

use crate::{Body, Envelope, Frame};

/// The prefix written before each encoded body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Prefix {
    /// `for (;;);`, as the 2008 service sent it.
    #[default]
    Classic,
    /// `for (;;); ` with a space before the `{`, as the `/pull` era sent it.
    Spaced,
    /// `for(;;);` without the space.
    Compact,
    /// No prefix at all.
    None,
}

impl Prefix {
    /// The prefix's text.
    pub fn as_str(self) -> &'static str {
        match self {
            Prefix::Classic => "for (;;);",
            Prefix::Spaced => "for (;;); ",
            Prefix::Compact => "for(;;);",
            Prefix::None => "",
        }
    }
}

/// How strings are escaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Escaping {
    /// As PHP's `json_encode` did, and so the 2008 service: `/` as `\/` and
    /// every non-ASCII character as `\uXXXX`.
    #[default]
    Php,
    /// Only what JSON requires; UTF-8 is written as it is.
    Minimal,
}

/// Writes bodies in their wire form.
///
/// The default writes what the 2008 service wrote: the `for (;;);` prefix,
/// keys in the service's order, PHP-style escapes. Raw values (unknown
/// frames, events and keys) are written back exactly as they were received.
///
/// ```
/// use fbcomet_codec::{Encoder, Frame, Prefix};
///
/// let frame = Frame::refresh(Some(0));
/// assert_eq!(Encoder::default().frame(&frame), b"for (;;);{\"t\":\"refresh\",\"seq\":0}");
/// assert_eq!(
///     Encoder::default().prefix(Prefix::Spaced).frame(&Frame::continue_()),
///     b"for (;;); {\"t\":\"continue\"}"
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Encoder {
    prefix: Prefix,
    escaping: Escaping,
}

impl Encoder {
    /// The 2008 service's form.
    pub fn new() -> Self {
        Self::default()
    }

    /// Uses `prefix` before each body.
    pub fn prefix(mut self, prefix: Prefix) -> Self {
        self.prefix = prefix;
        self
    }

    /// Escapes strings the `escaping` way.
    pub fn escaping(mut self, escaping: Escaping) -> Self {
        self.escaping = escaping;
        self
    }

    /// Encodes a body.
    pub fn body(&self, body: &Body<'_>) -> Vec<u8> {
        match body {
            Body::Frame(f) => self.frame(f),
            Body::Envelope(e) => self.envelope(e),
        }
    }

    /// Encodes a frame.
    pub fn frame(&self, frame: &Frame<'_>) -> Vec<u8> {
        let mut out = Vec::with_capacity(128);
        self.write(frame, &mut out);
        out
    }

    /// Encodes an envelope.
    pub fn envelope(&self, envelope: &Envelope<'_>) -> Vec<u8> {
        let mut out = Vec::with_capacity(128);
        self.write(envelope, &mut out);
        out
    }

    /// Appends the prefix and the JSON of `value` to `out`.
    pub fn write<T: Serialize + ?Sized>(&self, value: &T, out: &mut Vec<u8>) {
        out.extend_from_slice(self.prefix.as_str().as_bytes());
        self.write_json(value, out);
    }

    /// Appends the JSON of `value` to `out`, without a prefix.
    pub fn write_json<T: Serialize + ?Sized>(&self, value: &T, out: &mut Vec<u8>) {
        let len = out.len();
        let result = match self.escaping {
            Escaping::Php => value.serialize(&mut serde_json::Serializer::with_formatter(&mut *out, PhpFormatter)),
            Escaping::Minimal => value.serialize(&mut serde_json::Serializer::new(&mut *out)),
        };
        // The codec's types have string keys and infallible Serialize impls,
        // and a Vec never fails to grow; a failure would be a bug here.
        if let Err(err) = result {
            out.truncate(len);
            debug_assert!(false, "encoding failed: {err}");
        }
    }
}

/// JSON text of a value in the 2008 service's form, without a prefix.
pub(crate) fn to_json_string<T: Serialize + ?Sized>(value: &T) -> String {
    let mut out = Vec::new();
    Encoder::default().write_json(value, &mut out);
    // The formatter writes only ASCII and the input's own UTF-8.
    String::from_utf8(out).unwrap_or_default()
}

/// serde_json's compact form, with strings escaped as PHP's `json_encode`.
struct PhpFormatter;

impl serde_json::ser::Formatter for PhpFormatter {
    fn write_string_fragment<W: ?Sized + io::Write>(&mut self, writer: &mut W, fragment: &str) -> io::Result<()> {
        let bytes = fragment.as_bytes();
        if !bytes.iter().any(|&b| b == b'/' || b >= 0x80) {
            return writer.write_all(bytes);
        }
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if c == '/' || !c.is_ascii() {
                writer.write_all(&bytes[start..i])?;
                if c == '/' {
                    writer.write_all(b"\\/")?;
                } else {
                    let mut units = [0u16; 2];
                    for unit in c.encode_utf16(&mut units) {
                        write!(writer, "\\u{unit:04x}")?;
                    }
                }
                start = i + c.len_utf8();
            }
        }
        writer.write_all(&bytes[start..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Message;

    #[test]
    fn php_escaping() {
        let mut m = Message::new(1, 2, "a/b \u{5341} \u{1F600} \"q\" \n");
        m.msg_id = Some("-5".into());
        let json = crate::Event::Msg(m).to_json();
        assert_eq!(
            json,
            r#"{"type":"msg","msg":{"text":"a\/b \u5341 \ud83d\ude00 \"q\" \n","msgID":"-5"},"from":1,"to":2}"#
        );
    }

    #[test]
    fn minimal_escaping() {
        let m = Message::new(1, 2, "a/b \u{5341}");
        let mut out = Vec::new();
        Encoder::new().escaping(Escaping::Minimal).write_json(&crate::Event::Msg(m), &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"type\":\"msg\",\"msg\":{\"text\":\"a/b \u{5341}\"},\"from\":1,\"to\":2}"
        );
    }
}
