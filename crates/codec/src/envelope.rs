//! The ajax envelope that every form post is answered with.

use std::borrow::Cow;
use std::fmt;

use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::Result;
use crate::ctx::Ctx;
use crate::fields::BodyFields;
use crate::payload::{Payload, build_payload};
use crate::raw::{Extra, RawJson, own};

/// `{"error":0,"errorSummary":"","errorDescription":"No error.","payload":...}`
///
/// The server's error is data, not a string: [`Envelope::result`] turns an
/// envelope into its payload or a [`ServerError`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope<'a> {
    /// `error`: 0 on success, else a code such as 1357001 (see [`ErrorCode`]).
    pub error: i64,
    /// `errorSummary` (empty on success).
    pub summary: Cow<'a, str>,
    /// `errorDescription` (`No error.` on success).
    pub description: Cow<'a, str>,
    /// `errorIsWarning`, where present.
    pub is_warning: Option<bool>,
    /// `payload`.
    pub payload: Payload<'a>,
    /// `bootload`: scripts the page should load, kept raw.
    pub bootload: Option<RawJson<'a>>,
    /// Unknown keys, in wire order.
    pub extra: Extra<'a>,
}

impl<'a> Envelope<'a> {
    /// A successful envelope with `payload`, as the 2008 service wrote it.
    pub fn ok(payload: Payload<'a>) -> Self {
        Self {
            error: 0,
            summary: Cow::Borrowed(""),
            description: Cow::Borrowed("No error."),
            is_warning: None,
            payload,
            bootload: None,
            extra: Extra::new(),
        }
    }

    /// An error envelope (payload `null`) for a known code, with the texts
    /// the service used.
    pub fn error(code: ErrorCode) -> Self {
        Self {
            error: code.code(),
            summary: Cow::Borrowed(code.summary()),
            description: Cow::Borrowed(code.description()),
            is_warning: None,
            payload: Payload::Null,
            bootload: None,
            extra: Extra::new(),
        }
    }

    /// Whether the server reported an error that is not a mere warning.
    pub fn is_error(&self) -> bool {
        self.error != 0 && self.is_warning != Some(true)
    }

    /// The server's error, when there is one (warnings included).
    pub fn server_error(&self) -> Option<ServerError> {
        (self.error != 0).then(|| ServerError {
            code: self.error,
            summary: self.summary.to_string(),
            description: self.description.to_string(),
            is_warning: self.is_warning == Some(true),
        })
    }

    /// The payload on success (or on a warning), the server's error else.
    pub fn result(self) -> Result<Payload<'a>, ServerError> {
        match self.server_error() {
            Some(err) if !err.is_warning => Err(err),
            _ => Ok(self.payload),
        }
    }

    /// The envelope with its prefix, as the 2008 service sent it.
    pub fn encode(&self) -> Vec<u8> {
        crate::Encoder::default().envelope(self)
    }

    /// Detaches the envelope from the input it borrows from.
    pub fn into_owned(self) -> Envelope<'static> {
        Envelope {
            error: self.error,
            summary: own(self.summary),
            description: own(self.description),
            is_warning: self.is_warning,
            payload: self.payload.into_owned(),
            bootload: self.bootload.map(RawJson::into_owned),
            extra: self.extra.into_owned(),
        }
    }
}

impl Serialize for Envelope<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("error", &self.error)?;
        map.serialize_entry("errorSummary", &self.summary)?;
        map.serialize_entry("errorDescription", &self.description)?;
        if let Some(w) = self.is_warning {
            map.serialize_entry("errorIsWarning", &w)?;
        }
        if !matches!(self.payload, Payload::Absent) {
            map.serialize_entry("payload", &self.payload)?;
        }
        if let Some(b) = &self.bootload {
            map.serialize_entry("bootload", b)?;
        }
        self.extra.serialize_into(&mut map)?;
        map.end()
    }
}

/// An error the server reported in an envelope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("server error {code}: {summary}: {description}")]
pub struct ServerError {
    /// `error`, the code.
    pub code: i64,
    /// `errorSummary`.
    pub summary: String,
    /// `errorDescription`.
    pub description: String,
    /// `errorIsWarning`.
    pub is_warning: bool,
}

impl ServerError {
    /// The code, as a known code where it is one.
    pub fn kind(&self) -> ErrorCode {
        ErrorCode::from_code(self.code)
    }

    /// 1357001: the session is gone; log in again.
    pub fn is_not_logged_in(&self) -> bool {
        self.kind() == ErrorCode::NotLoggedIn
    }

    /// 1357004: the form token (`post_form_id`) is stale; fetch a page again.
    pub fn is_csrf_failure(&self) -> bool {
        self.kind() == ErrorCode::CsrfFailed
    }

    /// 1356003: the recipient is not online.
    pub fn is_recipient_offline(&self) -> bool {
        self.kind() == ErrorCode::DestinationNotOnline
    }

    /// 1356008: sending too fast.
    pub fn is_rate_limited(&self) -> bool {
        self.kind() == ErrorCode::TooManyMessages
    }

    /// Whether logging in again (or renewing the form token) can cure it.
    pub fn needs_new_session(&self) -> bool {
        matches!(self.kind(), ErrorCode::NotLoggedIn | ErrorCode::LoginChanged | ErrorCode::CsrfFailed)
    }
}

/// The error codes docs/protocol.md knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// 1346001, validation error.
    Validation,
    /// 1356002, chat not available.
    ChatNotAvailable,
    /// 1356003, send destination not online.
    DestinationNotOnline,
    /// 1356008, too many messages.
    TooManyMessages,
    /// 1357001, not logged in.
    NotLoggedIn,
    /// 1357003, login changed.
    LoginChanged,
    /// 1357004, CSRF check failed (stale form token).
    CsrfFailed,
    /// 1357005, bad parameter.
    BadParameter,
    /// Any other code.
    Other(i64),
}

impl ErrorCode {
    const KNOWN: [(ErrorCode, i64, &'static str, &'static str); 8] = [
        (ErrorCode::Validation, 1346001, "Validation error", "There was a validation error."),
        (ErrorCode::ChatNotAvailable, 1356002, "Chat not available", "Chat is not available right now."),
        (ErrorCode::DestinationNotOnline, 1356003, "Send destination not online", "This person is no longer online."),
        (ErrorCode::TooManyMessages, 1356008, "Too many messages", "You are sending messages too quickly."),
        (ErrorCode::NotLoggedIn, 1357001, "Not Logged In", "You must be logged in to do that."),
        (ErrorCode::LoginChanged, 1357003, "Login changed", "You logged in as someone else."),
        (
            ErrorCode::CsrfFailed,
            1357004,
            "Page expired",
            "This page is no longer valid. Please refresh the page and try again.",
        ),
        (ErrorCode::BadParameter, 1357005, "Bad parameter", "A parameter was missing or invalid."),
    ];

    /// The code for a number.
    pub fn from_code(code: i64) -> Self {
        Self::KNOWN.iter().find(|k| k.1 == code).map_or(ErrorCode::Other(code), |k| k.0)
    }

    /// The number.
    pub fn code(self) -> i64 {
        match self {
            ErrorCode::Other(code) => code,
            known => Self::KNOWN.iter().find(|k| k.0 == known).map_or(0, |k| k.1),
        }
    }

    /// The `errorSummary` the service sent with it (captured texts where
    /// known: 1357001, 1356003).
    pub fn summary(self) -> &'static str {
        Self::KNOWN.iter().find(|k| k.0 == self).map_or("Error", |k| k.2)
    }

    /// The `errorDescription` the service sent with it.
    pub fn description(self) -> &'static str {
        Self::KNOWN.iter().find(|k| k.0 == self).map_or("An error occurred.", |k| k.3)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.code(), self.summary())
    }
}

/// Builds an envelope from an object without a `t`; `ctx` stands at it.
pub(crate) fn build_envelope<'a>(f: BodyFields<'a>, ctx: &mut Ctx<'a>) -> Result<Envelope<'a>> {
    let BodyFields { c, seq, s, reason, ms, lb_info, batches, mut extra, envelope: e, .. } = f;
    let error = ctx.int("error", e.error)?.unwrap_or(0);
    let summary = ctx.string("errorSummary", e.summary)?.unwrap_or_default();
    let description = ctx.string("errorDescription", e.description)?.unwrap_or_default();
    let is_warning = ctx.flag("errorIsWarning", e.is_warning)?;
    let payload = build_payload(e.payload, ctx)?;
    for (key, present) in [
        ("c", c.is_some()),
        ("seq", seq.is_some()),
        ("s", s.is_some()),
        ("reason", reason.is_some()),
        ("ms", ms.is_some()),
        ("lb_info", lb_info.is_some()),
        ("batches", batches.is_some()),
    ] {
        ctx.keep_if(&mut extra, key, present);
    }
    Ok(Envelope { error, summary, description, is_warning, payload, bootload: e.bootload, extra })
}
