//! The codec's error: what was wrong with the input, and where.

/// Why a body could not be decoded.
///
/// Every variant carries the byte offset into the input (for the
/// [`StreamDecoder`](crate::StreamDecoder): into the whole stream) where the
/// problem was found. No input makes the codec panic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input holds nothing but whitespace.
    #[error("empty body")]
    Empty,
    /// Where a JSON object (after an optional `for (;;);` prefix) had to
    /// start, something else stands.
    #[error("expected a JSON object at byte {offset}, found {found}")]
    NotAnObject {
        /// Where the non-object starts.
        offset: usize,
        /// What stands there, in words.
        found: &'static str,
    },
    /// The input ends inside the prefix or the object.
    #[error("truncated body: input ends at byte {offset} inside {inside}")]
    Truncated {
        /// The length of the input.
        offset: usize,
        /// What was still open: "the prefix" or "the JSON object".
        inside: &'static str,
    },
    /// The object's bytes are not UTF-8.
    #[error("invalid UTF-8 at byte {offset}")]
    Utf8 {
        /// The first byte that is not part of valid UTF-8.
        offset: usize,
    },
    /// The object is not valid JSON (this includes nesting deeper than 128
    /// levels and numbers out of range).
    #[error("invalid JSON at byte {offset}: {message}")]
    Syntax {
        /// Where the parser stopped.
        offset: usize,
        /// The parser's description.
        message: String,
    },
    /// Valid JSON, but not the shape of any frame, event or envelope.
    #[error("unexpected shape at byte {offset} ({path}): {message}")]
    Shape {
        /// Where the offending value starts.
        offset: usize,
        /// The JSON path of the offending value, such as `ms[2].from`; `$`
        /// for the whole object.
        path: String,
        /// What was expected and what was found.
        message: String,
    },
    /// Something other than whitespace follows the object.
    #[error("trailing data after the object at byte {offset}")]
    TrailingData {
        /// Where the trailing data starts.
        offset: usize,
    },
    /// A frame or the junk before it grew past the decoder's size limit.
    #[error("frame too large: more than {limit} bytes from byte {offset}")]
    TooLarge {
        /// Where the oversized frame or junk starts.
        offset: usize,
        /// The limit in bytes.
        limit: usize,
    },
}

impl Error {
    /// The byte offset the error points at (0 for [`Error::Empty`]).
    pub fn offset(&self) -> usize {
        match self {
            Error::Empty => 0,
            Error::NotAnObject { offset, .. }
            | Error::Truncated { offset, .. }
            | Error::Utf8 { offset }
            | Error::Syntax { offset, .. }
            | Error::Shape { offset, .. }
            | Error::TrailingData { offset }
            | Error::TooLarge { offset, .. } => *offset,
        }
    }

    /// Whether more input could have completed the body (it was cut short).
    pub fn is_truncated(&self) -> bool {
        matches!(self, Error::Truncated { .. })
    }

    /// The same error with its offset moved by `by` bytes.
    pub(crate) fn shifted(mut self, by: usize) -> Self {
        match &mut self {
            Error::Empty => {}
            Error::NotAnObject { offset, .. }
            | Error::Truncated { offset, .. }
            | Error::Utf8 { offset }
            | Error::Syntax { offset, .. }
            | Error::Shape { offset, .. }
            | Error::TrailingData { offset }
            | Error::TooLarge { offset, .. } => *offset += by,
        }
        self
    }

    /// Converts a serde_json error on `text` into a positioned error.
    pub(crate) fn from_json(err: &serde_json::Error, text: &str) -> Self {
        let offset = offset_of(text, err.line(), err.column());
        let message = strip_position(&err.to_string());
        match err.classify() {
            serde_json::error::Category::Eof => Error::Truncated { offset: text.len(), inside: "the JSON object" },
            serde_json::error::Category::Data => Error::Shape { offset, path: "$".to_owned(), message },
            _ if message.starts_with("trailing characters") => Error::TrailingData { offset },
            _ => Error::Syntax { offset, message },
        }
    }
}

/// Codec results.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The byte offset of serde_json's 1-based line and column in `text`.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    if line == 0 {
        return 0;
    }
    let line_start = if line == 1 {
        0
    } else {
        memchr::memchr_iter(b'\n', text.as_bytes()).nth(line - 2).map_or(text.len(), |i| i + 1)
    };
    (line_start + column.saturating_sub(1)).min(text.len())
}

/// serde_json appends " at line L column C"; the offset replaces it.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}
