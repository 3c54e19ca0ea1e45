//! `--trace` and `--trace-file`: every exchange a server answers, as one
//! line or one JSON object.

use fbcomet_codec::{Body, FrameKind};
use fbcomet_mock::Traced;
use serde_json::{Value, json};

use crate::cmd::text::{clock_at, printable};

/// What a body is, for a trace: the frame's kind and seq and how many
/// events it carries, the envelope's error, or the content's nature.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct What {
    pub(crate) kind: String,
    pub(crate) seq: Option<i64>,
    pub(crate) events: Option<usize>,
}

pub(crate) fn describe(body: &[u8]) -> What {
    if body.is_empty() {
        return What { kind: "empty".to_owned(), ..What::default() };
    }
    match fbcomet_codec::decode(body) {
        Ok(Body::Frame(frame)) => {
            let events = matches!(frame.kind, FrameKind::Msg { .. }).then(|| frame.events().len());
            What { kind: frame.kind_name().to_owned(), seq: frame.seq, events }
        }
        Ok(Body::Envelope(envelope)) => match envelope.server_error() {
            Some(err) => What { kind: format!("error {}", err.code), ..What::default() },
            None => What { kind: "ok".to_owned(), ..What::default() },
        },
        Err(_) if body.trim_ascii_start().starts_with(b"<") => What { kind: "html".to_owned(), ..What::default() },
        Err(_) => What { kind: "other".to_owned(), ..What::default() },
    }
}

/// `12:00:01.234 127.0.0.1:5555 GET 0.channel07.facebook.com /x/1/false/p_1001=5 -> 200 held 2.510s 120 B msg seq 6 (2 events)`
pub(crate) fn line(t: &Traced<'_>, what: &What) -> String {
    let clock = clock_at(t.at, true);
    let host = t.host.map(printable).unwrap_or_default();
    let mut text = format!(
        "{clock} {} {} {host} {} -> {} held {:.3}s {} B {}",
        t.remote,
        printable(t.method),
        printable(t.target),
        t.status,
        t.held.as_secs_f64(),
        t.body.len(),
        what.kind
    );
    if let Some(seq) = what.seq {
        text.push_str(&format!(" seq {seq}"));
    }
    if let Some(n) = what.events {
        text.push_str(&format!(" ({n} events)"));
    }
    if let Some(fault) = t.fault {
        text.push_str(&format!(" fault {fault:?}"));
    }
    text
}

/// The same as a JSON object, text exact.
pub(crate) fn json(t: &Traced<'_>, what: &What) -> Value {
    json!({
        "time_ms": t.at.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64),
        "remote": t.remote.to_string(),
        "method": t.method,
        "host": t.host,
        "target": t.target,
        "status": t.status,
        "held_ms": t.held.as_millis() as u64,
        "bytes": t.body.len(),
        "kind": what.kind,
        "seq": what.seq,
        "events": what.events,
        "fault": t.fault.map(|f| format!("{f:?}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_described() {
        let what = describe(br#"for (;;);{"t":"refresh","seq":5}"#);
        assert_eq!((what.kind.as_str(), what.seq), ("refresh", Some(5)));
        let what = describe(br#"for (;;);{"t":"msg","c":"p_1","ms":[{"type":"typ","st":1,"from":2,"to":1}]}"#);
        assert_eq!((what.kind.as_str(), what.events), ("msg", Some(1)));
        let what = describe(br#"for (;;);{"error":1357001,"errorSummary":"Not Logged In","payload":null}"#);
        assert_eq!(what.kind, "error 1357001");
        assert_eq!(describe(b"<html>").kind, "html");
        assert_eq!(describe(b"").kind, "empty");
    }
}
