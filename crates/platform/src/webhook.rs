//! What Facebook posted to a page's webhook, and how it signed it.

use ring::hmac;
use serde::{Deserialize, Serialize};

/// A webhook post: `{"object":"page","entry":[...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookPayload {
    /// `page` for page events.
    pub object: String,
    /// One entry per page.
    pub entry: Vec<Entry>,
}

/// The events of one page in a post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The page's id.
    pub id: String,
    /// When, in milliseconds since the Unix epoch.
    pub time: i64,
    /// The events.
    pub messaging: Vec<Messaging>,
}

/// An id object: `{"id":".."}` (ids are strings on the platform).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Id {
    /// The id.
    pub id: String,
}

impl Id {
    /// `{"id": id}`.
    pub fn new(id: impl ToString) -> Self {
        Self { id: id.to_string() }
    }
}

/// One event: a message, a delivery or a read, from `sender` (a
/// page-scoped id) to `recipient` (the page).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Messaging {
    /// The user, by page-scoped id.
    pub sender: Id,
    /// The page.
    pub recipient: Id,
    /// When, in milliseconds since the Unix epoch.
    pub timestamp: i64,
    /// A message to the page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<ReceivedMessage>,
    /// The user's client received the page's messages up to a time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<Delivery>,
    /// The user read the page's messages up to a time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read: Option<Read>,
}

/// A message as the webhook gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceivedMessage {
    /// The message id.
    pub mid: String,
    /// A sequence number (the platform's; not for ordering).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<i64>,
    /// The text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The quick reply the user tapped, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quick_reply: Option<QuickReplyPayload>,
}

/// The payload of a tapped quick reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuickReplyPayload {
    /// What the bot put in it.
    pub payload: String,
}

/// A delivery event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// The messages delivered, where known.
    #[serde(default)]
    pub mids: Vec<String>,
    /// Everything before this time was delivered.
    pub watermark: i64,
    /// A sequence number.
    #[serde(default)]
    pub seq: i64,
}

/// A read event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Read {
    /// Everything before this time was read.
    pub watermark: i64,
    /// A sequence number.
    #[serde(default)]
    pub seq: i64,
}

impl WebhookPayload {
    /// One page's events in one post.
    pub fn page(page: u64, time: i64, messaging: Vec<Messaging>) -> Self {
        Self { object: "page".to_owned(), entry: vec![Entry { id: page.to_string(), time, messaging }] }
    }

    /// Every event of every entry.
    pub fn events(&self) -> impl Iterator<Item = &Messaging> {
        self.entry.iter().flat_map(|e| &e.messaging)
    }
}

/// `X-Hub-Signature`: `sha1=` and the HMAC-SHA1 of the body with the app
/// secret, in hex.
pub fn signature_sha1(app_secret: &str, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, app_secret.as_bytes());
    format!("sha1={}", hex(hmac::sign(&key, body).as_ref()))
}

/// `X-Hub-Signature-256`: `sha256=` and the HMAC-SHA256, in hex.
pub fn signature_sha256(app_secret: &str, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, app_secret.as_bytes());
    format!("sha256={}", hex(hmac::sign(&key, body).as_ref()))
}

/// Whether `header` (an `X-Hub-Signature` or `X-Hub-Signature-256` value)
/// signs `body` with `app_secret`. The comparison takes the same time
/// however much matches.
pub fn verify_signature(app_secret: &str, body: &[u8], header: &str) -> bool {
    let (algorithm, digest) = match header.trim().split_once('=') {
        Some(("sha1", hex)) => (hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, hex),
        Some(("sha256", hex)) => (hmac::HMAC_SHA256, hex),
        _ => return false,
    };
    let Some(digest) = unhex(digest) else { return false };
    hmac::verify(&hmac::Key::new(algorithm, app_secret.as_bytes()), body, &digest).is_ok()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok()).collect()
}

/// The answer to a verification request (`hub.mode=subscribe`,
/// `hub.verify_token`, `hub.challenge` in `query`): the challenge, when the
/// mode is `subscribe` and the token is `verify_token`.
pub fn verification_answer<'q>(query: &'q [(String, String)], verify_token: &str) -> Option<&'q str> {
    let get = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    (get("hub.mode") == Some("subscribe") && get("hub.verify_token") == Some(verify_token))
        .then(|| get("hub.challenge"))
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_facebooks() {
        // HMAC-SHA1("key", "The quick brown fox jumps over the lazy dog"), RFC 2104 examples.
        let body = b"The quick brown fox jumps over the lazy dog";
        assert_eq!(signature_sha1("key", body), "sha1=de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9");
        assert_eq!(
            signature_sha256("key", body),
            "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
        assert!(verify_signature("key", body, &signature_sha1("key", body)));
        assert!(verify_signature("key", body, &signature_sha256("key", body)));
        assert!(!verify_signature("other", body, &signature_sha1("key", body)));
        assert!(!verify_signature("key", body, "sha1=zz"));
        assert!(!verify_signature("key", body, "md5=00"));
    }

    #[test]
    fn verification_needs_the_mode_and_the_token() {
        let q = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
        };
        let good = q(&[("hub.mode", "subscribe"), ("hub.verify_token", "T"), ("hub.challenge", "42")]);
        assert_eq!(verification_answer(&good, "T"), Some("42"));
        assert_eq!(verification_answer(&good, "U"), None);
        assert_eq!(verification_answer(&q(&[("hub.verify_token", "T"), ("hub.challenge", "42")]), "T"), None);
    }

    #[test]
    fn a_payload_reads_as_the_platform_wrote_it() {
        let text = r#"{"object":"page","entry":[{"id":"2001","time":1458692752478,"messaging":[
            {"sender":{"id":"1254459154682919"},"recipient":{"id":"2001"},"timestamp":1458692752478,
             "message":{"mid":"mid.1457764197618:41d102a3e1ae206a38","seq":73,"text":"hello, world!"}},
            {"sender":{"id":"1254459154682919"},"recipient":{"id":"2001"},"timestamp":1458692752479,
             "read":{"watermark":1458668856253,"seq":38}}]}]}"#;
        let payload: WebhookPayload = serde_json::from_str(text).expect("parses");
        let events: Vec<_> = payload.events().collect();
        assert_eq!(events[0].message.as_ref().and_then(|m| m.text.as_deref()), Some("hello, world!"));
        assert_eq!(events[1].read.as_ref().map(|r| r.watermark), Some(1458668856253));
    }
}
