//! What can go wrong with a post or a login.

use fbcomet_codec::ServerError;

/// Why a post failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request did not get through (connect, reset, timeout).
    #[error("{0}")]
    Http(#[from] fbcomet_http::Error),
    /// An HTTP status other than 200.
    #[error("HTTP status {status} from {endpoint}")]
    Status {
        /// The status.
        status: u16,
        /// The endpoint's path.
        endpoint: String,
    },
    /// The answer is not an ajax envelope.
    #[error("the answer from {endpoint} does not decode: {source}")]
    Decode {
        /// The endpoint's path.
        endpoint: String,
        /// Why.
        source: fbcomet_codec::Error,
    },
    /// The server answered with an error (1357001 not logged in, 1357004
    /// stale form token, 1356003 recipient offline, ...).
    #[error("{0}")]
    Server(ServerError),
    /// A 2013-2018 answer without what it should carry.
    #[error("the answer from {endpoint} is not what it should be: {reason}")]
    Answer {
        /// The endpoint's path.
        endpoint: String,
        /// What is wrong.
        reason: String,
    },
    /// A successful envelope with a payload of the wrong kind.
    #[error("{endpoint} answered without the expected {expected} payload")]
    UnexpectedPayload {
        /// The endpoint's path.
        endpoint: String,
        /// What was expected.
        expected: &'static str,
    },
    /// An empty message, refused before sending (the service took 1 to 999
    /// characters).
    #[error("the message is empty")]
    Empty,
    /// A message longer than the service took, refused before sending.
    #[error("the message is {chars} characters long; the service takes at most {max}")]
    TooLong {
        /// Its length in characters.
        chars: usize,
        /// The limit.
        max: usize,
    },
}

impl Error {
    /// The server's error, if it answered with one.
    pub fn server_error(&self) -> Option<&ServerError> {
        match self {
            Error::Server(err) => Some(err),
            _ => None,
        }
    }

    /// 1357001: the session is gone.
    pub fn is_not_logged_in(&self) -> bool {
        self.server_error().is_some_and(ServerError::is_not_logged_in)
    }

    /// Whether a new login (or a new form token) could cure it.
    pub fn needs_new_session(&self) -> bool {
        self.server_error().is_some_and(ServerError::needs_new_session)
    }

    /// Whether trying again could help: the request or the answer broke,
    /// or the server failed (5xx). Server errors are answers, not failures.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Http(_) | Error::Decode { .. } => true,
            Error::Status { status, .. } => *status >= 500,
            _ => false,
        }
    }
}

/// Why logging in failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoginError {
    /// A page could not be fetched.
    #[error("{0}")]
    Http(#[from] fbcomet_http::Error),
    /// A page answered with an unexpected status.
    #[error("HTTP status {status} from {page}")]
    Status {
        /// The status.
        status: u16,
        /// The page.
        page: String,
    },
    /// login.php has no form to fill in.
    #[error("login.php has no login form")]
    NoLoginForm,
    /// The service turned the email and password down.
    #[error("wrong email or password{}", .0.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    BadCredentials(Option<String>),
    /// home.php names no user (no profile link, no `user` input, no
    /// `c_user` cookie).
    #[error("home.php does not say who is logged in")]
    NoUid,
    /// home.php names no channel (no `"channelNN"` in its scripts).
    #[error("home.php names no chat channel (no \"channelNN\" in its scripts): chat may be off for this account")]
    NoChannel,
    /// home.php has no form token (`post_form_id`).
    #[error("home.php has no post_form_id")]
    NoFormToken,
}

/// Why a saved session could not be restored.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RestoreError {
    /// The saved session is not valid JSON of the right shape.
    #[error("not a saved fbcomet session: {0}")]
    Format(#[from] serde_json::Error),
    /// Its cookies do not load.
    #[error("the saved cookies do not load: {0}")]
    Cookies(String),
    /// Its base URL is not a URL.
    #[error("the saved base URL {0:?} is not a URL")]
    Url(String),
}
