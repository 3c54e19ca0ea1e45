//! The form posts of docs/protocol.md, section 3,, as typed calls.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fbcomet_codec::{Envelope, Event, Payload, Presence, Reconnect};
use fbcomet_http::{HttpClient, Response};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use url::Url;

use crate::error::Error;
use crate::session::{Session, on_www};
use crate::web;

/// How many messages a web-dialect history asks for.
const HISTORY_LIMIT: usize = 100;

/// The longest message the service took (docs/protocol.md: over 999 characters
/// were refused).
pub const MAX_MESSAGE_CHARS: usize = 999;

/// Which era's posts a sender makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dialect {
    /// 2008: send.php, typ.php, history.php, with `post_form_id`.
    #[default]
    Classic,
    /// 2013-2018, as fbchat: `/messaging/send/`, `/ajax/messaging/typ.php`,
    /// the thread query of `/api/graphqlbatch/`, with `fb_dtsg` and the
    /// fields every post of the era carried.
    Web,
}

/// How a sender behaves.
#[derive(Debug, Clone)]
pub struct SenderConfig {
    /// The www base every post goes to (`http://www.facebook.com` through a
    /// proxy, or an fbcomet server's address).
    pub www: Url,
    /// How many times a send is tried in all when the request or the
    /// answer breaks (the same `msg_id` each time).
    pub send_attempts: u32,
    /// The pause between tries (pidgin waited 1 s).
    pub retry_delay: Duration,
    /// Seed of `msg_id`; random when `None`.
    pub rng_seed: Option<u64>,
    /// Which era's posts.
    pub dialect: Dialect,
}

impl SenderConfig {
    /// The defaults for `www`.
    pub fn new(www: Url) -> Self {
        Self { www, send_attempts: 3, retry_delay: Duration::from_secs(1), rng_seed: None, dialect: Dialect::Classic }
    }
}

/// A message the service took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The `msg_id` the client chose; it comes back as `msgID` in the
    /// echo and in the recipient's event.
    pub msg_id: String,
    /// The `client_time` sent, in milliseconds.
    pub client_time: i64,
    /// How many tries it took.
    pub attempts: u32,
}

/// Posts on behalf of a logged-in session.
pub struct Sender {
    http: HttpClient,
    config: SenderConfig,
    session: RwLock<Session>,
    rng: Mutex<SmallRng>,
    /// The web dialect's request counter (`__req`).
    requests: AtomicU64,
}

impl std::fmt::Debug for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender").field("www", &self.config.www.as_str()).finish_non_exhaustive()
    }
}

impl Sender {
    /// A sender for `session`, posting with `http` (which holds its cookies).
    pub fn new(http: HttpClient, config: SenderConfig, session: Session) -> Self {
        let rng = match config.rng_seed {
            Some(seed) => SmallRng::seed_from_u64(seed),
            None => SmallRng::from_os_rng(),
        };
        Self { http, config, session: RwLock::new(session), rng: Mutex::new(rng), requests: AtomicU64::new(1) }
    }

    /// The session the posts carry.
    pub fn session(&self) -> Session {
        self.session.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Carries `session` from now on (after a new login or form token).
    pub fn set_session(&self, session: Session) {
        *self.session.write().unwrap_or_else(PoisonError::into_inner) = session;
    }

    /// The HTTP client (and its cookie jar).
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// The configuration.
    pub fn config(&self) -> &SenderConfig {
        &self.config
    }

    /// send.php: sends `text` to `to`. The client picks `msg_id` and
    /// `client_time` (ms); a try whose request or answer breaks is repeated
    /// with the same `msg_id`, so the server can tell it is no new message.
    pub async fn send(&self, to: u64, text: &str) -> Result<Sent, Error> {
        let chars = text.chars().count();
        if chars > MAX_MESSAGE_CHARS {
            return Err(Error::TooLong { chars, max: MAX_MESSAGE_CHARS });
        }
        if chars == 0 {
            return Err(Error::Empty);
        }
        let client_time = now_ms();
        if self.config.dialect == Dialect::Web {
            return self.send_web(to, text, client_time).await;
        }
        let msg_id = self.random().to_string();
        let session = self.session();
        let mut form = vec![
            ("msg_text", text.to_owned()),
            ("msg_id", msg_id.clone()),
            ("client_time", client_time.to_string()),
            ("to", to.to_string()),
            ("popped_out", "false".to_owned()),
            ("num_tabs", "1".to_owned()),
            ("post_form_id", session.post_form_id.clone()),
        ];
        if let Some(dtsg) = &session.fb_dtsg {
            form.push(("fb_dtsg", dtsg.clone()));
        }
        let attempts =
            self.retried(&msg_id, || async { self.post("/ajax/chat/send.php", &form).await.map(drop) }).await?;
        Ok(Sent { msg_id, client_time, attempts })
    }

    /// Runs `post` until it succeeds, a failure is not transient, or the
    /// configured tries are spent; the number of tries. Every try carries
    /// the same message id, so the service takes the message once.
    async fn retried<F, Fut>(&self, msg_id: &str, post: F) -> Result<u32, Error>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<(), Error>>,
    {
        let attempts = self.config.send_attempts.max(1);
        let mut attempt = 0;
        loop {
            attempt += 1;
            match post().await {
                Ok(()) => return Ok(attempt),
                Err(err) if err.is_transient() && attempt < attempts => {
                    tracing::debug!(%err, attempt, msg_id, "send failed; trying again with the same id");
                    tokio::time::sleep(self.config.retry_delay).await;
                }
                Err(err) => return Err(err),
            }
        }
    }

    /// `/messaging/send/`, as fbchat: `offline_threading_id` (and
    /// `message_id`) is the client's id, kept across tries.
    async fn send_web(&self, to: u64, text: &str, client_time: i64) -> Result<Sent, Error> {
        let msg_id = web::offline_threading_id(client_time, self.random());
        let session = self.session();
        let client_id = format!("{:x}", self.random() >> 1);
        let threading_id = format!("<{client_time}:{}-{client_id}@mail.projektitan.com>", self.random());
        let form: Vec<(&str, String)> = [
            ("client", "mercury".to_owned()),
            ("author", format!("fbid:{}", session.uid)),
            ("timestamp", client_time.to_string()),
            ("source", "source:chat:web".to_owned()),
            ("offline_threading_id", msg_id.clone()),
            ("message_id", msg_id.clone()),
            ("threading_id", threading_id),
            ("ephemeral_ttl_mode:", "0".to_owned()),
            ("other_user_fbid", to.to_string()),
            ("action_type", "ma-type:user-generated-message".to_owned()),
            ("body", text.to_owned()),
        ]
        .into_iter()
        .collect();
        let endpoint = "/messaging/send/";
        let attempts = self
            .retried(&msg_id, || async {
                let answer = self.post_web(endpoint, &form).await?;
                web::sent_message_id(endpoint, &answer).map(drop)
            })
            .await?;
        Ok(Sent { msg_id, client_time, attempts })
    }

    /// presence/update.php: the buddy list, and the notifications block
    /// when `notifications` is set.
    pub async fn buddy_list(&self, notifications: bool) -> Result<Presence<'static>, Error> {
        let session = self.session();
        let form = [
            ("buddy_list", "1".to_owned()),
            ("notifications", if notifications { "1" } else { "0" }.to_owned()),
            ("force_render", "true".to_owned()),
            self.token(),
            ("user", session.uid.to_string()),
        ];
        let endpoint = "/ajax/presence/update.php";
        match self.post(endpoint, &form).await? {
            Payload::Presence(presence) => Ok(*presence),
            _ => Err(Error::UnexpectedPayload { endpoint: endpoint.to_owned(), expected: "buddy list" }),
        }
    }

    /// typ.php: tells `to` that the user is typing (or stopped).
    pub async fn typing(&self, to: u64, typing: bool) -> Result<(), Error> {
        let typ = if typing { "1" } else { "0" }.to_owned();
        if self.config.dialect == Dialect::Web {
            let form =
                [("typ", typ), ("thread", to.to_string()), ("to", to.to_string()), ("source", "mercury-chat".into())];
            return self.post_web("/ajax/messaging/typ.php", &form).await.map(drop);
        }
        let form = [("typ", typ), ("to", to.to_string()), self.token()];
        self.post("/ajax/chat/typ.php", &form).await.map(drop)
    }

    /// settings.php `focus_chat`: the acknowledgement clients sent after a
    /// message from `uid`.
    pub async fn focus_chat(&self, uid: u64) -> Result<(), Error> {
        let form = [("focus_chat", uid.to_string()), ("window_id", "12345".to_owned()), self.token()];
        self.post("/ajax/chat/settings.php", &form).await.map(drop)
    }

    /// settings.php `visibility`: go online (`true`) or offline.
    pub async fn visibility(&self, online: bool) -> Result<(), Error> {
        let form = [("visibility", online.to_string()), self.token()];
        self.post("/ajax/chat/settings.php", &form).await.map(drop)
    }

    /// settings.php `close_chat`: the chat window with `uid` was closed.
    pub async fn close_chat(&self, uid: u64) -> Result<(), Error> {
        let form = [("close_chat", uid.to_string()), ("window_id", "12345".to_owned()), self.token()];
        self.post("/ajax/chat/settings.php", &form).await.map(drop)
    }

    /// logout.php: ends the login session (and with it the user's presence
    /// and held polls, on an fbcomet server).
    pub async fn logout(&self) -> Result<(), Error> {
        let endpoint = "/logout.php";
        let mut url = on_www(&self.config.www, endpoint);
        if let Some(h) = self.session().h {
            url.query_pairs_mut().append_pair("ref", "mb").append_pair("h", &h);
        }
        let response = self.http.get(&url).await?;
        match response.status {
            200..=399 => Ok(()),
            status => Err(Error::Status { status, endpoint: endpoint.to_owned() }),
        }
    }

    /// reconnect.php: where the channel lives now (`host` like `channel01`)
    /// and the seq to poll, after a bare refresh. `reason` as the clients
    /// sent it (3, 7, ...).
    pub async fn reconnect(&self, reason: u32) -> Result<Reconnect<'static>, Error> {
        let endpoint = "/ajax/presence/reconnect.php";
        let mut url = on_www(&self.config.www, endpoint);
        url.query_pairs_mut()
            .append_pair("reason", &reason.to_string())
            .append_pair(self.token().0, &self.session().post_form_id)
            .append_pair("__a", "1");
        let response = self.http.get(&url).await?;
        match decode(endpoint, &response)? {
            Payload::Reconnect(r) => Ok(r),
            _ => Err(Error::UnexpectedPayload { endpoint: endpoint.to_owned(), expected: "reconnect" }),
        }
    }

    /// history.php: the recent messages with `friend`, oldest first, to
    /// recover what a refresh dropped.
    pub async fn history(&self, friend: u64) -> Result<Vec<Event<'static>>, Error> {
        if self.config.dialect == Dialect::Web {
            let endpoint = "/api/graphqlbatch/";
            let form = [
                ("method", "GET".to_owned()),
                ("response_format", "json".to_owned()),
                ("queries", web::thread_query(friend, HISTORY_LIMIT)),
            ];
            let response = self.http.post_form(&on_www(&self.config.www, endpoint), &self.with_common(&form)).await?;
            if response.status != 200 {
                return Err(Error::Status { status: response.status, endpoint: endpoint.to_owned() });
            }
            return web::thread_messages(endpoint, &response.body, self.session().uid, friend);
        }
        let endpoint = "/ajax/chat/history.php";
        let form = [("id", friend.to_string()), self.token()];
        match self.post(endpoint, &form).await? {
            Payload::History(h) => Ok(h.events),
            Payload::Empty => Ok(Vec::new()),
            _ => Err(Error::UnexpectedPayload { endpoint: endpoint.to_owned(), expected: "history" }),
        }
    }

    /// The form token, under its name in the dialect.
    fn token(&self) -> (&'static str, String) {
        match self.config.dialect {
            Dialect::Classic => ("post_form_id", self.session().post_form_id),
            Dialect::Web => ("fb_dtsg", self.session().post_form_id),
        }
    }

    fn random(&self) -> u32 {
        self.rng.lock().unwrap_or_else(PoisonError::into_inner).random()
    }

    /// `form` and the fields every post of the web dialect carries.
    fn with_common<'k>(&self, form: &[(&'k str, String)]) -> Vec<(&'k str, String)> {
        let request = self.requests.fetch_add(1, Ordering::Relaxed);
        let mut fields = form.to_vec();
        fields.extend(web::common_fields(&self.session(), request));
        fields
    }

    /// A post of the web dialect; its answer's JSON.
    async fn post_web(&self, endpoint: &str, form: &[(&str, String)]) -> Result<serde_json::Value, Error> {
        let response = self.http.post_form(&on_www(&self.config.www, endpoint), &self.with_common(form)).await?;
        web::answer(endpoint, &response)
    }

    /// Posts `form` to `endpoint` and returns the envelope's payload.
    async fn post<K: AsRef<str>>(&self, endpoint: &str, form: &[(K, String)]) -> Result<Payload<'static>, Error> {
        let response = self.http.post_form(&on_www(&self.config.www, endpoint), form).await?;
        decode(endpoint, &response)
    }
}

fn decode(endpoint: &str, response: &Response) -> Result<Payload<'static>, Error> {
    if response.status != 200 {
        return Err(Error::Status { status: response.status, endpoint: endpoint.to_owned() });
    }
    let envelope: Envelope<'_> = fbcomet_codec::decode_envelope(&response.body)
        .map_err(|source| Error::Decode { endpoint: endpoint.to_owned(), source })?;
    envelope.result().map(Payload::into_owned).map_err(Error::Server)
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
