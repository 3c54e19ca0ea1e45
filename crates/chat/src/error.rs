//! Why the service refuses a request. Each front door writes these as its
//! dialect's errors (the 2008 door as the codes of docs/protocol.md).

/// A refusal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChatError {
    /// No login session for that token (never was, logged out, expired).
    #[error("not logged in")]
    NotLoggedIn,
    /// The login session belongs to another user than the one named.
    #[error("logged in as another user")]
    LoginChanged,
    /// The form token does not match the login session's.
    #[error("the form token is stale")]
    CsrfFailed,
    /// The recipient is not a friend, or not online.
    #[error("the recipient is not online")]
    DestinationNotOnline,
    /// Empty, or longer than the service accepts.
    #[error("the message is empty or too long")]
    Validation,
    /// A parameter is missing or makes no sense.
    #[error("a parameter is missing or invalid: {0}")]
    BadParameter(&'static str),
}

/// Why a login failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LoginError {
    /// No user with that email and password.
    #[error("the email and password did not match")]
    WrongCredentials,
    /// Too many wrong passwords from this address (or for this account):
    /// try again after `retry_after`. The password was not checked.
    #[error("too many failed logins; try again in {} s", retry_after.as_secs().max(1))]
    Throttled {
        /// How long to wait.
        retry_after: std::time::Duration,
    },
}
