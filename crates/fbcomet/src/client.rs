//! The client: a session and the posts made with it.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use fbcomet_codec::{BuddyList, Event, Message, Presence};
use fbcomet_http::{HttpClient, HttpConfig};
use fbcomet_receiver::{Config as ReceiverConfig, ConfigError};
use fbcomet_sender::{Dialect, LoginError, RestoreError, SavedSession, Sender, SenderConfig, Sent, Session};
use url::Url;

/// Why a client call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Logging in failed.
    #[error("login failed: {0}")]
    Login(#[from] LoginError),
    /// A post failed (the server's error included).
    #[error("{0}")]
    Send(#[from] fbcomet_sender::Error),
    /// A saved session could not be restored.
    #[error("{0}")]
    Restore(#[from] RestoreError),
    /// The receiver's configuration cannot work.
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// The session expired, and no email and password were given to log
    /// in again with (a restored session without credentials).
    #[error("the session expired and there is no password to log in again with")]
    NoCredentials,
    /// An event stream was asked for outside a tokio runtime (its driver
    /// runs as a task).
    #[error("an event stream needs a tokio runtime")]
    NoRuntime,
}

impl Error {
    /// The server's error, where a post got one.
    pub fn server_error(&self) -> Option<&fbcomet_codec::ServerError> {
        match self {
            Error::Send(err) => err.server_error(),
            _ => None,
        }
    }
}

/// Where the client connects and how it behaves.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Which era of the service the client speaks: the 2008 channel and
    /// posts, or the 2013-2018 web endpoints fbchat used.
    pub dialect: Dialect,
    /// The base of pages and posts.
    pub www: Url,
    /// The base of the mobile site, where the web dialect logs in.
    pub mobile: Url,
    /// The base of channel polls (`{ANY}` and `{NN}` are filled in; see
    /// [`Endpoint::Channel`](fbcomet_receiver::Endpoint::Channel)).
    pub channel_base: String,
    /// The base of `/pull` for the web dialect (`{N}` is filled in; see
    /// [`Endpoint::Pull`](fbcomet_receiver::Endpoint::Pull)).
    pub pull_base: String,
    /// The HTTP client's settings (the proxy among them).
    pub http: HttpConfig,
    /// How long the server holds a poll.
    pub hold: Duration,
    /// How often the buddy list is fetched to report presence changes
    /// (browsers did every 3 minutes); `None` for never.
    pub presence_interval: Option<Duration>,
    /// Drop the echoes of the user's own messages from the event stream.
    pub drop_own_echoes: bool,
    /// How many times a send is tried in all.
    pub send_attempts: u32,
    /// The pause between tries.
    pub retry_delay: Duration,
    /// The seed of everything random (msg ids, cache busters, jitter).
    pub rng_seed: Option<u64>,
    /// Adjusts the receiver's configuration before it starts (backoff,
    /// deadlines, seq policy).
    pub tune_receiver: Option<fn(&mut ReceiverConfig)>,
}

impl ClientConfig {
    /// Everything on one server addressed directly, such as an fbcomet
    /// server at `http://127.0.0.1:8008`.
    pub fn new(server: Url) -> Self {
        let base = server.as_str().trim_end_matches('/').to_owned();
        Self::with(server.clone(), server, base.clone(), base, HttpConfig::default())
    }

    /// The real host names (`www.facebook.com`, `0.channel07.facebook.com`),
    /// reached through `proxy`: the way an old client is pointed at an
    /// fbcomet server without changing anything else.
    pub fn through_proxy(proxy: Url) -> Self {
        let www = Url::parse("http://www.facebook.com").unwrap_or_else(|_| proxy.clone());
        let mobile = Url::parse("http://m.facebook.com").unwrap_or_else(|_| proxy.clone());
        let channel_base = "http://{ANY}.channel{NN}.facebook.com".to_owned();
        let pull_base = "https://{N}-edge-chat.facebook.com".to_owned();
        Self::with(www, mobile, channel_base, pull_base, HttpConfig { proxy: Some(proxy), ..HttpConfig::default() })
    }

    /// The same configuration in `dialect`. Through a proxy, the web
    /// dialect uses https, as the service did from 2013 (the proxy's CA
    /// must be trusted: [`HttpConfig::extra_ca`]).
    pub fn with_dialect(mut self, dialect: Dialect) -> Self {
        self.dialect = dialect;
        if self.http.proxy.is_some() {
            let scheme = match dialect {
                Dialect::Classic => "http",
                Dialect::Web => "https",
            };
            for url in [&mut self.www, &mut self.mobile] {
                // Both are http or https URLs of a host: the scheme can change.
                let _ = url.set_scheme(scheme);
            }
        }
        self
    }

    fn with(www: Url, mobile: Url, channel_base: String, pull_base: String, http: HttpConfig) -> Self {
        Self {
            dialect: Dialect::Classic,
            www,
            mobile,
            channel_base,
            pull_base,
            http,
            hold: Duration::from_secs(55),
            presence_interval: Some(Duration::from_secs(180)),
            drop_own_echoes: false,
            send_attempts: 3,
            retry_delay: Duration::from_secs(1),
            rng_seed: None,
            tune_receiver: None,
        }
    }

    fn sender(&self) -> SenderConfig {
        SenderConfig {
            www: self.www.clone(),
            send_attempts: self.send_attempts,
            retry_delay: self.retry_delay,
            rng_seed: self.rng_seed,
            dialect: self.dialect,
        }
    }

    /// Logs in the way of the configured dialect.
    async fn log_in(&self, http: &HttpClient, email: &str, password: &str) -> Result<Session, LoginError> {
        match self.dialect {
            Dialect::Classic => fbcomet_sender::login(http, &self.www, email, password).await,
            Dialect::Web => fbcomet_sender::login_web(http, &self.mobile, &self.www, email, password).await,
        }
    }
}

pub(crate) struct Inner {
    pub(crate) config: ClientConfig,
    pub(crate) sender: Sender,
    credentials: Mutex<Option<(String, String)>>,
}

/// A logged-in client. Cloning it is cheap; the clones share the session.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("uid", &self.uid()).field("www", &self.inner.config.www.as_str()).finish()
    }
}

impl Client {
    /// Logs in with `email` and `password` (and remembers them, to log in
    /// again when the session expires).
    pub async fn login(config: ClientConfig, email: &str, password: &str) -> Result<Client, Error> {
        let http = HttpClient::new(config.http.clone());
        let session = config.log_in(&http, email, password).await?;
        tracing::info!(uid = session.uid, channel = session.channel, dialect = ?config.dialect, "logged in");
        let sender = Sender::new(http, config.sender(), session);
        Ok(Client {
            inner: Arc::new(Inner {
                config,
                sender,
                credentials: Mutex::new(Some((email.to_owned(), password.to_owned()))),
            }),
        })
    }

    /// Goes on with a saved session, without logging in. It cannot log in
    /// again by itself unless given credentials ([`Client::set_credentials`]).
    pub fn restore(config: ClientConfig, saved: &SavedSession) -> Result<Client, Error> {
        let http = HttpClient::with_jar(config.http.clone(), saved.cookie_jar()?);
        let sender = Sender::new(http, config.sender(), saved.session.clone());
        Ok(Client { inner: Arc::new(Inner { config, sender, credentials: Mutex::new(None) }) })
    }

    /// The session, written down with its cookies.
    pub fn save(&self) -> SavedSession {
        SavedSession::capture(&self.inner.config.www, &self.session(), self.inner.sender.http())
    }

    /// Remembers credentials for logging in again when the session expires.
    pub fn set_credentials(&self, email: &str, password: &str) {
        *self.credentials() = Some((email.to_owned(), password.to_owned()));
    }

    fn credentials(&self) -> std::sync::MutexGuard<'_, Option<(String, String)>> {
        self.inner.credentials.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The logged-in user.
    pub fn uid(&self) -> u64 {
        self.inner.sender.session().uid
    }

    /// The session: uid, channel, form token.
    pub fn session(&self) -> Session {
        self.inner.sender.session()
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// Logs in again with the remembered credentials.
    pub async fn relogin(&self) -> Result<Session, Error> {
        let Some((email, password)) = self.credentials().clone() else {
            return Err(Error::NoCredentials);
        };
        let session = self.inner.config.log_in(self.inner.sender.http(), &email, &password).await?;
        tracing::info!(uid = session.uid, "logged in again");
        self.inner.sender.set_session(session.clone());
        Ok(session)
    }

    /// Runs a post; when it finds the session expired (1357001, 1357003,
    /// 1357004) and credentials are known, logs in again and runs it once
    /// more.
    async fn renewing<T, F, Fut>(&self, post: F) -> Result<T, Error>
    where
        F: Fn(Arc<Inner>) -> Fut,
        Fut: Future<Output = Result<T, fbcomet_sender::Error>>,
    {
        match post(self.inner.clone()).await {
            Err(err) if err.needs_new_session() && self.credentials().is_some() => {
                tracing::info!(%err, "the session expired; logging in again");
                self.relogin().await?;
                Ok(post(self.inner.clone()).await?)
            }
            other => Ok(other?),
        }
    }

    /// Sends `text` to `to`.
    pub async fn send(&self, to: u64, text: &str) -> Result<Sent, Error> {
        self.renewing(|inner| {
            let text = text.to_owned();
            async move { inner.sender.send(to, &text).await }
        })
        .await
    }

    /// The buddy list.
    pub async fn buddy_list(&self) -> Result<BuddyList<'static>, Error> {
        Ok(self.presence(false).await?.buddy_list.unwrap_or_default())
    }

    /// The buddy list and, with `notifications`, the notifications block.
    pub async fn presence(&self, notifications: bool) -> Result<Presence<'static>, Error> {
        self.renewing(|inner| async move { inner.sender.buddy_list(notifications).await }).await
    }

    /// Tells `to` that the user is typing, or stopped.
    pub async fn typing(&self, to: u64, typing: bool) -> Result<(), Error> {
        self.renewing(|inner| async move { inner.sender.typing(to, typing).await }).await
    }

    /// The recent messages with `friend`, oldest first.
    pub async fn history(&self, friend: u64) -> Result<Vec<Message<'static>>, Error> {
        let events = self.renewing(|inner| async move { inner.sender.history(friend).await }).await?;
        Ok(events
            .into_iter()
            .filter_map(|e| match e {
                Event::Msg(m) => Some(m),
                _ => None,
            })
            .collect())
    }

    /// Logs out: the server ends the session, and the user goes offline.
    pub async fn logout(&self) -> Result<(), Error> {
        Ok(self.inner.sender.logout().await?)
    }

    /// The sender underneath, for the posts not wrapped here (settings,
    /// reconnect).
    pub fn sender(&self) -> &Sender {
        &self.inner.sender
    }
}
