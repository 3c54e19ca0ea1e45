//! An incoming request, parsed once for every handler: proxy form or plain,
//! host, path, query, cookies and form fields.

use std::net::SocketAddr;

use bytes::Bytes;

/// A request as the handlers see it.
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The host the client addressed: the authority of a proxy-form request
    /// (`GET http://0.channel06.facebook.com/x/...`), else the `Host` header,
    /// without the port.
    pub host: Option<String>,
    /// Whether the request came in proxy form (an absolute URI).
    pub proxy_form: bool,
    /// The path, without the query.
    pub path: String,
    /// The query's pairs, in order, decoded.
    pub query: Vec<(String, String)>,
    /// The headers, in order (names lowercase).
    pub headers: Vec<(String, String)>,
    /// The `Cookie` header's pairs.
    pub cookies: Vec<(String, String)>,
    /// The pairs of an `application/x-www-form-urlencoded` body, in order.
    pub form: Vec<(String, String)>,
    /// The body as received.
    pub body: Bytes,
    /// The client's address.
    pub remote: Option<SocketAddr>,
}

impl Request {
    /// Parses the parts of an HTTP request whose body was read already
    /// (for a handler run from another HTTP stack, and for fuzzing).
    pub fn from_http(parts: &hyper::http::request::Parts, body: Bytes, remote: Option<SocketAddr>) -> Self {
        let uri = &parts.uri;
        let proxy_form = uri.authority().is_some();
        let host = match uri.host() {
            Some(host) => Some(host.to_ascii_lowercase()),
            None => parts
                .headers
                .get(hyper::header::HOST)
                .and_then(|h| h.to_str().ok())
                .map(|h| strip_port(h).to_ascii_lowercase()),
        };
        let query = uri.query().map(parse_pairs).unwrap_or_default();
        let headers: Vec<(String, String)> = parts
            .headers
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        let cookies = parts
            .headers
            .get_all(hyper::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(parse_cookie_header)
            .collect();
        let is_form = parts
            .headers
            .get(hyper::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"));
        let form = if is_form || (parts.method == hyper::Method::POST && looks_like_form(&body)) {
            url::form_urlencoded::parse(&body).into_owned().collect()
        } else {
            Vec::new()
        };
        Self {
            method: parts.method.as_str().to_owned(),
            host,
            proxy_form,
            path: uri.path().to_owned(),
            query,
            headers,
            cookies,
            form,
            body,
            remote,
        }
    }

    /// The first value of query parameter `name`.
    pub fn query(&self, name: &str) -> Option<&str> {
        first(&self.query, name)
    }

    /// The first value of form field `name`.
    pub fn field(&self, name: &str) -> Option<&str> {
        first(&self.form, name)
    }

    /// The value of cookie `name`.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        first(&self.cookies, name)
    }

    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The path and query as the client sent them (query re-encoded).
    pub fn target(&self) -> String {
        if self.query.is_empty() {
            self.path.clone()
        } else {
            let query: String = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(&self.query).finish();
            format!("{}?{query}", self.path)
        }
    }
}

fn first<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        // [::1]:8080
        return host.split_inclusive(']').next().unwrap_or(host);
    }
    host.rsplit_once(':').map_or(host, |(h, port)| if port.bytes().all(|b| b.is_ascii_digit()) { h } else { host })
}

/// Decodes `a=1&b=2` pairs (query strings and form bodies).
pub fn parse_pairs(s: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(s.as_bytes()).into_owned().collect()
}

fn parse_cookie_header(header: &str) -> impl Iterator<Item = (String, String)> + '_ {
    header.split(';').filter_map(|part| {
        let (k, v) = part.trim().split_once('=')?;
        Some((k.trim().to_owned(), v.trim().trim_matches('"').to_owned()))
    })
}

/// Old clients posted forms without a content type now and then.
fn looks_like_form(body: &[u8]) -> bool {
    !body.is_empty() && body.contains(&b'=') && body.iter().all(|b| b.is_ascii_graphic())
}

/// Whether `host` names this machine rather than a protocol host.
pub fn is_local_host(host: &str) -> bool {
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok() || host.starts_with('[')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: hyper::Request<()>, body: &[u8]) -> Request {
        let (parts, ()) = raw.into_parts();
        Request::from_http(&parts, Bytes::copy_from_slice(body), None)
    }

    #[test]
    fn proxy_form_and_plain_form() {
        let r = parse(
            hyper::Request::get("http://0.channel06.facebook.com/x/123/false/p_1001=5")
                .header("host", "0.channel06.facebook.com")
                .body(())
                .unwrap(),
            b"",
        );
        assert!(r.proxy_form);
        assert_eq!(r.host.as_deref(), Some("0.channel06.facebook.com"));
        assert_eq!(r.path, "/x/123/false/p_1001=5");

        let r = parse(
            hyper::Request::get("/pull?channel=p_1&seq=3").header("host", "127.0.0.1:8080").body(()).unwrap(),
            b"",
        );
        assert!(!r.proxy_form);
        assert_eq!(r.host.as_deref(), Some("127.0.0.1"));
        assert_eq!(r.query("seq"), Some("3"));
    }

    #[test]
    fn forms_and_cookies() {
        let r = parse(
            hyper::Request::post("/ajax/chat/send.php")
                .header("content-type", "application/x-www-form-urlencoded; charset=UTF-8")
                .header("cookie", "c_user=1001; xs=abc")
                .body(())
                .unwrap(),
            b"msg_text=a+%26+b%3D%F0%9F%98%80&to=1002",
        );
        assert_eq!(r.field("msg_text"), Some("a & b=\u{1F600}"));
        assert_eq!(r.cookie("c_user"), Some("1001"));
        assert_eq!(r.cookie("xs"), Some("abc"));
    }

    #[test]
    fn ports_are_stripped() {
        assert_eq!(strip_port("a.b:80"), "a.b");
        assert_eq!(strip_port("a.b"), "a.b");
        assert_eq!(strip_port("[::1]:80"), "[::1]");
    }
}
