//! The one HTTP client of fbcomet's client side, shared by the long-poll
//! receiver and the form-post sender.
//!
//! One `hyper_util` legacy client with one body type: pooled keep-alive
//! connections, a deadline around each request and its body (the legacy
//! client has none), a body size limit, an optional plain-HTTP proxy (so a
//! client can address the real host names and reach an fbcomet server that
//! serves proxy-form requests), and a cookie jar (domain, path, expiry) that
//! every request draws from and every response feeds.
//!
//! HTTPS is rustls, trusting the web's roots and any extra CA
//! ([`HttpConfig::trust_pem`], for fbcomet's own CA): straight to a server,
//! or through the proxy in a `CONNECT` tunnel, as browsers do.
//!
//! ```no_run
//! # async fn run() -> Result<(), fbcomet_http::Error> {
//! use fbcomet_http::{HttpClient, HttpConfig};
//!
//! let client = HttpClient::new(HttpConfig {
//!     proxy: Some("http://127.0.0.1:8008".parse().expect("a URL")),
//!     ..HttpConfig::default()
//! });
//! let page = client.get(&"http://www.facebook.com/login.php".parse().expect("a URL")).await?;
//! println!("{} {}", page.status, page.text());
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod connector;
mod error;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::time::Instant;
use url::Url;

pub use cookie_store::CookieStore;
pub use error::{Error, ErrorKind};

use connector::{Connector, tls_config};

/// How the client connects and what it accepts.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Send every request through this HTTP proxy: plain ones in proxy
    /// form, HTTPS ones in a `CONNECT` tunnel.
    pub proxy: Option<Url>,
    /// Certificate authorities to trust besides the web's (DER), such as
    /// fbcomet's own ([`HttpConfig::trust_pem`]).
    pub extra_ca: Vec<Vec<u8>>,
    /// The largest response body accepted.
    pub max_body: usize,
    /// How long a connection may take to open.
    pub connect_timeout: Duration,
    /// The deadline of a request and its body, where the caller sets none.
    pub request_timeout: Duration,
    /// The `User-Agent` header.
    pub user_agent: String,
}

impl HttpConfig {
    /// Trusts the certificates of `pem` (one or more) besides the web's:
    /// fbcomet's `ca.pem`, for its servers. An error when `pem` holds no
    /// certificate or a broken one.
    pub fn trust_pem(mut self, pem: &str) -> Result<Self, Error> {
        use rustls::pki_types::pem::PemObject;
        let mut added = 0;
        for cert in rustls::pki_types::CertificateDer::pem_slice_iter(pem.as_bytes()) {
            let cert = cert.map_err(|e| Error::tls(format!("a CA certificate does not read: {e}")))?;
            self.extra_ca.push(cert.to_vec());
            added += 1;
        }
        if added == 0 {
            return Err(Error::tls("no certificate in the PEM text".to_owned()));
        }
        Ok(self)
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            proxy: None,
            extra_ca: Vec::new(),
            max_body: 4 << 20,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            user_agent: format!("fbcomet/{} (Facebook Chat Comet client)", env!("CARGO_PKG_VERSION")),
        }
    }
}

/// A whole response.
#[derive(Debug, Clone)]
pub struct Response {
    /// The URL asked for.
    pub url: Url,
    /// The status code.
    pub status: u16,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl Response {
    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The `Location` header of a redirect, resolved against the URL.
    pub fn location(&self) -> Option<Url> {
        let location = self.headers.get(header::LOCATION)?.to_str().ok()?;
        self.url.join(location).ok()
    }
}

/// A response whose body is read as it arrives (a long poll, a kept-open
/// connection).
#[derive(Debug)]
pub struct Streaming {
    /// The URL asked for.
    pub url: Url,
    /// The status code.
    pub status: u16,
    /// The headers.
    pub headers: HeaderMap,
    body: Incoming,
    received: usize,
    max_body: usize,
    deadline: Instant,
}

impl Streaming {
    /// The next piece of the body, `None` at its end. Fails past the
    /// deadline, past the size limit, and when the connection breaks.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, Error> {
        loop {
            let frame = match tokio::time::timeout_at(self.deadline, self.body.frame()).await {
                Err(_) => return Err(Error::new(ErrorKind::Timeout, &self.url)),
                Ok(None) => return Ok(None),
                Ok(Some(Err(err))) => return Err(Error::with_source(ErrorKind::Body, &self.url, err)),
                Ok(Some(Ok(frame))) => frame,
            };
            if let Ok(data) = frame.into_data() {
                self.received += data.len();
                if self.received > self.max_body {
                    return Err(Error::new(ErrorKind::BodyTooLarge { limit: self.max_body }, &self.url));
                }
                if !data.is_empty() {
                    return Ok(Some(data));
                }
            }
        }
    }

    /// The whole rest of the body.
    pub async fn collect(mut self) -> Result<Response, Error> {
        let mut body = Vec::new();
        while let Some(chunk) = self.chunk().await? {
            body.extend_from_slice(&chunk);
        }
        Ok(Response { url: self.url, status: self.status, headers: self.headers, body: Bytes::from(body) })
    }
}

/// The client. Cloning it is cheap and shares the pool and the cookie jar.
#[derive(Clone)]
pub struct HttpClient {
    inner: Client<Connector, Full<Bytes>>,
    config: Arc<HttpConfig>,
    jar: Arc<Mutex<CookieStore>>,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient").field("config", &self.config).finish_non_exhaustive()
    }
}

impl HttpClient {
    /// A client with an empty cookie jar.
    pub fn new(config: HttpConfig) -> Self {
        Self::with_jar(config, CookieStore::default())
    }

    /// A client that starts from `jar` (a restored session).
    pub fn with_jar(config: HttpConfig, jar: CookieStore) -> Self {
        let connector = Connector::new(config.proxy.clone(), config.connect_timeout, tls_config(&config.extra_ca));
        let inner = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_max_idle_per_host(8)
            .build(connector);
        Self { inner, config: Arc::new(config), jar: Arc::new(Mutex::new(jar)) }
    }

    /// The configuration.
    pub fn config(&self) -> &HttpConfig {
        &self.config
    }

    /// The cookie jar, shared by every clone of this client.
    pub fn jar(&self) -> MutexGuard<'_, CookieStore> {
        // A panic while the lock was held cannot leave the jar half-written
        // in a way that matters more than losing it would.
        self.jar.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The value of cookie `name` as it would be sent to `url`.
    pub fn cookie(&self, url: &Url, name: &str) -> Option<String> {
        self.jar().get_request_values(url).find(|(n, _)| *n == name).map(|(_, v)| v.to_owned())
    }

    /// GET `url`, whole.
    pub async fn get(&self, url: &Url) -> Result<Response, Error> {
        self.open("GET", url, self.default_deadline()).await?.collect().await
    }

    /// POST `form`, form-encoded, to `url`, whole.
    pub async fn post_form<K: AsRef<str>, V: AsRef<str>>(&self, url: &Url, form: &[(K, V)]) -> Result<Response, Error> {
        self.open_form(url, form, self.default_deadline()).await?.collect().await
    }

    /// POST `body` as `content_type` to `url` with `headers` besides, whole
    /// (a JSON API, a signed webhook).
    pub async fn post(
        &self,
        url: &Url,
        content_type: &str,
        body: impl Into<Bytes>,
        headers: &[(&str, String)],
    ) -> Result<Response, Error> {
        let content_type =
            HeaderValue::from_str(content_type).map_err(|e| Error::with_source(ErrorKind::InvalidUrl, url, e))?;
        let mut extra = HeaderMap::new();
        extra.insert(header::CONTENT_TYPE, content_type);
        for (name, value) in headers {
            let name = header::HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| Error::with_source(ErrorKind::InvalidUrl, url, e))?;
            let value = HeaderValue::from_str(value).map_err(|e| Error::with_source(ErrorKind::InvalidUrl, url, e))?;
            extra.append(name, value);
        }
        self.send("POST", url, Some(body.into()), extra, self.default_deadline()).await?.collect().await
    }

    fn default_deadline(&self) -> Instant {
        Instant::now() + self.config.request_timeout
    }

    /// Sends a request without a body and returns once the headers are in;
    /// the body is read from the [`Streaming`] as it arrives, all before
    /// `deadline`.
    pub async fn open(&self, method: &str, url: &Url, deadline: Instant) -> Result<Streaming, Error> {
        self.send(method, url, None, HeaderMap::new(), deadline).await
    }

    /// POSTs `form`, form-encoded, and returns once the headers are in.
    pub async fn open_form<K: AsRef<str>, V: AsRef<str>>(
        &self,
        url: &Url,
        form: &[(K, V)],
        deadline: Instant,
    ) -> Result<Streaming, Error> {
        // The serializer is not Send: it must not live across the await.
        let body = {
            let mut s = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in form {
                s.append_pair(k.as_ref(), v.as_ref());
            }
            Bytes::from(s.finish())
        };
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded"));
        self.send("POST", url, Some(body), headers, deadline).await
    }

    async fn send(
        &self,
        method: &str,
        url: &Url,
        body: Option<Bytes>,
        extra: HeaderMap,
        deadline: Instant,
    ) -> Result<Streaming, Error> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Error::new(ErrorKind::Unsupported("only http:// and https:// URLs"), url));
        }
        let uri: hyper::Uri = url.as_str().parse().map_err(|e| Error::with_source(ErrorKind::InvalidUrl, url, e))?;
        let mut request = hyper::Request::builder().method(method).uri(uri);
        let headers = request.headers_mut().ok_or_else(|| Error::new(ErrorKind::InvalidUrl, url))?;
        if let Ok(ua) = HeaderValue::from_str(&self.config.user_agent) {
            headers.insert(header::USER_AGENT, ua);
        }
        for (name, value) in &extra {
            headers.append(name, value.clone());
        }
        let cookies: Vec<String> = self.jar().get_request_values(url).map(|(n, v)| format!("{n}={v}")).collect();
        if !cookies.is_empty()
            && let Ok(value) = HeaderValue::from_str(&cookies.join("; "))
        {
            headers.insert(header::COOKIE, value);
        }
        let request = request
            .body(Full::new(body.unwrap_or_default()))
            .map_err(|e| Error::with_source(ErrorKind::InvalidUrl, url, e))?;

        let response = match tokio::time::timeout_at(deadline, self.inner.request(request)).await {
            Err(_) => return Err(Error::new(ErrorKind::Timeout, url)),
            Ok(Err(err)) => {
                let kind = if err.is_connect() { ErrorKind::Connect } else { ErrorKind::Request };
                return Err(Error::with_source(kind, url, err));
            }
            Ok(Ok(response)) => response,
        };
        let (parts, body) = response.into_parts();
        self.store_cookies(url, &parts.headers);
        Ok(Streaming {
            url: url.clone(),
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
            received: 0,
            max_body: self.config.max_body,
            deadline,
        })
    }

    fn store_cookies(&self, url: &Url, headers: &HeaderMap) {
        let mut jar = self.jar();
        for value in headers.get_all(header::SET_COOKIE) {
            let Ok(text) = value.to_str() else { continue };
            if let Err(err) = jar.parse(text, url) {
                tracing::debug!(%err, cookie = text, %url, "cookie not stored");
            }
        }
    }
}
