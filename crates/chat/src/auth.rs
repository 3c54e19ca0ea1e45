//! Logins: session tokens, form tokens, and how long a login lasts.
//!
//! A login is known by its session token (the `xs` cookie of the 2008
//! service) and carries a form token (`post_form_id`) that every post must
//! echo. Both come from a cryptographic generator. A login unused for
//! [`login_idle`](crate::ChatConfig::login_idle) ends, and a user has at
//! most [`logins_per_user`](crate::ChatConfig::logins_per_user): a new one
//! past that ends the least recently used.

use std::time::Instant;

use rand::Rng;
use rand::rngs::StdRng;

/// A login session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    /// Whose.
    pub uid: u64,
    /// The form token posts must carry.
    pub post_form_id: String,
    /// When it was last used.
    pub last_used: Instant,
}

/// What a successful login hands out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The user.
    pub uid: u64,
    /// The session token (a cookie's value).
    pub token: String,
    /// The form token.
    pub post_form_id: String,
}

/// 128 bits from `rng`, as 32 hex digits.
pub(crate) fn token(rng: &mut StdRng) -> String {
    format!("{:032x}", rng.random::<u128>())
}
