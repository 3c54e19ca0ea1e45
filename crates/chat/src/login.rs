//! Logins: session tokens, form tokens, how long a login lasts, and the
//! throttle in front of passwords.
//!
//! A login is known by its session token (the `xs` cookie of the 2008
//! service) and carries a form token (`post_form_id`) that every post must
//! echo. Both come from a cryptographic generator. A login unused for
//! [`login_idle`](crate::ChatConfig::login_idle) ends, and a user has at
//! most [`logins_per_user`](crate::ChatConfig::logins_per_user): a new one
//! past that ends the least recently used. Ending a login ends the holds
//! and subscriptions made with it ([`End::LoggedOut`]).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Instant;

use rand::Rng;

use crate::error::{ChatError, LoginError};
use crate::hold::{End, HoldId};
use crate::service::ChatService;
use crate::store::{Counter, Login, Store};
use crate::throttle;
use crate::world::{App, User};

/// The longest account name (an email address: RFC 5321 allows 254
/// octets) a login looks at. A longer one is refused unchecked and not
/// counted by the throttle, whose keys it would otherwise fill.
pub const MAX_ACCOUNT_BYTES: usize = 254;

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

impl<S: Store> ChatService<S> {
    /// Logs in with an email (any case) and password, from `address` where
    /// known; wrong passwords are throttled ([`crate::throttle`]).
    pub fn login(
        &mut self,
        email: &str,
        password: &str,
        address: Option<IpAddr>,
        now: Instant,
    ) -> Result<Grant, LoginError> {
        self.login_with(email, address, now, |user| user.password == password)
    }

    /// Logs in `account` (an email, any case, or a username: see
    /// [`User::username`]) when `check` accepts the user (a password, or a
    /// SASL digest made with it), throttled as [`login`](Self::login) is.
    pub fn login_with(
        &mut self,
        account: &str,
        address: Option<IpAddr>,
        now: Instant,
        check: impl FnOnce(&User) -> bool,
    ) -> Result<Grant, LoginError> {
        let account = account.trim();
        if account.len() > MAX_ACCOUNT_BYTES {
            return Err(LoginError::WrongCredentials);
        }
        let account = account.to_lowercase();
        self.throttled(&account, address, now, |users, _| {
            users
                .values()
                .find(|u| u.email.eq_ignore_ascii_case(&account) || u.username().eq_ignore_ascii_case(&account))
                .filter(|u| check(u))
                .map(|u| u.uid)
        })
    }

    /// Logs in the user whose access token is `token`, for the app
    /// `api_key` of the world (`X-FACEBOOK-PLATFORM`), throttled per
    /// address as wrong passwords are.
    pub fn login_with_token(
        &mut self,
        api_key: &str,
        token: &str,
        address: Option<IpAddr>,
        now: Instant,
    ) -> Result<Grant, LoginError> {
        if api_key.len() > MAX_ACCOUNT_BYTES {
            return Err(LoginError::WrongCredentials);
        }
        self.throttled(&format!("app:{api_key}"), address, now, |users, apps| {
            let known_app = apps.iter().any(|a| a.id == api_key);
            let user = users.values().find(|u| u.access_token.as_deref() == Some(token)).map(|u| u.uid);
            user.filter(|_| known_app && !token.is_empty())
        })
    }

    /// A login attempt for `account` through the throttle: refused
    /// unchecked while it waits; `find` names the user, or a failure is
    /// counted against the address and the account.
    fn throttled(
        &mut self,
        account: &str,
        address: Option<IpAddr>,
        now: Instant,
        find: impl FnOnce(&BTreeMap<u64, User>, &[App]) -> Option<u64>,
    ) -> Result<Grant, LoginError> {
        let now_ms = self.unix_ms(now);
        if let Some(retry_after) = throttle::wait(&self.store, address, account, now_ms) {
            self.store.count(Counter::ThrottledLogins, 1);
            return Err(LoginError::Throttled { retry_after });
        }
        let Some(uid) = find(&self.users, &self.apps) else {
            self.store.count(Counter::FailedLogins, 1);
            throttle::fail(&mut self.store, address, account, now_ms);
            return Err(LoginError::WrongCredentials);
        };
        throttle::succeed(&mut self.store, address);
        Ok(self.grant(uid, now))
    }

    /// Opens a login session for `uid` without a password (for front doors
    /// that authenticate otherwise, and for tests).
    pub fn grant(&mut self, uid: u64, now: Instant) -> Grant {
        let mut existing: Vec<(i64, String)> =
            self.store.logins_of(uid).into_iter().map(|(token, l)| (l.last_used_ms, token)).collect();
        existing.sort();
        let cap = self.config.logins_per_user.max(1);
        while existing.len() >= cap {
            let (_, oldest) = existing.remove(0);
            if self.end_login(&oldest, now).is_some() {
                self.store.count(Counter::ExpiredLogins, 1);
            }
        }
        let grant = Grant { uid, token: token(&mut self.rng), post_form_id: token(&mut self.rng) };
        let now_ms = self.unix_ms(now);
        let login = Login { uid, post_form_id: grant.post_form_id.clone(), last_used_ms: now_ms };
        self.store.put_login(&grant.token, login);
        self.store.set_active(uid, now_ms);
        self.store.count(Counter::Logins, 1);
        grant
    }

    /// Ends the login with session token `token`; its holds and
    /// subscriptions end ([`End::LoggedOut`]). The user whose it was, if it
    /// existed.
    pub fn logout(&mut self, token: &str, now: Instant) -> Option<u64> {
        self.end_login(token, now)
    }

    pub(crate) fn end_login(&mut self, token: &str, now: Instant) -> Option<u64> {
        let login = self.store.remove_login(token)?;
        let of_user = self.by_uid.get(&login.uid).into_iter().flatten();
        let ended: Vec<HoldId> = of_user
            .filter(|id| self.waiters.get(id).is_some_and(|w| w.token.as_deref() == Some(token)))
            .copied()
            .collect();
        for id in ended {
            self.end(id, End::LoggedOut, now);
        }
        if self.store.logins_of(login.uid).is_empty() {
            self.store.clear_presence(login.uid);
        }
        Some(login.uid)
    }

    /// The login with session token `token`, marked used at `now`. Fetching
    /// a page is not presence: polls and posts are.
    pub fn authenticate(&mut self, token: &str, now: Instant) -> Result<Login, ChatError> {
        let now_ms = self.unix_ms(now);
        self.store.touch_login(token, now_ms).ok_or(ChatError::NotLoggedIn)
    }

    /// [`authenticate`](Self::authenticate), and the form token checked: what
    /// every post needs. The user counts as seen. The user's uid.
    pub fn authorize_post(&mut self, token: &str, post_form_id: Option<&str>, now: Instant) -> Result<u64, ChatError> {
        let login = self.authenticate(token, now)?;
        if post_form_id != Some(login.post_form_id.as_str()) {
            return Err(ChatError::CsrfFailed);
        }
        let now_ms = self.unix_ms(now);
        self.store.set_seen(login.uid, now_ms);
        Ok(login.uid)
    }

    /// A request that only says the user is there (`/active_ping`): the
    /// login checked and the user seen. The user's uid.
    pub fn ping(&mut self, token: &str, now: Instant) -> Result<u64, ChatError> {
        let login = self.authenticate(token, now)?;
        let now_ms = self.unix_ms(now);
        self.store.set_seen(login.uid, now_ms);
        Ok(login.uid)
    }

    /// Whether the login `token` of `uid` stands.
    pub fn is_logged_in(&self, token: &str, uid: u64) -> bool {
        self.store.login(token).is_some_and(|l| l.uid == uid)
    }
}

/// 128 bits from `rng`, as 32 hex digits.
pub(crate) fn token(rng: &mut impl Rng) -> String {
    format!("{:032x}", rng.random::<u128>())
}
