//! Finding the end of a JSON value without parsing it, and finding a value
//! inside an object by its path.

/// Scan state for a JSON object whose bytes arrive in pieces.
///
/// Only `{`, `}`, `[`, `]`, `"` and `\` matter, and none of them can be part
/// of a multi-byte UTF-8 sequence, so a chunk may end anywhere, even inside a
/// character.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scanner {
    depth: usize,
    in_string: bool,
    escaped: bool,
}

impl Scanner {
    /// Scans `bytes`, which continue the value from where the last call
    /// stopped (the first call starts at the value's first byte). Returns the
    /// offset in `bytes` just past the value's last byte once it closes.
    pub(crate) fn scan(&mut self, bytes: &[u8]) -> Option<usize> {
        let mut i = 0;
        while i < bytes.len() {
            if self.in_string {
                match memchr::memchr2(b'"', b'\\', &bytes[i..]) {
                    None if self.escaped => {
                        // Only possible when the chunk is the escaped byte.
                        self.escaped = false;
                        i += 1;
                        continue;
                    }
                    None => return None,
                    Some(_) if self.escaped => {
                        self.escaped = false;
                        i += 1;
                        continue;
                    }
                    Some(at) => {
                        i += at;
                        if bytes[i] == b'\\' {
                            self.escaped = true;
                        } else {
                            self.in_string = false;
                        }
                        i += 1;
                        continue;
                    }
                }
            }
            match bytes[i] {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == 0 {
                        return Some(i + 1);
                    }
                }
                _ => {}
            }
            i += 1;
        }
        None
    }
}

/// One step of a path into a JSON document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Seg {
    Key(&'static str),
    Index(usize),
}

/// Finds the text of the value at `path` in the valid JSON `text`.
///
/// Used after a successful parse, to recover the raw text of values the
/// parse skipped (unknown events and frames) and the offsets of values of
/// the wrong shape. Where a key repeats, the last one counts, as in the parse.
pub(crate) fn locate<'t>(text: &'t str, path: &[Seg]) -> Option<&'t str> {
    let bytes = text.as_bytes();
    let mut start = skip_space(bytes, 0);
    for seg in path {
        start = match *seg {
            Seg::Key(key) => find_key(bytes, start, key)?,
            Seg::Index(index) => find_index(bytes, start, index)?,
        };
    }
    let end = value_end(bytes, start)?;
    text.get(start..end)
}

fn skip_space(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && crate::prefix::is_space(bytes[i]) {
        i += 1;
    }
    i
}

/// The offset just past the value that starts at `start`.
fn value_end(bytes: &[u8], start: usize) -> Option<usize> {
    match bytes.get(start)? {
        b'{' | b'[' => Scanner::default().scan(&bytes[start..]).map(|len| start + len),
        b'"' => string_end(bytes, start),
        _ => {
            let len = bytes[start..]
                .iter()
                .position(|&b| matches!(b, b',' | b'}' | b']') || crate::prefix::is_space(b))
                .unwrap_or(bytes.len() - start);
            Some(start + len)
        }
    }
}

fn string_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    loop {
        i += memchr::memchr2(b'"', b'\\', bytes.get(i..)?)?;
        if bytes[i] == b'\\' {
            i += 2;
        } else {
            return Some(i + 1);
        }
    }
}

/// The start of the value of the last `key` in the object at `start`.
fn find_key(bytes: &[u8], start: usize, key: &str) -> Option<usize> {
    if bytes.get(start) != Some(&b'{') {
        return None;
    }
    let mut found = None;
    let mut i = skip_space(bytes, start + 1);
    while bytes.get(i) == Some(&b'"') {
        let key_end = string_end(bytes, i)?;
        let raw_key = std::str::from_utf8(&bytes[i..key_end]).ok()?;
        i = skip_space(bytes, key_end);
        if bytes.get(i) != Some(&b':') {
            return None;
        }
        let value = skip_space(bytes, i + 1);
        if key_matches(raw_key, key) {
            found = Some(value);
        }
        i = skip_space(bytes, value_end(bytes, value)?);
        if bytes.get(i) == Some(&b',') {
            i = skip_space(bytes, i + 1);
        }
    }
    found
}

fn key_matches(raw_key: &str, key: &str) -> bool {
    let inner = &raw_key[1..raw_key.len() - 1];
    if inner.contains('\\') { serde_json::from_str::<String>(raw_key).is_ok_and(|k| k == key) } else { inner == key }
}

/// The start of element `index` of the array at `start`.
fn find_index(bytes: &[u8], start: usize, index: usize) -> Option<usize> {
    if bytes.get(start) != Some(&b'[') {
        return None;
    }
    let mut i = skip_space(bytes, start + 1);
    for _ in 0..index {
        if bytes.get(i) == Some(&b']') {
            return None;
        }
        i = skip_space(bytes, value_end(bytes, i)?);
        if bytes.get(i) != Some(&b',') {
            return None;
        }
        i = skip_space(bytes, i + 1);
    }
    (bytes.get(i) != Some(&b']')).then_some(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scanner_finds_the_end_across_chunks() {
        let body = br#"{"a":"x}\"{[","b":[{"c":"\\"}]} tail"#;
        for split in 0..body.len() {
            let mut s = Scanner::default();
            let end = match s.scan(&body[..split]) {
                Some(end) => end,
                None => split + s.scan(&body[split..]).expect("closes"),
            };
            assert_eq!(end, body.len() - 5, "split at {split}");
        }
    }

    #[test]
    fn locate_paths() {
        let text = r#" {"t":"msg","ms":[{"type":"x","v":[1,2]}, 7 ,"s\"]"],"k\u0065y":{"a":1},"t":"last"}"#;
        assert_eq!(locate(text, &[Seg::Key("ms")]).map(|s| s.len()), Some(35));
        assert_eq!(locate(text, &[Seg::Key("ms"), Seg::Index(0)]), Some(r#"{"type":"x","v":[1,2]}"#));
        assert_eq!(locate(text, &[Seg::Key("ms"), Seg::Index(1)]), Some("7"));
        assert_eq!(locate(text, &[Seg::Key("ms"), Seg::Index(2)]), Some(r#""s\"]""#));
        assert_eq!(locate(text, &[Seg::Key("ms"), Seg::Index(3)]), None);
        assert_eq!(locate(text, &[Seg::Key("key")]), Some(r#"{"a":1}"#));
        assert_eq!(locate(text, &[Seg::Key("t")]), Some(r#""last""#));
        assert_eq!(locate(text, &[Seg::Key("nope")]), None);
    }
}
