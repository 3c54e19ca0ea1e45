//! The session fixture format: one captured session per JSON file.
//!
//! `fixtures/README.md` documents the format with a full example.

use std::path::Path;

use serde::{Deserialize, Serialize};

use fbcomet_server::Fault;

/// A recorded session (a session fixture): where it came from, and its
/// exchanges in order. (Not to be confused with a login session:
/// `fbcomet_sender::Session`.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recording {
    /// A short name (the file's stem, by convention).
    pub name: String,
    /// What happens in the session.
    #[serde(default)]
    pub description: String,
    /// Where it came from: the capture, or the sources it was assembled from.
    #[serde(default)]
    pub provenance: String,
    /// Which form of the protocol it speaks.
    pub dialect: Dialect,
    /// The logged-in user.
    pub uid: u64,
    /// The user's channel number (`channel07` is 7), for the 2008 dialect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<u32>,
    /// The requests and answers, in the order they happened.
    pub exchanges: Vec<Exchange>,
}

/// The two forms of the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    /// The 2008 channel long poll: `/x/{ANY}/false/p_{UID}={SEQ}`.
    Channel,
    /// The `/pull` endpoint of 2013-2020.
    Pull,
}

/// One request and the answer it got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exchange {
    /// A note for the reader.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
    /// What the client sent.
    pub request: RequestSpec,
    /// What the server answered.
    pub response: ResponseSpec,
}

/// A recorded request. `{ANY}` in the host, a path segment, a query value
/// or a form value matches anything there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestSpec {
    /// `GET`, `POST`, ...
    #[serde(default = "default_method")]
    pub method: String,
    /// The host the client addressed, such as `0.channel07.facebook.com`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The path and query, such as `/x/{ANY}/false/p_1001=-1`.
    pub path: String,
    /// Headers as recorded (names and values), kept for reference and HAR
    /// export; matching does not compare them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, String)>,
    /// The form fields of a post, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub form: Vec<(String, String)>,
}

/// A recorded answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseSpec {
    /// The HTTP status.
    #[serde(default = "default_status")]
    pub status: u16,
    /// Headers, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, String)>,
    /// The body exactly as sent, prefix and all. Empty when `chunks` holds it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub body: String,
    /// How long the server held the request before answering, in ms.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub hold_ms: u64,
    /// The body in timed pieces, as a kept-open connection sent them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chunks: Vec<Chunk>,
    /// A failure that happened instead of (or during) the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<Fault>,
}

/// A piece of a body sent on its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Chunk {
    /// How long after the previous piece (or the end of the hold) it came.
    #[serde(default)]
    pub delay_ms: u64,
    /// The bytes, as text.
    pub data: String,
}

fn default_method() -> String {
    "GET".to_owned()
}

fn default_status() -> u16 {
    200
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

/// Why a session fixture could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordingError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The file is not a session in JSON.
    #[error("{path}: line {line}, column {column}: {message}")]
    Json {
        /// The file.
        path: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What went wrong.
        message: String,
    },
    /// The session's contents do not hold together.
    #[error("{path}: exchange {index}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// The exchange's index (0-based).
        index: usize,
        /// What is wrong.
        message: String,
    },
}

impl Recording {
    /// Reads and checks a session fixture.
    pub fn load(path: impl AsRef<Path>) -> Result<Recording, RecordingError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| RecordingError::Io { path: name.clone(), source })?;
        Self::parse(&text, &name)
    }

    /// Parses and checks a session from JSON text; `origin` names it in
    /// errors.
    pub fn parse(text: &str, origin: &str) -> Result<Recording, RecordingError> {
        let session: Recording = serde_json::from_str(text).map_err(|e| RecordingError::Json {
            path: origin.to_owned(),
            line: e.line(),
            column: e.column(),
            message: e.to_string().rsplit_once(" at line ").map_or(e.to_string(), |(m, _)| m.to_owned()),
        })?;
        session.check(origin)?;
        Ok(session)
    }

    /// The session as pretty JSON, as the fixtures are written.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    fn check(&self, origin: &str) -> Result<(), RecordingError> {
        let invalid = |index, message: String| RecordingError::Invalid { path: origin.to_owned(), index, message };
        for (index, exchange) in self.exchanges.iter().enumerate() {
            let (req, resp) = (&exchange.request, &exchange.response);
            if !req.path.starts_with('/') {
                return Err(invalid(index, format!("request path {:?} does not start with '/'", req.path)));
            }
            if req.method.is_empty() || !req.method.bytes().all(|b| b.is_ascii_uppercase()) {
                return Err(invalid(index, format!("request method {:?} is not an HTTP method", req.method)));
            }
            if !(200..=599).contains(&resp.status) {
                return Err(invalid(
                    index,
                    format!("status {} is not the status of an answer (200 to 599)", resp.status),
                ));
            }
            if !resp.body.is_empty() && !resp.chunks.is_empty() {
                return Err(invalid(index, "a response has either a body or chunks, not both".to_owned()));
            }
            if let Some(Fault::Status { status }) = &resp.fault
                && !(200..=599).contains(status)
            {
                return Err(invalid(
                    index,
                    format!("fault status {status} is not the status of an answer (200 to 599)"),
                ));
            }
        }
        Ok(())
    }
}

impl ResponseSpec {
    /// The whole body, joined from its chunks where it has them.
    pub fn full_body(&self) -> String {
        if self.chunks.is_empty() { self.body.clone() } else { self.chunks.iter().map(|c| c.data.as_str()).collect() }
    }
}
