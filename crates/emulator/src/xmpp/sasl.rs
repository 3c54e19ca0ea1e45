//! The SASL mechanisms chat.facebook.com offered: `X-FACEBOOK-PLATFORM`
//! (an app's api key and a user's access token, answering a nonce),
//! `DIGEST-MD5` (RFC 2831, username and password) and `PLAIN`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use md5::{Digest, Md5};

/// The mechanisms, in the order the features list them.
pub(super) const MECHANISMS: [&str; 3] = ["X-FACEBOOK-PLATFORM", "DIGEST-MD5", "PLAIN"];

/// The realm and the host of DIGEST-MD5's `digest-uri`.
pub(super) const REALM: &str = "chat.facebook.com";

/// Decodes a SASL payload (`=` is an empty one).
pub(super) fn decode(text: &str) -> Option<Vec<u8>> {
    let text = text.trim();
    if text.is_empty() || text == "=" {
        return Some(Vec::new());
    }
    B64.decode(text).ok()
}

/// Encodes a SASL payload.
pub(super) fn encode(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

/// `PLAIN`: `authzid NUL authcid NUL password`; the account and password.
pub(super) fn plain(payload: &[u8]) -> Option<(String, String)> {
    let text = std::str::from_utf8(payload).ok()?;
    let mut parts = text.split('\0');
    let (_authzid, account, password) = (parts.next()?, parts.next()?, parts.next()?);
    (parts.next().is_none() && !account.is_empty()).then(|| (account.to_owned(), password.to_owned()))
}

/// `X-FACEBOOK-PLATFORM`'s challenge for `nonce`.
pub(super) fn facebook_challenge(nonce: &str) -> String {
    format!("version=1&method=auth.xmpp_login&nonce={nonce}")
}

/// `X-FACEBOOK-PLATFORM`'s response: the api key and access token, when
/// the method and `nonce` are the challenge's.
pub(super) fn facebook_response(payload: &[u8], nonce: &str) -> Result<(String, String), &'static str> {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(payload).into_owned().collect();
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    if get("method") != Some("auth.xmpp_login") {
        return Err("the method is not auth.xmpp_login");
    }
    if get("nonce") != Some(nonce) {
        return Err("the nonce is not the challenge's");
    }
    match (get("api_key"), get("access_token")) {
        (Some(key), Some(token)) if !key.is_empty() && !token.is_empty() => Ok((key.to_owned(), token.to_owned())),
        _ => Err("no api_key or access_token"),
    }
}

/// `DIGEST-MD5`'s first challenge for `nonce`.
pub(super) fn digest_challenge(nonce: &str) -> String {
    format!("realm=\"{REALM}\",nonce=\"{nonce}\",qop=\"auth\",charset=utf-8,algorithm=md5-sess")
}

/// A DIGEST-MD5 response's directives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct DigestResponse {
    /// `username`.
    pub(super) username: String,
    realm: String,
    nonce: String,
    cnonce: String,
    nc: String,
    qop: String,
    digest_uri: String,
    response: String,
    authzid: Option<String>,
}

/// Parses a DIGEST-MD5 response and checks what does not need the
/// password: the nonce, the qop, the realm and the digest-uri's service.
pub(super) fn digest_response(payload: &[u8], nonce: &str) -> Result<DigestResponse, &'static str> {
    let text = std::str::from_utf8(payload).map_err(|_| "not UTF-8")?;
    let directives = directives(text).ok_or("not a list of directives")?;
    let get = |k: &str| directives.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let response = DigestResponse {
        username: get("username").ok_or("no username")?,
        realm: get("realm").unwrap_or_default(),
        nonce: get("nonce").ok_or("no nonce")?,
        cnonce: get("cnonce").ok_or("no cnonce")?,
        nc: get("nc").ok_or("no nc")?,
        qop: get("qop").unwrap_or_else(|| "auth".to_owned()),
        digest_uri: get("digest-uri").ok_or("no digest-uri")?,
        response: get("response").ok_or("no response")?,
        authzid: get("authzid"),
    };
    if response.nonce != nonce {
        return Err("the nonce is not the challenge's");
    }
    if response.qop != "auth" {
        return Err("only qop=auth is offered");
    }
    if !response.digest_uri.starts_with("xmpp/") {
        return Err("the digest-uri is not for xmpp");
    }
    Ok(response)
}

impl DigestResponse {
    /// Whether the response was made with `password`.
    pub(super) fn made_with(&self, password: &str) -> bool {
        constant_time_eq(self.digest(password, "AUTHENTICATE").as_bytes(), self.response.as_bytes())
    }

    /// The `rspauth` of the server's second challenge.
    pub(super) fn rspauth(&self, password: &str) -> String {
        format!("rspauth={}", self.digest(password, ""))
    }

    fn digest(&self, password: &str, method: &str) -> String {
        let mut a1 = Md5::digest(format!("{}:{}:{password}", self.username, self.realm)).to_vec();
        a1.extend_from_slice(format!(":{}:{}", self.nonce, self.cnonce).as_bytes());
        if let Some(authzid) = &self.authzid {
            a1.extend_from_slice(format!(":{authzid}").as_bytes());
        }
        let ha1 = hex(&Md5::digest(&a1));
        let ha2 = hex(&Md5::digest(format!("{method}:{}", self.digest_uri)));
        hex(&Md5::digest(format!("{ha1}:{}:{}:{}:{}:{ha2}", self.nonce, self.nc, self.cnonce, self.qop)))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `key=value` and `key="quoted, value"` pairs, comma-separated.
fn directives(text: &str) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=')?;
        let key = key.trim().to_ascii_lowercase();
        let (value, after) = if let Some(quoted) = after.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let end = loop {
                match chars.next()? {
                    (i, '"') => break i,
                    (_, '\\') => value.push(chars.next()?.1),
                    (_, c) => value.push(c),
                }
            };
            (value, &quoted[end + 1..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim().to_owned(), &after[end..])
        };
        out.push((key, value));
        rest = after.trim_start().strip_prefix(',').unwrap_or(after).trim_start();
        if !after.trim_start().is_empty() && !after.trim_start().starts_with(',') {
            return None;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_splits_on_nul() {
        assert_eq!(plain(b"\0alice\0secret"), Some(("alice".into(), "secret".into())));
        assert_eq!(plain(b"alice"), None);
        assert_eq!(plain(b"\0\0x"), None);
    }

    #[test]
    fn facebook_platform_checks_method_and_nonce() {
        let ok = b"method=auth.xmpp_login&v=1.0&call_id=1.0&nonce=N1&access_token=T&api_key=K";
        assert_eq!(facebook_response(ok, "N1"), Ok(("K".into(), "T".into())));
        assert!(facebook_response(ok, "N2").is_err());
        assert!(facebook_response(b"method=x&nonce=N1&access_token=T&api_key=K", "N1").is_err());
    }

    #[test]
    fn digest_md5_is_rfc_2831s() {
        // RFC 2831, 4: chris / secret on elwood.innosoft.com (imap).
        let payload = br#"charset=utf-8,username="chris",realm="elwood.innosoft.com",nonce="OA6MG9tEQGm2hh",nc=00000001,cnonce="OA6MHXh6VqTrRk",digest-uri="xmpp/elwood.innosoft.com",response=d388dad90d4bbd760a152321f2143af7,qop=auth"#;
        let mut response = digest_response(payload, "OA6MG9tEQGm2hh").expect("parses");
        // The RFC's example is for imap/; recompute for the same values.
        response.response = response.digest("secret", "AUTHENTICATE");
        assert!(response.made_with("secret"));
        assert!(!response.made_with("wrong"));
        let imap = DigestResponse { digest_uri: "imap/elwood.innosoft.com".into(), ..response.clone() };
        assert_eq!(imap.digest("secret", "AUTHENTICATE"), "d388dad90d4bbd760a152321f2143af7");
        assert_eq!(imap.rspauth("secret"), "rspauth=ea40f60335c427b5527b84dbabcdfffd");
        assert!(digest_response(payload, "other").is_err());
    }
}
