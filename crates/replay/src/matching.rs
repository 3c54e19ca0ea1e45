//! Matching a received request against a recorded one, and saying in plain
//! words what differs.

use fbcomet_codec::{ChatHost, PollTarget};

use crate::recording::RequestSpec;
use fbcomet_server::{Request, is_local_host, parse_pairs};

/// The wildcard a fixture writes where anything may stand.
pub const ANY: &str = "{ANY}";

/// Fields and query parameters that clients randomise, ignored by default:
/// `msg_id` and `client_time` (send.php), `clientid` and `cb` (`/pull`).
pub const DEFAULT_IGNORED: &[&str] = &["msg_id", "client_time", "clientid", "cb"];

/// The logical streams requests are matched in: each keeps its own order,
/// so that a client's concurrent poll and post both match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    /// Channel long polls: `/x/...` and `/pull`.
    Channel,
    /// Everything else: pages and form posts to the www hosts.
    Www,
}

impl std::fmt::Display for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Stream::Channel => "channel",
            Stream::Www => "www",
        })
    }
}

/// The stream a request to `path` on `host` belongs to.
pub fn stream_of(host: Option<&str>, path: &str) -> Stream {
    let path = path.split('?').next().unwrap_or(path);
    let on_channel_host = host.and_then(ChatHost::parse).is_some_and(|h| h.is_poll_host());
    if path.starts_with("/x/") || path == "/pull" || path == "/active_ping" || on_channel_host {
        Stream::Channel
    } else {
        Stream::Www
    }
}

/// What the protocol's host names have in common where they differ only by
/// what clients randomise: `{ANY}.channel07.facebook.com` is `channel7`,
/// `{conn}.7.channel.facebook.com` too, `N-edge-chat.facebook.com` is
/// `edge-chat`, and the www hosts are all `www` (they are one service); see
/// [`ChatHost`]. `None` for other hosts.
pub fn host_class(host: &str) -> Option<String> {
    ChatHost::parse(host).map(|h| h.class())
}

/// The differences between a recorded request and a received one, in plain
/// words; empty when they match. `ignore` names fields and query parameters
/// not to compare.
pub fn differences(spec: &RequestSpec, req: &Request, ignore: &[String]) -> Vec<String> {
    let mut diffs = Vec::new();
    if !spec.method.eq_ignore_ascii_case(&req.method) {
        diffs.push(format!("method: expected {}, got {}", spec.method, req.method));
    }
    // The host counts where the client named a protocol host: in proxy form,
    // or in a Host header such as www.facebook.com (a hosts-file setup).
    if let (Some(want), Some(got)) = (&spec.host, &req.host) {
        let named = !is_local_host(got) && (req.proxy_form || host_class(got).is_some());
        if want != ANY && named && !hosts_match(want, got) {
            diffs.push(format!("host: expected {want}, got {got}"));
        }
    }
    let (spec_path, spec_query) = spec.path.split_once('?').unwrap_or((&spec.path, ""));
    if let Some(diff) = path_difference(spec_path, &req.path) {
        diffs.push(diff);
    }
    pairs_differences("query", &parse_pairs(spec_query), &req.query, ignore, &mut diffs);
    pairs_differences("form", &spec.form, &req.form, ignore, &mut diffs);
    diffs
}

fn hosts_match(want: &str, got: &str) -> bool {
    if want.eq_ignore_ascii_case(got) {
        return true;
    }
    match (host_class(want), host_class(got)) {
        (Some(a), Some(b)) => a == b,
        _ => {
            // `{ANY}` as a label matches any label.
            let (w, g): (Vec<&str>, Vec<&str>) = (want.split('.').collect(), got.split('.').collect());
            w.len() == g.len() && w.iter().zip(&g).all(|(w, g)| *w == ANY || w.eq_ignore_ascii_case(g))
        }
    }
}

fn path_difference(want: &str, got: &str) -> Option<String> {
    let w: Vec<&str> = want.split('/').collect();
    let g: Vec<&str> = got.split('/').collect();
    // `/x/{ANY}/...`: the segment after `x` is a cache buster.
    let cache_buster = if w.get(1) == Some(&"x") { Some(2) } else { None };
    let same_up_to = |n: usize| {
        w.len() == g.len()
            && w[..n].iter().zip(&g).enumerate().all(|(i, (w, g))| *w == ANY || Some(i) == cache_buster || w == g)
    };
    if same_up_to(w.len()) {
        return None;
    }
    // Name the seq where only it differs: the common case of a client that
    // counts differently from the recording.
    if let (Some(ws), Some(gs)) = (poll_seq(want), poll_seq(got))
        && ws != gs
        && same_up_to(w.len() - 1)
    {
        return Some(format!("seq: expected {ws}, got {gs} (path {got})"));
    }
    Some(format!("path: expected {want}, got {got}"))
}

/// The seq of a 2008 channel poll path (`.../p_1001=5`).
fn poll_seq(path: &str) -> Option<i64> {
    match PollTarget::parse_parts(path, "")? {
        PollTarget::Channel { seq, .. } => Some(seq),
        PollTarget::Pull { .. } => None,
    }
}

fn pairs_differences(
    what: &str,
    want: &[(String, String)],
    got: &[(String, String)],
    ignore: &[String],
    diffs: &mut Vec<String>,
) {
    let ignored = |k: &str| ignore.iter().any(|i| i == k);
    let mut keys: Vec<&str> = want.iter().map(|(k, _)| k.as_str()).filter(|k| !ignored(k)).collect();
    keys.dedup();
    let mut seen = std::collections::HashSet::new();
    for key in keys {
        if !seen.insert(key) {
            continue;
        }
        let w: Vec<&str> = want.iter().filter(|(k, _)| k == key).map(|(_, v)| v.as_str()).collect();
        let g: Vec<&str> = got.iter().filter(|(k, _)| k == key).map(|(_, v)| v.as_str()).collect();
        if g.is_empty() {
            diffs.push(format!("{what}: missing {key}"));
        } else if w.len() != g.len() || w.iter().zip(&g).any(|(w, g)| *w != ANY && w != g) {
            let show = |v: &[&str]| v.iter().map(|s| format!("{s:?}")).collect::<Vec<_>>().join(", ");
            diffs.push(format!("{what} {key}: expected {}, got {}", show(&w), show(&g)));
        }
    }
    for (key, _) in got {
        if !ignored(key) && !want.iter().any(|(k, _)| k == key) && seen.insert(key.as_str()) {
            diffs.push(format!("{what}: unexpected {key}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(method: &str, host: Option<&str>, path: &str, form: &[(&str, &str)]) -> RequestSpec {
        RequestSpec {
            method: method.to_owned(),
            host: host.map(str::to_owned),
            path: path.to_owned(),
            headers: Vec::new(),
            form: form.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        }
    }

    fn req(method: &str, host: &str, target: &str, form: &[(&str, &str)]) -> Request {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        Request {
            method: method.to_owned(),
            host: Some(host.to_owned()),
            proxy_form: true,
            path: path.to_owned(),
            query: parse_pairs(query),
            headers: Vec::new(),
            cookies: Vec::new(),
            form: form.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            body: bytes::Bytes::new(),
            remote: None,
        }
    }

    fn ignore() -> Vec<String> {
        DEFAULT_IGNORED.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn host_classes() {
        assert_eq!(host_class("0.channel07.facebook.com").as_deref(), Some("channel7"));
        assert_eq!(host_class("1234.channel7.facebook.com").as_deref(), Some("channel7"));
        assert_eq!(host_class("3.7.channel.facebook.com").as_deref(), Some("channel7"));
        assert_eq!(host_class("2-edge-chat.facebook.com").as_deref(), Some("edge-chat"));
        assert_eq!(host_class("www.new.facebook.com").as_deref(), Some("www"));
        assert_eq!(host_class("facebook.com").as_deref(), Some("www"));
        assert_eq!(host_class("example.com"), None);
    }

    #[test]
    fn cache_busters_and_randomised_fields_are_ignored() {
        let s = spec("GET", Some("0.channel07.facebook.com"), "/x/0/false/p_1001=4", &[]);
        let r = req("GET", "77.channel07.facebook.com", "/x/1209557234/false/p_1001=4", &[]);
        assert_eq!(differences(&s, &r, &ignore()), Vec::<String>::new());

        let s = spec(
            "POST",
            Some("www.facebook.com"),
            "/ajax/chat/send.php",
            &[("msg_text", "a & b"), ("msg_id", "1"), ("to", "1002")],
        );
        let r = req(
            "POST",
            "facebook.com",
            "/ajax/chat/send.php",
            &[("to", "1002"), ("msg_id", "99"), ("msg_text", "a & b"), ("client_time", "5")],
        );
        assert_eq!(differences(&s, &r, &ignore()), Vec::<String>::new());
    }

    #[test]
    fn differences_are_named() {
        let s = spec("GET", Some("0.channel07.facebook.com"), "/x/{ANY}/false/p_1001=4", &[]);
        let r = req("GET", "0.channel08.facebook.com", "/x/1/false/p_1001=5", &[]);
        assert_eq!(
            differences(&s, &r, &ignore()),
            [
                "host: expected 0.channel07.facebook.com, got 0.channel08.facebook.com",
                "seq: expected 4, got 5 (path /x/1/false/p_1001=5)"
            ]
        );
        let s = spec("GET", None, "/pull?channel=p_1&seq=3&sticky_token={ANY}", &[]);
        let r = req("GET", "127.0.0.1", "/pull?channel=p_1&seq=4&extra=1", &[]);
        assert_eq!(
            differences(&s, &r, &ignore()),
            ["query seq: expected \"3\", got \"4\"", "query: missing sticky_token", "query: unexpected extra"]
        );
    }

    #[test]
    fn streams() {
        assert_eq!(stream_of(None, "/x/1/false/p_1=2"), Stream::Channel);
        assert_eq!(stream_of(Some("1-edge-chat.facebook.com"), "/pull?seq=1"), Stream::Channel);
        assert_eq!(stream_of(Some("www.facebook.com"), "/ajax/chat/send.php"), Stream::Www);
        assert_eq!(stream_of(None, "/home.php"), Stream::Www);
    }
}
