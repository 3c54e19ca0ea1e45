//! The anti-hijacking prefix and what may stand before the object.
//!
//! docs/protocol.md: every JSON answer starts with `for (;;);`, seen with and
//! without the space, with a space before the `{`, with whitespace or junk a
//! proxy put before the prefix, and with no prefix at all.

use crate::{Error, Result};

/// The prefix as the 2008 service sent it.
pub const PREFIX: &str = "for (;;);";

/// What stands at the start of the input, once whitespace, junk and the
/// prefix are skipped.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Start {
    /// The object starts at this offset.
    Object(usize),
    /// The input ends before an object starts; more may come. The offset is
    /// where a later look must start again (all before it is junk, prefix or
    /// whitespace that can be dropped).
    NeedMore(usize),
}

/// Finds where the JSON object starts in `input`.
///
/// Whitespace, one or more prefixes in any of their spellings, and junk
/// before a prefix are skipped. Anything else where the object must start is
/// an error. With `at_end`, running out of input is an error too.
pub(crate) fn find_object(input: &[u8], at_end: bool) -> Result<Start> {
    let mut i = 0;
    let mut after_prefix = false;
    loop {
        while i < input.len() && is_space(input[i]) {
            i += 1;
        }
        let Some(&b) = input.get(i) else {
            return if !at_end {
                Ok(Start::NeedMore(i))
            } else if after_prefix {
                Err(Error::Truncated { offset: input.len(), inside: "the prefix" })
            } else {
                Err(Error::Empty)
            };
        };
        if b == b'{' {
            return Ok(Start::Object(i));
        }
        match match_prefix(&input[i..]) {
            Prefix::Full(len) => {
                i += len;
                after_prefix = true;
                continue;
            }
            Prefix::Partial if !at_end => return Ok(Start::NeedMore(i)),
            Prefix::Partial => {
                return Err(Error::Truncated { offset: input.len(), inside: "the prefix" });
            }
            Prefix::No => {}
        }
        if after_prefix || b == b'[' {
            return Err(Error::NotAnObject { offset: i, found: describe_byte(b) });
        }
        // Junk: acceptable only when a prefix follows it.
        match find_prefix(&input[i..]) {
            Some(at) => i += at,
            None if !at_end => {
                // Keep a possible partial prefix at the end for next time.
                let keep = input.len().saturating_sub(PREFIX.len() + 8).max(i);
                return Ok(Start::NeedMore(keep));
            }
            None => {
                return Err(Error::NotAnObject { offset: i, found: describe_byte(b) });
            }
        }
    }
}

/// Returns the input with whitespace, junk and the prefix removed: the JSON
/// object and whatever follows it.
///
/// ```
/// assert_eq!(fbcomet_codec::strip_prefix(b"for (;;); {\"t\":1}").unwrap(), b"{\"t\":1}");
/// assert_eq!(fbcomet_codec::strip_prefix(b"{}").unwrap(), b"{}");
/// ```
pub fn strip_prefix(input: &[u8]) -> Result<&[u8]> {
    match find_object(input, true)? {
        Start::Object(at) => Ok(&input[at..]),
        // find_object never asks for more at the end of input.
        Start::NeedMore(_) => Err(Error::Empty),
    }
}

/// Whether `input` starts with a prefix, or with the start of one.
pub(crate) fn could_be_prefix(input: &[u8]) -> bool {
    !matches!(match_prefix(input), Prefix::No)
}

pub(crate) fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

enum Prefix {
    Full(usize),
    Partial,
    No,
}

/// Matches `for`, `(`, `;`, `;`, `)`, `;` with optional whitespace between
/// the punctuation (`for (;;);`, `for(;;);`, `for ( ; ; );`).
fn match_prefix(input: &[u8]) -> Prefix {
    const TOKENS: &[&[u8]] = &[b"for", b"(", b";", b";", b")", b";"];
    let mut i = 0;
    for (n, token) in TOKENS.iter().enumerate() {
        if n > 0 {
            while i < input.len() && is_space(input[i]) {
                i += 1;
            }
        }
        let rest = &input[i..];
        if rest.len() < token.len() {
            return if token.starts_with(rest) { Prefix::Partial } else { Prefix::No };
        }
        if !rest.starts_with(token) {
            return Prefix::No;
        }
        i += token.len();
    }
    Prefix::Full(i)
}

/// The offset of the first complete prefix in `input`.
fn find_prefix(input: &[u8]) -> Option<usize> {
    memchr::memmem::find_iter(input, b"for").find(|&at| matches!(match_prefix(&input[at..]), Prefix::Full(_)))
}

fn describe_byte(b: u8) -> &'static str {
    match b {
        b'[' => "a JSON array",
        b'"' => "a JSON string",
        b'-' | b'0'..=b'9' => "a number",
        b't' | b'f' | b'n' => "a JSON literal or other text",
        b'<' => "markup (an HTML page?)",
        0x80.. => "non-ASCII bytes",
        _ => "other bytes",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start(input: &[u8]) -> Result<Start> {
        find_object(input, true)
    }

    #[test]
    fn prefix_spellings() {
        assert_eq!(start(b"for (;;);{}"), Ok(Start::Object(9)));
        assert_eq!(start(b"for(;;);{}"), Ok(Start::Object(8)));
        assert_eq!(start(b"for (;;); {}"), Ok(Start::Object(10)));
        assert_eq!(start(b"for ( ; ; ) ;\r\n{}"), Ok(Start::Object(15)));
        assert_eq!(start(b"{}"), Ok(Start::Object(0)));
        assert_eq!(start(b" \r\n {}"), Ok(Start::Object(4)));
        assert_eq!(start(b"for (;;);for (;;);{}"), Ok(Start::Object(18)));
    }

    #[test]
    fn junk_before_prefix() {
        assert_eq!(start(b"\xef\xbb\xbffor (;;);{}"), Ok(Start::Object(12)));
        assert_eq!(start(b"HTTP junk fo for(;;);{}"), Ok(Start::Object(21)));
        assert!(matches!(start(b"junk {}"), Err(Error::NotAnObject { offset: 0, .. })));
    }

    #[test]
    fn not_objects() {
        assert!(matches!(start(b"for (;;);[1]"), Err(Error::NotAnObject { offset: 9, found: "a JSON array" })));
        assert!(matches!(start(b"[]"), Err(Error::NotAnObject { offset: 0, .. })));
        assert!(matches!(start(b"for (;;); \"x\""), Err(Error::NotAnObject { offset: 10, .. })));
        assert_eq!(start(b""), Err(Error::Empty));
        assert_eq!(start(b" \n"), Err(Error::Empty));
        assert!(start(b"for (;;);").is_err_and(|e| e.is_truncated()));
        assert!(start(b"for (;").is_err_and(|e| e.is_truncated()));
    }

    #[test]
    fn streaming_waits_for_more() {
        assert_eq!(find_object(b"for (;", false), Ok(Start::NeedMore(0)));
        assert_eq!(find_object(b"  f", false), Ok(Start::NeedMore(2)));
        assert_eq!(find_object(b"for (;;); ", false), Ok(Start::NeedMore(10)));
        assert_eq!(find_object(b"xx", false), Ok(Start::NeedMore(0)));
    }
}
