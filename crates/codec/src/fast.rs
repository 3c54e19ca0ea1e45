//! The fast path of decoding: the common bodies read in one pass straight
//! into their typed values, strings borrowed from the input where they have
//! no escapes.
//!
//! It takes the shapes the service sent nearly always: `msg` frames of
//! `msg` and `typ` events with their usual keys and types, `continue`,
//! `refresh` and `heartbeat` frames, envelopes with an empty or null
//! payload (send.php, typ.php, errors), and presence/update.php's buddy
//! list. Anything else (another key, a number written as a string, a
//! `null` where the general decoder would not take one, a duplicate key, a
//! delta, a notifications block, and every malformed input) gives `None`,
//! and the general decoder of [`crate::body`] reads the body instead: so
//! every error, with its path and offset, and every tolerance stay that
//! decoder's, and the two agree on every input (the fuzz target
//! `differential` and the property tests check it).

use std::borrow::Cow;

use serde_json::value::RawValue;

use crate::body::Body;
use crate::envelope::Envelope;
use crate::event::{Event, Message, Typing};
use crate::frame::{Frame, FrameKind};
use crate::payload::{Availability, BuddyList, Payload, Presence, UidMap, UserInfo};
use crate::raw::{Extra, RawJson};

/// The body that `text` (one JSON object, then only whitespace) holds, if
/// it has one of the common shapes.
pub(crate) fn decode(text: &str) -> Option<Body<'_>> {
    let mut p = Parser { text, bytes: text.as_bytes(), at: 0 };
    let body = p.body()?;
    p.ws();
    (p.at == p.bytes.len()).then_some(body)
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

/// The top-level keys of a body, as read.
#[derive(Default)]
struct Top<'a> {
    t: Option<Cow<'a, str>>,
    c: Option<Cow<'a, str>>,
    seq: Option<i64>,
    reason: Option<i64>,
    ms: Option<Vec<Event<'a>>>,
    error: Option<i64>,
    summary: Option<Cow<'a, str>>,
    description: Option<Cow<'a, str>>,
    payload: Option<Payload<'a>>,
    bootload: Option<RawJson<'a>>,
}

/// Sets `slot` once; a second time is a duplicate key, for the general
/// decoder.
fn once<T>(slot: &mut Option<T>, value: Option<T>) -> Option<()> {
    if slot.is_some() {
        return None;
    }
    *slot = Some(value?);
    Some(())
}

impl<'a> Parser<'a> {
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.at) {
            self.at += 1;
        }
    }

    /// The next byte that is not whitespace, the cursor moved to it.
    #[inline]
    fn peek(&mut self) -> Option<u8> {
        let b = *self.bytes.get(self.at)?;
        // Bodies rarely have whitespace between tokens: one test for that.
        if b > b' ' {
            return Some(b);
        }
        self.ws();
        self.bytes.get(self.at).copied()
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.at += 1)
    }

    /// `{` key `:` value (`,` ...)* `}`, calling `field` for each key with
    /// the cursor at its value; an empty object too.
    fn object(&mut self, mut field: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        self.items(b'{', b'}', |p| {
            let key = p.key()?;
            p.eat(b':')?;
            field(p, key)
        })
    }

    /// `[` value (`,` ...)* `]`, calling `item` with the cursor at each
    /// value; an empty array too.
    fn array(&mut self, item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.items(b'[', b']', item)
    }

    /// `open` item (`,` item)* `close`, or `open close`: the list both
    /// containers share, `item` reading each.
    fn items(&mut self, open: u8, close: u8, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.eat(open)?;
        if self.peek()? == close {
            self.at += 1;
            return Some(());
        }
        loop {
            item(self)?;
            match self.peek()? {
                b',' => self.at += 1,
                b if b == close => {
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// Moves the cursor to the next `"`, backslash or control character,
    /// or to the end: eight bytes at a time, then the last few one by one.
    fn plain_run(&mut self) {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGH: u64 = 0x8080_8080_8080_8080;
        // The lowest flagged byte is exact (a borrow only flags bytes above
        // a true one), which is all that is used.
        let zero_byte = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
        while let Some(chunk) = self.bytes.get(self.at..self.at + 8) {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            let w = u64::from_le_bytes(word);
            let special = zero_byte(w ^ (ONES * u64::from(b'"')))
                | zero_byte(w ^ (ONES * u64::from(b'\\')))
                | (w.wrapping_sub(ONES * 0x20) & !w & HIGH);
            if special != 0 {
                self.at += (special.trailing_zeros() / 8) as usize;
                return;
            }
            self.at += 8;
        }
        while let Some(&b) = self.bytes.get(self.at) {
            if b == b'"' || b == b'\\' || b < 0x20 {
                return;
            }
            self.at += 1;
        }
    }

    /// A key without escapes (an escaped key is the general decoder's).
    #[inline(always)]
    fn key(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.at;
        self.plain_run();
        if *self.bytes.get(self.at)? != b'"' {
            return None;
        }
        self.at += 1;
        Some(&self.text[start..self.at - 1])
    }

    /// A string; borrowed when it has no escapes.
    #[inline(always)]
    fn string(&mut self) -> Option<Cow<'a, str>> {
        self.eat(b'"')?;
        let start = self.at;
        self.plain_run();
        match *self.bytes.get(self.at)? {
            b'"' => {
                let s = &self.text[start..self.at];
                self.at += 1;
                Some(Cow::Borrowed(s))
            }
            b'\\' => self.escaped(start).map(Cow::Owned),
            _ => None,
        }
    }

    /// The rest of a string with escapes, from its `start`; the cursor is at
    /// its first backslash.
    #[inline(never)]
    fn escaped(&mut self, start: usize) -> Option<String> {
        // Room for what came before the first escape and as much again
        // (PHP escaped every `/`: a URL has several), so that most strings
        // are one allocation.
        let mut out = String::with_capacity(2 * (self.at - start) + 48);
        out.push_str(&self.text[start..self.at]);
        loop {
            // At a backslash.
            self.escape(&mut out)?;
            let run = self.at;
            self.plain_run();
            out.push_str(&self.text[run..self.at]);
            match *self.bytes.get(self.at)? {
                b'"' => {
                    self.at += 1;
                    return Some(out);
                }
                b'\\' => {}
                _ => return None,
            }
        }
    }

    /// The escape at the cursor (its backslash), onto `out`.
    fn escape(&mut self, out: &mut String) -> Option<()> {
        let c = match *self.bytes.get(self.at + 1)? {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                self.at += 2;
                out.push(self.unicode_escape()?);
                return Some(());
            }
            _ => return None,
        };
        out.push(c);
        self.at += 2;
        Some(())
    }

    /// The four hex digits after `\u` (and a low surrogate's after a high
    /// one's); the cursor is at the first digit.
    fn unicode_escape(&mut self) -> Option<char> {
        let first = self.hex4()?;
        match first {
            0xd800..=0xdbff => {
                if self.bytes.get(self.at..self.at + 2)? != b"\\u" {
                    return None;
                }
                self.at += 2;
                let low = self.hex4()?;
                if !(0xdc00..=0xdfff).contains(&low) {
                    return None;
                }
                char::from_u32(0x10000 + ((first - 0xd800) << 10) + (low - 0xdc00))
            }
            0xdc00..=0xdfff => None,
            c => char::from_u32(c),
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.bytes.get(self.at..self.at + 4)?;
        let mut value = 0;
        for &b in digits {
            let digit = match b {
                b'0'..=b'9' => b - b'0',
                b'a'..=b'f' => b - b'a' + 10,
                b'A'..=b'F' => b - b'A' + 10,
                _ => return None,
            };
            value = value << 4 | u32::from(digit);
        }
        self.at += 4;
        Some(value)
    }

    /// An integer as JSON writes one (no fraction, no exponent), as i64.
    fn int(&mut self) -> Option<i64> {
        self.ws();
        let negative = self.bytes.get(self.at) == Some(&b'-');
        if negative {
            self.at += 1;
        }
        let magnitude = self.digits()?;
        if negative { 0i64.checked_sub_unsigned(magnitude) } else { i64::try_from(magnitude).ok() }
    }

    /// A non-negative integer, as u64 (uids).
    fn uid(&mut self) -> Option<u64> {
        self.ws();
        self.digits()
    }

    /// The digits of a JSON integer: no leading zero, no fraction or
    /// exponent after, no overflow.
    fn digits(&mut self) -> Option<u64> {
        let start = self.at;
        let mut n: u64 = 0;
        while let Some(&b) = self.bytes.get(self.at).filter(|b| b.is_ascii_digit()) {
            n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
            self.at += 1;
        }
        let count = self.at - start;
        if count == 0 || (count > 1 && self.bytes[start] == b'0') {
            return None;
        }
        if matches!(self.bytes.get(self.at), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        Some(n)
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        self.ws();
        (self.bytes.get(self.at..self.at + word.len())? == word).then(|| self.at += word.len())
    }

    /// Any value, as its raw text (checked by serde_json, so that what is
    /// kept raw is what the general decoder would keep).
    fn raw(&mut self) -> Option<RawJson<'a>> {
        self.ws();
        let start = self.at;
        self.skip()?;
        let raw: &'a RawValue = serde_json::from_str(&self.text[start..self.at]).ok()?;
        Some(RawJson::borrowed(raw))
    }

    fn skip(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'{' => self.object(|p, _| p.skip()),
            b'[' => self.array(Self::skip),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => {
                let start = self.at;
                while self
                    .bytes
                    .get(self.at)
                    .is_some_and(|b| matches!(b, b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'))
                {
                    self.at += 1;
                }
                (self.at > start).then_some(())
            }
        }
    }

    fn body(&mut self) -> Option<Body<'a>> {
        let mut top = Top::default();
        self.object(|p, key| match key {
            "t" => once(&mut top.t, p.string()),
            "c" => once(&mut top.c, p.string()),
            "seq" => once(&mut top.seq, p.int()),
            "reason" => once(&mut top.reason, p.int()),
            "ms" => once(&mut top.ms, p.events()),
            "error" => once(&mut top.error, p.int()),
            "errorSummary" => once(&mut top.summary, p.string()),
            "errorDescription" => once(&mut top.description, p.string()),
            "payload" => once(&mut top.payload, p.payload()),
            "bootload" => once(&mut top.bootload, p.raw()),
            _ => None,
        })?;
        let envelope = top.error.is_some()
            || top.summary.is_some()
            || top.description.is_some()
            || top.payload.is_some()
            || top.bootload.is_some();
        match top.t {
            Some(t) => {
                if envelope {
                    return None;
                }
                let kind = match t.as_ref() {
                    "msg" if top.reason.is_none() => FrameKind::Msg { channel: top.c, events: top.ms? },
                    "continue" | "heartbeat" | "refresh" if top.c.is_none() && top.ms.is_none() => match t.as_ref() {
                        "continue" if top.reason.is_none() => FrameKind::Continue,
                        "heartbeat" if top.reason.is_none() => FrameKind::Heartbeat,
                        "refresh" => FrameKind::Refresh { reason: top.reason },
                        _ => return None,
                    },
                    _ => return None,
                };
                Some(Body::Frame(Frame { kind, seq: top.seq, extra: Extra::new() }))
            }
            None if top.error.is_some() || top.payload.is_some() => {
                if top.c.is_some() || top.seq.is_some() || top.reason.is_some() || top.ms.is_some() {
                    return None;
                }
                Some(Body::Envelope(Envelope {
                    error: top.error.unwrap_or(0),
                    summary: top.summary.unwrap_or_default(),
                    description: top.description.unwrap_or_default(),
                    is_warning: None,
                    payload: top.payload.unwrap_or(Payload::Absent),
                    bootload: top.bootload,
                    extra: Extra::new(),
                }))
            }
            None => None,
        }
    }

    /// `[]`, `null`, or presence/update.php's `{"buddy_list": ..., "time":
    /// ...}`; other payloads are the general decoder's.
    fn payload(&mut self) -> Option<Payload<'a>> {
        match self.peek()? {
            b'n' => self.literal(b"null").map(|()| Payload::Null),
            b'[' => {
                self.at += 1;
                self.eat(b']').map(|()| Payload::Empty)
            }
            b'{' => {
                let (mut time, mut list) = (None, None);
                self.object(|p, key| match key {
                    "time" => once(&mut time, p.int()),
                    "buddy_list" => once(&mut list, p.buddy_list()),
                    _ => None,
                })?;
                Some(Payload::Presence(Box::new(Presence {
                    time,
                    buddy_list: Some(list?),
                    notifications: None,
                    extra: Extra::new(),
                })))
            }
            _ => None,
        }
    }

    /// A buddy list whose keys are all known and whose values have their
    /// usual types (`flData`, kept raw by the general decoder, is left to it).
    fn buddy_list(&mut self) -> Option<BuddyList<'a>> {
        let (mut changed, mut count, mut online, mut was, mut infos, mut forced, mut fl_mode) =
            (None, None, None, None, None, None, None);
        self.object(|p, key| match key {
            "listChanged" => once(&mut changed, p.opt_flag()),
            "availableCount" => once(&mut count, p.opt_int()),
            "nowAvailableList" => once(&mut online, p.uid_map(Self::availability)),
            "wasAvailableIDs" => once(&mut was, p.uid_list()),
            "userInfos" => once(&mut infos, p.uid_map(Self::user_info)),
            "forcedRender" => once(&mut forced, p.opt_flag()),
            "flMode" => once(&mut fl_mode, p.opt_flag()),
            _ => None,
        })?;
        Some(BuddyList {
            list_changed: changed.flatten(),
            available_count: count.flatten(),
            now_available: online.unwrap_or_default(),
            was_available: was.unwrap_or_default(),
            user_infos: infos.unwrap_or_default(),
            forced_render: forced.flatten(),
            fl_mode: fl_mode.flatten(),
            fl_data: None,
        })
    }

    /// An object keyed by id, each value read by `value`; PHP's `[]` for
    /// an empty one.
    fn uid_map<V>(&mut self, mut value: impl FnMut(&mut Self) -> Option<V>) -> Option<UidMap<'a, V>> {
        if self.peek()? == b'[' {
            self.at += 1;
            return self.eat(b']').map(|()| UidMap::default());
        }
        let mut entries = Vec::with_capacity(8);
        self.object(|p, key| {
            entries.push((Cow::Borrowed(key), value(p)?));
            Some(())
        })?;
        Some(UidMap(entries))
    }

    /// `{"i": idle}`, idle a boolean, an integer or null.
    fn availability(&mut self) -> Option<Availability> {
        let mut idle = None;
        self.object(|p, key| match key {
            "i" => once(&mut idle, p.lenient_flag()),
            _ => None,
        })?;
        Some(Availability { idle: idle.unwrap_or(false) })
    }

    fn user_info(&mut self) -> Option<UserInfo<'a>> {
        let mut info = UserInfo::default();
        let mut seen = [false; 6];
        self.object(|p, key| {
            let (i, done) = match key {
                "name" => (0, p.opt_string().map(|v| info.name = v)),
                "firstName" => (1, p.opt_string().map(|v| info.first_name = v)),
                "thumbSrc" => (2, p.opt_string().map(|v| info.thumb_src = v)),
                "status" => (3, p.opt_string().map(|v| info.status = v)),
                "statusTime" => (4, p.opt_int().map(|v| info.status_time = v)),
                "statusTimeRel" => (5, p.opt_string().map(|v| info.status_time_rel = v)),
                _ => return None,
            };
            // A duplicate key is the general decoder's (an error there).
            if std::mem::replace(&mut seen[i], true) {
                return None;
            }
            done
        })?;
        Some(info)
    }

    /// `[uid, ...]` of JSON integers.
    fn uid_list(&mut self) -> Option<Vec<u64>> {
        let mut uids = Vec::new();
        self.array(|p| p.uid().map(|uid| uids.push(uid)))?;
        Some(uids)
    }

    /// `null` (as `Some(None)`) or what `value` reads.
    fn or_null<T>(&mut self, value: impl FnOnce(&mut Self) -> Option<T>) -> Option<Option<T>> {
        if self.peek()? == b'n' {
            return self.literal(b"null").map(|()| None);
        }
        value(self).map(Some)
    }

    fn opt_string(&mut self) -> Option<Option<Cow<'a, str>>> {
        self.or_null(Self::string)
    }

    fn opt_int(&mut self) -> Option<Option<i64>> {
        self.or_null(Self::int)
    }

    /// `true`, `false` or `null`.
    fn opt_flag(&mut self) -> Option<Option<bool>> {
        self.or_null(|p| match p.peek()? {
            b't' => p.literal(b"true").map(|()| true),
            b'f' => p.literal(b"false").map(|()| false),
            _ => None,
        })
    }

    /// A boolean, or an integer (not 0 is true), or `null` (false).
    fn lenient_flag(&mut self) -> Option<bool> {
        self.or_null(Self::typing_state).map(|v| v.unwrap_or(false))
    }

    fn events(&mut self) -> Option<Vec<Event<'a>>> {
        let mut events = Vec::with_capacity(4);
        self.array(|p| p.event().map(|event| events.push(event)))?;
        Some(events)
    }

    fn event(&mut self) -> Option<Event<'a>> {
        let mut kind: Option<Cow<'a, str>> = None;
        let (mut from, mut to, mut st) = (None, None, None);
        let mut names: [Option<Cow<'a, str>>; 4] = [None, None, None, None];
        let mut msg = None;
        self.object(|p, key| match key {
            "type" => once(&mut kind, p.string()),
            "from" => once(&mut from, p.uid()),
            "to" => once(&mut to, p.uid()),
            "st" => once(&mut st, p.typing_state()),
            "msg" => once(&mut msg, p.msg()),
            "from_name" => once(&mut names[0], p.string()),
            "to_name" => once(&mut names[1], p.string()),
            "from_first_name" => once(&mut names[2], p.string()),
            "to_first_name" => once(&mut names[3], p.string()),
            _ => None,
        })?;
        let (from, to) = (from?, to?);
        match kind?.as_ref() {
            "msg" if st.is_none() => {
                let (text, time, client_time, msg_id) = msg?;
                let [from_name, to_name, from_first_name, to_first_name] = names;
                Some(Event::Msg(Message {
                    from,
                    to,
                    from_name,
                    to_name,
                    from_first_name,
                    to_first_name,
                    text,
                    time,
                    client_time,
                    msg_id,
                    msg_extra: Extra::new(),
                    extra: Extra::new(),
                }))
            }
            "typ" if msg.is_none() && names.iter().all(Option::is_none) => {
                Some(Event::Typ(Typing { from, to, typing: st?, extra: Extra::new() }))
            }
            _ => None,
        }
    }

    /// `st`: 0 or 1 (any integer: not 0 is typing), or a boolean.
    fn typing_state(&mut self) -> Option<bool> {
        match self.peek()? {
            b't' => self.literal(b"true").map(|()| true),
            b'f' => self.literal(b"false").map(|()| false),
            _ => self.int().map(|n| n != 0),
        }
    }

    #[allow(clippy::type_complexity)]
    fn msg(&mut self) -> Option<(Cow<'a, str>, Option<i64>, Option<i64>, Option<Cow<'a, str>>)> {
        let (mut text, mut time, mut client_time, mut msg_id) = (None, None, None, None);
        self.object(|p, key| match key {
            "text" => once(&mut text, p.string()),
            "time" => once(&mut time, p.int()),
            "clientTime" => once(&mut client_time, p.int()),
            "msgID" => once(&mut msg_id, p.string()),
            _ => None,
        })?;
        Some((text?, time, client_time, msg_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the general decoder makes of `text`.
    fn general(text: &str) -> crate::Result<Body<'_>> {
        crate::general::decode_object_general(text, 0)
    }

    #[test]
    fn the_common_shapes_decode_as_the_general_decoder_decodes_them() {
        for text in [
            r#"{"t":"msg","c":"p_1","ms":[{"type":"msg","msg":{"text":"a \"b\" \u00e9 \ud83d\ude00 \/","time":1,"clientTime":2,"msgID":"3"},"from":1,"to":2,"from_name":"A","to_name":"B","from_first_name":"A","to_first_name":"B"},{"type":"typ","st":1,"from":1,"to":2}]}"#,
            r#"{"t":"msg","ms":[],"seq":5}"#,
            r#" { "t" : "continue" } "#,
            r#"{"t":"refresh","seq":0,"reason":110}"#,
            r#"{"t":"heartbeat","seq":7}"#,
            r#"{"error":0,"errorSummary":"","errorDescription":"No error.","payload":[]}"#,
            r#"{"error":1357001,"errorSummary":"Not Logged In","errorDescription":"x","payload":null,"bootload":[{"a":1}]}"#,
            r#"{"payload":[],"error":0}"#,
            r#"{"error":0,"payload":{"buddy_list":{}}}"#,
            r#"{"error":0,"payload":{"time":5,"buddy_list":{"listChanged":true,"availableCount":1,"nowAvailableList":{"1":{"i":false},"2":{"i":1},"3":{},"4":{"i":null}},"wasAvailableIDs":[5,6],"userInfos":{"1":{"name":"A \u00e9","firstName":"A","thumbSrc":"http:\/\/x\/q.gif","status":null,"statusTime":0,"statusTimeRel":""},"2":{}},"forcedRender":null,"flMode":false}}}"#,
            r#"{"error":0,"payload":{"buddy_list":{"nowAvailableList":[],"userInfos":[],"wasAvailableIDs":[]}}}"#,
        ] {
            let fast = decode(text).unwrap_or_else(|| panic!("the fast path takes {text}"));
            assert_eq!(Ok(fast), general(text), "{text}");
        }
    }

    #[test]
    fn anything_else_is_left_to_the_general_decoder() {
        for text in [
            r#"{"t":"msg","c":"p_1","u":1,"ms":[]}"#,
            r#"{"t":"msg","ms":[{"type":"msg","msg":{"text":"x","msgID":5},"from":1,"to":2}]}"#,
            r#"{"t":"msg","ms":[{"type":"msg","msg":{"text":"x"},"from":"1","to":2}]}"#,
            r#"{"t":"msg","ms":[{"type":"delta","delta":{}}]}"#,
            r#"{"t":"msg","ms":[{"type":"msg","msg":{"text":null},"from":1,"to":2}]}"#,
            r#"{"t":"continue","t":"continue"}"#,
            r#"{"t":"refresh","seq":1.0}"#,
            r#"{"t":"refresh","seq":01}"#,
            r#"{"t":"lb","lb_info":{"sticky":"1"}}"#,
            r#"{"error":0,"payload":{"buddy_list":{"flData":[]}}}"#,
            r#"{"error":0,"payload":{"buddy_list":{"userInfos":{"1":{"name":"a","name":"b"}}}}}"#,
            r#"{"error":0,"payload":{"buddy_list":{"nowAvailableList":{"1":{"i":"1"}}}}}"#,
            r#"{"error":0,"payload":{"buddy_list":{"nowAvailableList":[1]}}}"#,
            r#"{"error":0,"payload":{"buddy_list":{"wasAvailableIDs":["1"]}}}"#,
            r#"{"error":0,"payload":{"buddy_list":{"listChanged":1}}}"#,
            r#"{"error":0,"payload":{"buddy_list":null}}"#,
            r#"{"error":0,"payload":{"buddy_list":{},"notifications":{}}}"#,
            r#"{"error":0,"payload":{"time":1}}"#,
            r#"{"t":"msg","ms":[]} x"#,
            "{\"t\":\"ms\u{1}g\"}",
            r#"{"t":"\ud800"}"#,
        ] {
            assert!(decode(text).is_none(), "{text}");
        }
    }
}
