//! The poll URL grammar, written once: the 2008 channel path
//! `/x/{ANY}/{false|true}/p_{UID}={SEQ}` (and 2011's
//! `/x/{rand}/{tab}/false/p_...`), the `/pull?...` query, and the chat host
//! names (`{ANY}.channel{NN}.facebook.com`, `{conn}.{N}.channel.facebook.com`,
//! `{N}-edge-chat.facebook.com`, the www hosts). The receiver formats
//! these; the emulator, replay matching and HAR import parse them.

use std::fmt;

/// A channel poll's target: the path (and query) a client asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PollTarget {
    /// `/x/{buster}/{segments...}/p_{uid}={seq}`.
    Channel {
        /// The cache buster (any text without `/`).
        buster: String,
        /// The segments between the buster and `p_...`: `["false"]` in 2008
        /// captures, `["1", "false"]` (tab and idle) in 2011's.
        segments: Vec<String>,
        /// The user whose channel it is.
        uid: u64,
        /// The seq asked for (-1 to start).
        seq: i64,
    },
    /// `/pull?{query}`, its pairs in order.
    Pull {
        /// The query's pairs, decoded.
        query: Vec<(String, String)>,
    },
}

impl PollTarget {
    /// The 2008 form for `uid` at `seq`.
    pub fn channel(buster: impl Into<String>, uid: u64, seq: i64) -> Self {
        PollTarget::Channel { buster: buster.into(), segments: vec!["false".to_owned()], uid, seq }
    }

    /// Parses a path with its query (`/x/1/false/p_1001=5`,
    /// `/pull?channel=p_1001&seq=3`). `None` for anything else.
    pub fn parse(target: &str) -> Option<Self> {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        Self::parse_parts(path, query)
    }

    /// The same, from a path and a raw query apart.
    pub fn parse_parts(path: &str, query: &str) -> Option<Self> {
        if path == "/pull" {
            let query = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
            return Some(PollTarget::Pull { query });
        }
        let rest = path.strip_prefix("/x/")?;
        let mut parts: Vec<&str> = rest.split('/').collect();
        let last = parts.pop()?;
        let (uid, seq) = parse_channel_param(last)?;
        if parts.is_empty() {
            return None;
        }
        let buster = parts.remove(0).to_owned();
        Some(PollTarget::Channel { buster, segments: parts.into_iter().map(str::to_owned).collect(), uid, seq })
    }

    /// The user polled: the channel's uid, or `/pull`'s `channel=p_UID`
    /// (fbchat's pulls name none: the cookie says who).
    pub fn uid(&self) -> Option<u64> {
        match self {
            PollTarget::Channel { uid, .. } => Some(*uid),
            PollTarget::Pull { .. } => self.param("channel")?.strip_prefix("p_")?.parse().ok(),
        }
    }

    /// The seq asked for.
    pub fn seq(&self) -> Option<i64> {
        match self {
            PollTarget::Channel { seq, .. } => Some(*seq),
            PollTarget::Pull { .. } => self.param("seq")?.trim().parse().ok(),
        }
    }

    /// The first value of a `/pull` query parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        match self {
            PollTarget::Pull { query } => query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()),
            PollTarget::Channel { .. } => None,
        }
    }

    /// The same target asking for another seq.
    pub fn with_seq(mut self, new: i64) -> Self {
        match &mut self {
            PollTarget::Channel { seq, .. } => *seq = new,
            PollTarget::Pull { query } => match query.iter_mut().find(|(k, _)| k == "seq") {
                Some((_, v)) => *v = new.to_string(),
                None => query.push(("seq".to_owned(), new.to_string())),
            },
        }
        self
    }
}

/// `p_{uid}={seq}`.
fn parse_channel_param(last: &str) -> Option<(u64, i64)> {
    let (uid, seq) = last.strip_prefix("p_")?.split_once('=')?;
    Some((uid.parse().ok()?, seq.parse().ok()?))
}

impl fmt::Display for PollTarget {
    /// The path and query, form-encoded as clients sent them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PollTarget::Channel { buster, segments, uid, seq } => {
                write!(f, "/x/{buster}/")?;
                for s in segments {
                    write!(f, "{s}/")?;
                }
                write!(f, "p_{uid}={seq}")
            }
            PollTarget::Pull { query } => {
                let encoded = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(query).finish();
                if encoded.is_empty() { f.write_str("/pull") } else { write!(f, "/pull?{encoded}") }
            }
        }
    }
}

/// A host of the chat service, by what its name says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatHost {
    /// `facebook.com`, `www.`, `www.new.`, `new.`, `login.`, `apps.`: one
    /// service.
    Www,
    /// `m.facebook.com`, the mobile site (the web era's login).
    Mobile,
    /// `graph.facebook.com`.
    Graph,
    /// A 2008 channel host: `{label}.channel{NN}.facebook.com`
    /// (`dotted: false`) or `{label}.{N}.channel.facebook.com` (2011).
    Channel {
        /// The first label, anything (a cache buster).
        label: String,
        /// The channel number.
        number: u32,
        /// The 2011 form (`conn.N.channel.`).
        dotted: bool,
    },
    /// `{n}-edge-chat.facebook.com`.
    EdgeChat {
        /// The host number (0 to 4).
        n: u32,
    },
}

impl ChatHost {
    /// Parses a host name (any case, no port). `None` for hosts that are
    /// not the chat service's.
    pub fn parse(host: &str) -> Option<Self> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let labels: Vec<&str> = host.split('.').collect();
        let n = labels.len();
        if n < 2 || labels[n - 2..] != ["facebook", "com"] {
            return None;
        }
        let number = |s: &str| -> Option<u32> {
            (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok()).flatten()
        };
        match &labels[..n - 2] {
            [] | ["www"] | ["www", "new"] | ["new"] | ["login"] | ["apps"] => Some(ChatHost::Www),
            ["m"] => Some(ChatHost::Mobile),
            ["graph"] => Some(ChatHost::Graph),
            [label, num, "channel"] => {
                Some(ChatHost::Channel { label: (*label).to_owned(), number: number(num)?, dotted: true })
            }
            [label, ch] if ch.starts_with("channel") => Some(ChatHost::Channel {
                label: (*label).to_owned(),
                number: number(&ch["channel".len()..])?,
                dotted: false,
            }),
            [edge] => Some(ChatHost::EdgeChat { n: number(edge.strip_suffix("-edge-chat")?)? }),
            _ => None,
        }
    }

    /// What hosts that differ only in what clients randomise have in
    /// common: `www`, `m`, `graph`, `channel7` (either form, any label),
    /// `edge-chat` (any number).
    pub fn class(&self) -> String {
        match self {
            ChatHost::Www => "www".to_owned(),
            ChatHost::Mobile => "m".to_owned(),
            ChatHost::Graph => "graph".to_owned(),
            ChatHost::Channel { number, .. } => format!("channel{number}"),
            ChatHost::EdgeChat { .. } => "edge-chat".to_owned(),
        }
    }

    /// Whether polls go to this host (a channel or edge-chat host).
    pub fn is_poll_host(&self) -> bool {
        matches!(self, ChatHost::Channel { .. } | ChatHost::EdgeChat { .. })
    }
}

impl fmt::Display for ChatHost {
    /// The host name (the www class as `www.facebook.com`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChatHost::Www => f.write_str("www.facebook.com"),
            ChatHost::Mobile => f.write_str("m.facebook.com"),
            ChatHost::Graph => f.write_str("graph.facebook.com"),
            ChatHost::Channel { label, number, dotted: false } => write!(f, "{label}.channel{number:02}.facebook.com"),
            ChatHost::Channel { label, number, dotted: true } => write!(f, "{label}.{number}.channel.facebook.com"),
            ChatHost::EdgeChat { n } => write!(f, "{n}-edge-chat.facebook.com"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_paths() {
        let t = PollTarget::parse("/x/1209557234/false/p_1001=-1").unwrap();
        assert_eq!(t, PollTarget::channel("1209557234", 1001, -1));
        assert_eq!(t.to_string(), "/x/1209557234/false/p_1001=-1");
        let t = PollTarget::parse("/x/77/1/false/p_100000123456789=12").unwrap();
        assert_eq!((t.uid(), t.seq()), (Some(100000123456789), Some(12)));
        assert_eq!(t.to_string(), "/x/77/1/false/p_100000123456789=12");
        assert_eq!(PollTarget::parse("/x/p_1=2"), None, "no buster");
        assert_eq!(PollTarget::parse("/x/1/false/p_x=2"), None);
        assert_eq!(PollTarget::parse("/home.php"), None);
    }

    #[test]
    fn pull_queries() {
        let t = PollTarget::parse("/pull?channel=p_1001&seq=3&sticky_token=446&partition=-2").unwrap();
        assert_eq!((t.uid(), t.seq(), t.param("sticky_token")), (Some(1001), Some(3), Some("446")));
        assert_eq!(t.clone().with_seq(9).seq(), Some(9));
        let fbchat = PollTarget::parse("/pull?msgs_recv=0&clientid=1a2b&seq=0").unwrap();
        assert_eq!((fbchat.uid(), fbchat.seq()), (None, Some(0)));
    }

    #[test]
    fn hosts() {
        let h = ChatHost::parse("0.channel07.facebook.com").unwrap();
        assert_eq!((h.class(), h.to_string()), ("channel7".to_owned(), "0.channel07.facebook.com".to_owned()));
        assert_eq!(ChatHost::parse("3.7.channel.facebook.com").unwrap().class(), "channel7");
        assert_eq!(ChatHost::parse("2-edge-chat.facebook.com"), Some(ChatHost::EdgeChat { n: 2 }));
        assert_eq!(ChatHost::parse("WWW.New.Facebook.com."), Some(ChatHost::Www));
        assert_eq!(ChatHost::parse("m.facebook.com"), Some(ChatHost::Mobile));
        assert_eq!(ChatHost::parse("example.com"), None);
        assert_eq!(ChatHost::parse("x-edge-chat.facebook.com"), None);
        assert_eq!(ChatHost::parse("0.channelxx.facebook.com"), None);
    }
}
