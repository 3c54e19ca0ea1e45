//! Decoding a kept-open connection that carries frames one after another.

use crate::decode::decode_object;
use crate::prefix::{Start, find_object, is_space};
use crate::scan::Scanner;
use crate::{Body, Error, Result};

/// The default limit on one frame, and on junk before a prefix: 16 MiB.
pub const DEFAULT_MAX_FRAME: usize = 16 << 20;

/// A decoder for a stream of bodies that arrive in chunks.
///
/// Feed it bytes as they arrive with [`push`](Self::push), split anywhere
/// (inside the prefix, inside a string, inside a UTF-8 character), and take
/// each body with [`next_body`](Self::next_body) as soon as its closing brace is in.
/// Between bodies, whitespace, prefixes and junk before a prefix are skipped.
///
/// A body that does not decode is reported as an error with its offset in
/// the whole stream, and the decoder goes on with what follows it.
///
/// ```
/// use fbcomet_codec::{Body, StreamDecoder};
///
/// let mut decoder = StreamDecoder::new();
/// decoder.push(b"for (;;);{\"t\":\"heart");
/// assert!(decoder.next_body().unwrap().is_none()); // need more
/// decoder.push(b"beat\"}\r\nfor (;;);{\"t\":\"continue\"}");
/// let mut kinds = Vec::new();
/// while let Some(body) = decoder.next_body().unwrap() {
///     if let Body::Frame(frame) = body {
///         kinds.push(frame.kind_name().to_owned());
///     }
/// }
/// assert_eq!(kinds, ["heartbeat", "continue"]);
/// decoder.finish().unwrap(); // nothing left over
/// ```
#[derive(Debug)]
pub struct StreamDecoder {
    buf: Vec<u8>,
    /// The first byte of `buf` not yet consumed.
    start: usize,
    /// The object being scanned: where it starts, how far it was scanned.
    object: Option<(usize, usize, Scanner)>,
    /// The stream offset of `buf[0]`.
    dropped: usize,
    max_frame: usize,
    /// After a non-object, everything up to the next prefix is skipped.
    resync: bool,
}

impl Default for StreamDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl StreamDecoder {
    /// A decoder with the default frame size limit.
    pub fn new() -> Self {
        Self::with_max_frame(DEFAULT_MAX_FRAME)
    }

    /// A decoder that refuses frames (and junk) longer than `max_frame` bytes.
    pub fn with_max_frame(max_frame: usize) -> Self {
        Self { buf: Vec::new(), start: 0, object: None, dropped: 0, max_frame, resync: false }
    }

    /// Appends a chunk of the stream.
    pub fn push(&mut self, chunk: &[u8]) {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.dropped += self.start;
            if let Some((begin, scanned, _)) = &mut self.object {
                *begin -= self.start;
                *scanned -= self.start;
            }
            self.start = 0;
        }
        self.buf.extend_from_slice(chunk);
    }

    /// How many bytes are buffered and not yet decoded.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    /// The stream offset just past the last byte consumed.
    pub fn position(&self) -> usize {
        self.dropped + self.start
    }

    /// The next complete body, `Ok(None)` when more input is needed.
    ///
    /// After an error, the offending body (or junk) has been consumed, and
    /// the next call goes on with what follows.
    pub fn next_body(&mut self) -> Result<Option<Body<'_>>> {
        while self.resync {
            let rest = &self.buf[self.start..];
            match memchr::memmem::find(rest, b"for") {
                Some(at) => {
                    self.start += at;
                    if crate::prefix::could_be_prefix(&self.buf[self.start..]) {
                        self.resync = false;
                    } else {
                        self.start += 1;
                    }
                }
                None => {
                    // Keep what could be the start of a prefix split off.
                    self.start += rest.len().saturating_sub(2);
                    return Ok(None);
                }
            }
        }
        let (begin, end) = loop {
            match &mut self.object {
                None => match find_object(&self.buf[self.start..], false) {
                    Ok(Start::Object(at)) => {
                        let begin = self.start + at;
                        self.object = Some((begin, begin, Scanner::default()));
                    }
                    Ok(Start::NeedMore(skip)) => {
                        self.start += skip;
                        if self.buffered() > self.max_frame {
                            return Err(self.discard_oversized());
                        }
                        return Ok(None);
                    }
                    Err(err) => {
                        let err = err.shifted(self.position());
                        // Skip the offending byte, then all up to a prefix.
                        let skip = err.offset().saturating_sub(self.position()) + 1;
                        self.start = (self.start + skip).min(self.buf.len());
                        self.resync = true;
                        return Err(err);
                    }
                },
                Some((begin, scanned, scanner)) => {
                    let (begin, from) = (*begin, *scanned);
                    match scanner.scan(&self.buf[from..]) {
                        Some(len) => {
                            self.object = None;
                            break (begin, from + len);
                        }
                        None => {
                            *scanned = self.buf.len();
                            if self.buf.len() - begin > self.max_frame {
                                self.start = begin;
                                return Err(self.discard_oversized());
                            }
                            return Ok(None);
                        }
                    }
                }
            }
        };
        self.start = end;
        let offset = self.dropped + begin;
        let bytes = &self.buf[begin..end];
        let text = std::str::from_utf8(bytes).map_err(|e| Error::Utf8 { offset: offset + e.valid_up_to() })?;
        decode_object(text, offset).map(Some)
    }

    /// Ends the stream: an error when anything but whitespace is left over
    /// (a body cut short), and the decoder is cleared either way.
    pub fn finish(&mut self) -> Result<()> {
        let rest = &self.buf[self.start..];
        let result = if rest.iter().all(|&b| is_space(b)) {
            Ok(())
        } else {
            Err(Error::Truncated {
                offset: self.position() + rest.len(),
                inside: if self.object.is_some() { "the JSON object" } else { "the prefix" },
            })
        };
        self.dropped += self.buf.len();
        self.buf.clear();
        self.start = 0;
        self.object = None;
        result
    }

    fn discard_oversized(&mut self) -> Error {
        let err = Error::TooLarge { offset: self.position(), limit: self.max_frame };
        self.start = self.buf.len();
        self.object = None;
        err
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(decoder: &mut StreamDecoder) -> Vec<String> {
        let mut out = Vec::new();
        loop {
            match decoder.next_body() {
                Ok(Some(Body::Frame(f))) => out.push(f.kind_name().to_owned()),
                Ok(Some(Body::Envelope(_))) => out.push("envelope".to_owned()),
                Ok(None) => return out,
                Err(e) => out.push(format!("error@{}", e.offset())),
            }
        }
    }

    #[test]
    fn every_split_point() {
        let stream = "for (;;);{\"t\":\"msg\",\"c\":\"p_1\",\"ms\":[{\"type\":\"msg\",\"msg\":{\"text\":\"}\\\"\u{5341}\"},\"from\":2,\"to\":1}]}\r\nfor(;;); {\"t\":\"continue\"}{\"error\":0,\"payload\":[]}";
        let bytes = stream.as_bytes();
        for split in 0..=bytes.len() {
            let mut d = StreamDecoder::new();
            d.push(&bytes[..split]);
            let mut got = kinds(&mut d);
            d.push(&bytes[split..]);
            got.extend(kinds(&mut d));
            assert_eq!(got, ["msg", "continue", "envelope"], "split at {split}");
            d.finish().unwrap();
        }
    }

    #[test]
    fn errors_are_positioned_and_the_stream_goes_on() {
        let mut d = StreamDecoder::new();
        d.push(b"for (;;);{\"t\":5} for (;;);[1] for (;;);{\"t\":\"continue\"}");
        assert_eq!(kinds(&mut d), ["error@14", "error@26", "continue"]);
    }

    #[test]
    fn truncated_at_finish() {
        let mut d = StreamDecoder::new();
        d.push(b"for (;;);{\"t\":\"cont");
        assert!(d.next_body().unwrap().is_none());
        assert_eq!(d.finish(), Err(Error::Truncated { offset: 19, inside: "the JSON object" }));
        d.push(b"for (;");
        assert!(d.next_body().unwrap().is_none());
        assert!(d.finish().unwrap_err().is_truncated());
    }

    #[test]
    fn oversized_frames_are_refused_and_dropped() {
        let mut d = StreamDecoder::with_max_frame(32);
        d.push(b"{\"t\":\"msg\",\"ms\":[");
        d.push(&[b' '; 40]);
        assert!(matches!(d.next_body(), Err(Error::TooLarge { offset: 0, limit: 32 })));
        d.push(b"]} for (;;);{\"t\":\"continue\"}");
        // The rest of the oversized frame is junk, skipped up to a prefix.
        assert_eq!(kinds(&mut d), ["continue"]);
    }

    #[test]
    fn invalid_utf8_inside_a_frame() {
        let mut d = StreamDecoder::new();
        d.push(b"for (;;);{\"t\":\"x\xff\"}for (;;);{\"t\":\"continue\"}");
        assert!(matches!(d.next_body(), Err(Error::Utf8 { offset: 16 })));
        assert!(matches!(d.next_body(), Ok(Some(Body::Frame(_)))));
    }
}
