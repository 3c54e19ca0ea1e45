//! Transport errors, with hyper's error kept as the source.

use std::error::Error as StdError;
use std::fmt;

use url::Url;

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The connection could not be opened.
    Connect,
    /// The request failed before a response arrived (reset, closed).
    Request,
    /// The response body broke off (reset, cut short).
    Body,
    /// The deadline passed.
    Timeout,
    /// The body grew past the limit.
    BodyTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The URL cannot be requested.
    InvalidUrl,
    /// Something this client does not do.
    Unsupported(&'static str),
    /// The TLS setup is wrong (an extra CA that does not read).
    Tls,
}

/// A transport error: what, for which URL, and the underlying cause as
/// [`source()`](StdError::source).
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    url: String,
    source: Option<Box<dyn StdError + Send + Sync>>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, url: &Url) -> Self {
        Self { kind, url: url.to_string(), source: None }
    }

    pub(crate) fn with_source(kind: ErrorKind, url: &Url, source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self { kind, url: url.to_string(), source: Some(source.into()) }
    }

    pub(crate) fn tls(what: String) -> Self {
        Self { kind: ErrorKind::Tls, url: String::new(), source: Some(what.into()) }
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The URL of the request.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Whether the deadline passed.
    pub fn is_timeout(&self) -> bool {
        self.kind == ErrorKind::Timeout
    }

    /// Whether the connection could not be opened.
    pub fn is_connect(&self) -> bool {
        self.kind == ErrorKind::Connect
    }

    /// Whether the body broke off after the response started.
    pub fn is_body(&self) -> bool {
        self.kind == ErrorKind::Body
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::Connect => write!(f, "cannot connect to {}", self.url),
            ErrorKind::Request => write!(f, "request to {} failed", self.url),
            ErrorKind::Body => write!(f, "the body from {} broke off", self.url),
            ErrorKind::Timeout => write!(f, "request to {} timed out", self.url),
            ErrorKind::BodyTooLarge { limit } => write!(f, "the body from {} is over {limit} bytes", self.url),
            ErrorKind::InvalidUrl => write!(f, "cannot request {}", self.url),
            ErrorKind::Unsupported(what) => write!(f, "cannot request {}: {what}", self.url),
            ErrorKind::Tls => write!(f, "the TLS setup is wrong"),
        }
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn StdError + 'static))
    }
}
