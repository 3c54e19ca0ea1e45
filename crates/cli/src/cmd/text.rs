//! Text for the terminal: the time of day on each line, and network text
//! made safe to print.

/// The time of day (UTC), `HH:MM:SS`, for the lines of listen and chat.
pub(crate) fn clock() -> String {
    clock_at(std::time::SystemTime::now(), false)
}

/// The time of day (UTC) of `at`, `HH:MM:SS`, with `.mmm` when `millis`.
pub(crate) fn clock_at(at: std::time::SystemTime, millis: bool) -> String {
    let ms = at.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
    let secs = ms / 1000;
    let clock = format!("{:02}:{:02}:{:02}", secs / 3600 % 24, secs / 60 % 60, secs % 60);
    if millis { format!("{clock}.{:03}", ms % 1000) } else { clock }
}

/// Text from the network made safe for a terminal: control characters
/// (escape sequences, NUL, newlines and carriage returns that would forge a
/// line) and the characters that reorder text on screen are shown escaped,
/// `\u{1b}`, so that one message stays one line and cannot change the
/// terminal. Everything else, emoji and all, is kept.
pub(crate) fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut safe = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            safe.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            safe.push(c);
        }
    }
    std::borrow::Cow::Owned(safe)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_text_cannot_drive_the_terminal() {
        assert_eq!(printable("caf\u{e9} \u{1F600} & <b>"), "caf\u{e9} \u{1F600} & <b>");
        assert_eq!(printable("\u{1b}]0;title\u{7}"), "\\u{1b}]0;title\\u{7}");
        assert_eq!(
            printable("hi\nfake 12:00:00 Carol Example (1003): forged"),
            "hi\\u{a}fake 12:00:00 Carol Example (1003): forged"
        );
        assert_eq!(printable("a\0b\rc\u{202e}d"), "a\\u{0}b\\u{d}c\\u{202e}d");
    }
}
