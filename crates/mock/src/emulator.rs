//! The emulator: the 2008 chat service itself, stateful, for any number of
//! clients at once.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use fbcomet_codec::{
    Availability, BuddyList, Encoder, Envelope, ErrorCode, Event, Extra, Frame, FrameKind, History, Message,
    Notifications, Payload, Prefix, Presence, Reconnect, Typing, UidMap, UserInfo,
};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use tokio::sync::watch;

use crate::matching::host_class;
use crate::pages;
use crate::replay::{RandomFaults, random_fault};
use crate::reply::Reply;
use crate::request::{Request, is_local_host};
use crate::server::{Handler, Server, ServerConfig};
use crate::world::{User, World};

/// How the emulated service behaves.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// How long a poll with nothing to deliver is held before `continue`
    /// (55 s in 2008 captures).
    pub hold: Duration,
    /// How many events each channel keeps; a seq below them gets refresh.
    pub history: usize,
    /// How many messages history.php keeps per pair of users.
    pub conversation_history: usize,
    /// How long after its last poll or request a user still counts as
    /// online.
    pub online_window: Duration,
    /// How long without sending or typing before a user is shown idle.
    pub idle_after: Duration,
    /// The longest message accepted, in characters.
    pub max_message_chars: usize,
    /// Faults injected into channel polls.
    pub faults: Option<RandomFaults>,
    /// The seed of tokens and sticky values; random when `None`.
    pub seed: Option<u64>,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            hold: Duration::from_secs(55),
            history: 500,
            conversation_history: 50,
            online_window: Duration::from_secs(120),
            idle_after: Duration::from_secs(600),
            max_message_chars: 999,
            faults: None,
            seed: None,
        }
    }
}

/// Counters of the emulated service.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EmulatorStats {
    /// Successful logins.
    pub logins: u64,
    /// Messages accepted by send.php (duplicates not counted).
    pub messages: u64,
    /// Sends whose msg_id was seen before (not delivered again).
    pub duplicate_sends: u64,
    /// Channel polls answered.
    pub polls: u64,
    /// Polls held right now.
    pub held: usize,
    /// Faults injected.
    pub faults: u64,
}

struct Session {
    uid: u64,
    post_form_id: String,
}

/// A user's channel: events numbered by seq (events, not responses).
struct Channel {
    first_seq: i64,
    events: VecDeque<Event<'static>>,
    next: watch::Sender<i64>,
}

impl Channel {
    fn new() -> Self {
        Self { first_seq: 0, events: VecDeque::new(), next: watch::channel(0).0 }
    }

    fn next_seq(&self) -> i64 {
        self.first_seq + self.events.len() as i64
    }
}

#[derive(Default)]
struct PresenceState {
    hidden: bool,
    pollers: usize,
    last_seen: Option<Instant>,
    last_active: Option<Instant>,
    /// Friends online at this user's last presence request.
    last_list: Option<BTreeSet<u64>>,
}

struct State {
    sessions: HashMap<String, Session>,
    channels: HashMap<u64, Channel>,
    presence: HashMap<u64, PresenceState>,
    sent: HashMap<u64, (HashSet<String>, VecDeque<String>)>,
    conversations: HashMap<(u64, u64), VecDeque<Message<'static>>>,
    sticky: HashMap<u64, String>,
    rng: SmallRng,
    stats: EmulatorStats,
}

/// The emulated service: the [`Handler`] behind an [`EmulatorServer`].
pub struct Emulator {
    users: BTreeMap<u64, User>,
    friends: BTreeMap<u64, BTreeSet<u64>>,
    config: EmulatorConfig,
    state: Mutex<State>,
    closing: watch::Sender<bool>,
}

enum Dialect {
    Channel,
    Pull { sticky: Option<String> },
}

const MSG_ID_MEMORY: usize = 10_000;

impl Emulator {
    /// The service for `world`.
    pub fn new(world: &World, config: EmulatorConfig) -> Arc<Self> {
        let rng = match config.seed {
            Some(seed) => SmallRng::seed_from_u64(seed),
            None => SmallRng::from_os_rng(),
        };
        Arc::new(Self {
            users: world.users.iter().map(|u| (u.uid, u.clone())).collect(),
            friends: world.friend_map(),
            state: Mutex::new(State {
                sessions: HashMap::new(),
                channels: HashMap::new(),
                presence: HashMap::new(),
                sent: HashMap::new(),
                conversations: HashMap::new(),
                sticky: HashMap::new(),
                rng,
                stats: EmulatorStats::default(),
            }),
            closing: watch::channel(false).0,
            config,
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every update under the lock is a few assignments; a panic in
        // between cannot leave the state worse than losing one request.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The counters.
    pub fn stats(&self) -> EmulatorStats {
        self.lock().stats.clone()
    }

    /// Ends every held poll (with `continue`) and refuses to hold more.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Whether `uid` counts as online now.
    pub fn is_online(&self, uid: u64) -> bool {
        self.online(&self.lock(), uid, Instant::now())
    }

    fn online(&self, state: &State, uid: u64, now: Instant) -> bool {
        state.presence.get(&uid).is_some_and(|p| {
            !p.hidden
                && (p.pollers > 0
                    || p.last_seen.is_some_and(|t| now.saturating_duration_since(t) <= self.config.online_window))
        })
    }

    fn idle(&self, state: &State, uid: u64, now: Instant) -> bool {
        state
            .presence
            .get(&uid)
            .and_then(|p| p.last_active.or(p.last_seen))
            .is_none_or(|t| now.saturating_duration_since(t) > self.config.idle_after)
    }

    /// Answers at once, or says what a held poll waits for.
    fn route(&self, req: &Request) -> Routed {
        if req.proxy_form
            && let Some(host) = &req.host
            && !is_local_host(host)
            && host_class(host).is_none()
        {
            return Routed::Now(Reply::text(
                502,
                format!("fbcomet serves the chat service's hosts only, not {host}\n"),
            ));
        }
        let path = req.path.as_str();
        Routed::Now(match (req.method.as_str(), path) {
            (_, "/x") => Reply::text(404, "no channel in the path\n"),
            (_, p) if p.starts_with("/x/") => return self.poll_2008(req),
            (_, "/pull") => return self.poll_pull(req),
            ("GET", "/fbcomet/stats") => self.stats_reply(),
            ("GET", "/" | "/login.php" | "/index.php") => html(200, pages::login(None)),
            ("POST", "/login.php") => self.login(req),
            (_, "/home.php") => self.home(req),
            (_, "/logout.php") => self.logout(req),
            (_, "/ajax/chat/send.php") => self.ajax(req, |s, state, uid| s.send(state, uid, req)),
            (_, "/ajax/presence/update.php" | "/ajax/chat/buddy_list.php") => {
                self.ajax(req, |s, state, uid| s.presence(state, uid, req))
            }
            (_, "/ajax/chat/typ.php") => self.ajax(req, |s, state, uid| s.typing(state, uid, req)),
            (_, "/ajax/chat/settings.php") => self.ajax(req, |s, state, uid| s.settings(state, uid, req)),
            (_, "/ajax/presence/reconnect.php") => self.ajax(req, |s, state, uid| s.reconnect(state, uid)),
            (_, "/ajax/chat/history.php") => self.ajax(req, |s, state, uid| s.history(state, uid, req)),
            _ => Reply::text(404, format!("fbcomet: no page at {path}\n")),
        })
    }

    /// `/fbcomet/stats`: the counters as JSON, for load tools and the curious.
    fn stats_reply(&self) -> Reply {
        let stats = self.stats();
        let body = serde_json::json!({
            "logins": stats.logins,
            "messages": stats.messages,
            "duplicate_sends": stats.duplicate_sends,
            "polls": stats.polls,
            "held": stats.held,
            "faults": stats.faults,
        });
        Reply::with_status(200, body.to_string()).header("content-type", "application/json")
    }

    // ---- pages ----------------------------------------------------------

    fn login(&self, req: &Request) -> Reply {
        let email = req.field("email").unwrap_or_default().trim().to_lowercase();
        let pass = req.field("pass").unwrap_or_default();
        let Some(user) = self.users.values().find(|u| u.email.to_lowercase() == email && u.password == pass) else {
            return html(200, pages::login(Some("The email and password you entered did not match our records.")));
        };
        let mut state = self.lock();
        let token = hex(&mut state.rng);
        let post_form_id = hex(&mut state.rng);
        state.sessions.insert(token.clone(), Session { uid: user.uid, post_form_id });
        state.stats.logins += 1;
        let domain = cookie_domain(req);
        Reply::with_status(302, "")
            .header("location", "/home.php")
            .header("set-cookie", format!("c_user={}; path=/{domain}", user.uid))
            .header("set-cookie", format!("xs={token}; path=/{domain}; httponly"))
    }

    fn home(&self, req: &Request) -> Reply {
        let state = self.lock();
        match self.session(&state, req) {
            Ok((uid, pfid)) => match self.users.get(&uid) {
                Some(user) => html(200, pages::home(user, &pfid)),
                None => Reply::with_status(302, "").header("location", "/login.php"),
            },
            Err(_) => Reply::with_status(302, "").header("location", "/login.php"),
        }
    }

    fn logout(&self, req: &Request) -> Reply {
        if let Some(token) = req.cookie("xs") {
            self.lock().sessions.remove(token);
        }
        let domain = cookie_domain(req);
        html(200, pages::logged_out())
            .header("set-cookie", format!("c_user=; path=/; max-age=0{domain}"))
            .header("set-cookie", format!("xs=; path=/; max-age=0{domain}"))
    }

    // ---- sessions -------------------------------------------------------

    /// The session of the request's cookies: (uid, form token).
    fn session(&self, state: &State, req: &Request) -> Result<(u64, String), ErrorCode> {
        let session = req.cookie("xs").and_then(|t| state.sessions.get(t)).ok_or(ErrorCode::NotLoggedIn)?;
        if req.cookie("c_user").is_some_and(|c| c != session.uid.to_string()) {
            return Err(ErrorCode::LoginChanged);
        }
        Ok((session.uid, session.post_form_id.clone()))
    }

    /// An ajax endpoint: the session cookie (else 1357001) and its form
    /// token (else 1357004) first.
    fn ajax(
        &self,
        req: &Request,
        f: impl FnOnce(&Self, &mut State, u64) -> Result<Payload<'static>, ErrorCode>,
    ) -> Reply {
        let mut state = self.lock();
        let (uid, pfid) = match self.session(&state, req) {
            Ok(s) => s,
            Err(code) => return envelope(Envelope::error(code)),
        };
        if req.field("post_form_id").or(req.query("post_form_id")) != Some(pfid.as_str()) {
            return envelope(Envelope::error(ErrorCode::CsrfFailed));
        }
        state.presence.entry(uid).or_default().last_seen = Some(Instant::now());
        match f(self, &mut state, uid) {
            Ok(payload) => envelope(Envelope::ok(payload)),
            Err(code) => envelope(Envelope::error(code)),
        }
    }

    fn param<T: std::str::FromStr>(req: &Request, name: &str) -> Result<T, ErrorCode> {
        req.field(name).or(req.query(name)).and_then(|v| v.trim().parse().ok()).ok_or(ErrorCode::BadParameter)
    }

    // ---- ajax -----------------------------------------------------------

    fn send(&self, state: &mut State, uid: u64, req: &Request) -> Result<Payload<'static>, ErrorCode> {
        let to: u64 = Self::param(req, "to")?;
        let text = req.field("msg_text").ok_or(ErrorCode::BadParameter)?;
        if text.chars().count() > self.config.max_message_chars || text.is_empty() {
            return Err(ErrorCode::Validation);
        }
        let now = Instant::now();
        if !self.friends.get(&uid).is_some_and(|f| f.contains(&to)) || !self.online(state, to, now) {
            return Err(ErrorCode::DestinationNotOnline);
        }
        let msg_id = match req.field("msg_id") {
            Some(id) if !id.is_empty() => id.to_owned(),
            _ => state.rng.random::<u32>().to_string(),
        };
        let (seen, order) = state.sent.entry(uid).or_default();
        if !seen.insert(msg_id.clone()) {
            state.stats.duplicate_sends += 1;
            return Ok(Payload::Empty); // a retry: taken already
        }
        order.push_back(msg_id.clone());
        if order.len() > MSG_ID_MEMORY
            && let Some(old) = order.pop_front()
        {
            seen.remove(&old);
        }
        let (from_user, to_user) = (&self.users[&uid], &self.users[&to]);
        let message = Message {
            from_name: Some(Cow::Owned(from_user.name.clone())),
            to_name: Some(Cow::Owned(to_user.name.clone())),
            from_first_name: Some(Cow::Owned(from_user.first_name.clone())),
            to_first_name: Some(Cow::Owned(to_user.first_name.clone())),
            time: Some(now_ms()),
            client_time: Some(Self::param(req, "client_time").unwrap_or_else(|_| now_ms())),
            msg_id: Some(Cow::Owned(msg_id)),
            ..Message::new(uid, to, text.to_owned())
        };
        let pair = (uid.min(to), uid.max(to));
        let conversation = state.conversations.entry(pair).or_default();
        conversation.push_back(message.clone());
        while conversation.len() > self.config.conversation_history {
            conversation.pop_front();
        }
        self.push(state, to, Event::Msg(message.clone()));
        if to != uid {
            self.push(state, uid, Event::Msg(message)); // the sender's echo
        }
        state.presence.entry(uid).or_default().last_active = Some(now);
        state.stats.messages += 1;
        Ok(Payload::Empty)
    }

    fn typing(&self, state: &mut State, uid: u64, req: &Request) -> Result<Payload<'static>, ErrorCode> {
        let to: u64 = Self::param(req, "to")?;
        let typ: u8 = Self::param(req, "typ")?;
        if !self.friends.get(&uid).is_some_and(|f| f.contains(&to)) {
            return Err(ErrorCode::DestinationNotOnline);
        }
        self.push(state, to, Event::Typ(Typing { from: uid, to, typing: typ != 0, extra: Extra::new() }));
        state.presence.entry(uid).or_default().last_active = Some(Instant::now());
        Ok(Payload::Empty)
    }

    fn settings(&self, state: &mut State, uid: u64, req: &Request) -> Result<Payload<'static>, ErrorCode> {
        if let Some(v) = req.field("visibility") {
            let online = matches!(v, "true" | "1");
            state.presence.entry(uid).or_default().hidden = !online;
            return Ok(Payload::Empty);
        }
        if req.field("focus_chat").is_some() || req.field("close_chat").is_some() {
            return Ok(Payload::Empty);
        }
        Err(ErrorCode::BadParameter)
    }

    fn presence(&self, state: &mut State, uid: u64, req: &Request) -> Result<Payload<'static>, ErrorCode> {
        let now = Instant::now();
        let friends = self.friends.get(&uid).cloned().unwrap_or_default();
        let online: BTreeSet<u64> = friends.iter().copied().filter(|f| self.online(state, *f, now)).collect();
        let mut presence = Presence { time: Some(now_ms()), ..Presence::default() };
        if req.field("buddy_list").is_some_and(|v| v == "1" || v == "true") {
            let me = state.presence.entry(uid).or_default();
            let before = me.last_list.replace(online.clone());
            let was: Vec<u64> = before.as_ref().map(|b| b.difference(&online).copied().collect()).unwrap_or_default();
            let changed = before.as_ref() != Some(&online);
            let infos = friends.iter().chain(std::iter::once(&uid)).filter_map(|f| self.users.get(f)).map(|u| {
                let info = UserInfo {
                    name: Some(Cow::Owned(u.name.clone())),
                    first_name: Some(Cow::Owned(u.first_name.clone())),
                    thumb_src: Some(Cow::Borrowed("http://static.ak.fbcdn.net/pics/q_silhouette.gif")),
                    status: u.status.clone().map(Cow::Owned),
                    status_time: Some(0),
                    status_time_rel: Some(Cow::Borrowed("")),
                };
                (Cow::Owned(u.uid.to_string()), info)
            });
            presence.buddy_list = Some(BuddyList {
                list_changed: Some(changed),
                available_count: Some(online.len() as i64),
                now_available: UidMap(
                    online
                        .iter()
                        .map(|f| (Cow::Owned(f.to_string()), Availability { idle: self.idle(state, *f, now) }))
                        .collect(),
                ),
                was_available: was,
                user_infos: UidMap(infos.collect()),
                forced_render: Some(req.field("force_render").is_some_and(|v| v == "true" || v == "1")),
                fl_mode: None,
                fl_data: None,
            });
        }
        if req.field("notifications").is_some_and(|v| v == "1") {
            presence.notifications = Some(Notifications {
                count_new: Some(0),
                count: Some(0),
                app_names: UidMap::default(),
                latest_notif: Some(0),
                latest_read_notif: Some(0),
                markup: Some(Cow::Borrowed(
                    "<div id=\"presence_no_notifications\" class=\"no_notifications\">No new notifications.</div>",
                )),
                inbox_count: Some(0),
            });
        }
        Ok(Payload::Presence(Box::new(presence)))
    }

    fn reconnect(&self, state: &mut State, uid: u64) -> Result<Payload<'static>, ErrorCode> {
        let user = self.users.get(&uid).ok_or(ErrorCode::NotLoggedIn)?;
        let seq = state.channels.entry(uid).or_insert_with(Channel::new).next_seq();
        Ok(Payload::Reconnect(Reconnect {
            host: Cow::Owned(format!("channel{:02}", user.channel)),
            seq: Some(seq),
            extra: Extra::new(),
        }))
    }

    fn history(&self, state: &mut State, uid: u64, req: &Request) -> Result<Payload<'static>, ErrorCode> {
        let friend: u64 = Self::param(req, "id")?;
        let pair = (uid.min(friend), uid.max(friend));
        let events =
            state.conversations.get(&pair).map(|c| c.iter().cloned().map(Event::Msg).collect()).unwrap_or_default();
        Ok(Payload::History(History { events, extra: Extra::new() }))
    }

    /// Appends an event to `uid`'s channel and wakes its pollers.
    fn push(&self, state: &mut State, uid: u64, event: Event<'static>) {
        let channel = state.channels.entry(uid).or_insert_with(Channel::new);
        channel.events.push_back(event);
        while channel.events.len() > self.config.history.max(1) {
            channel.events.pop_front();
            channel.first_seq += 1;
        }
        channel.next.send_replace(channel.next_seq());
    }

    // ---- channels -------------------------------------------------------

    fn poll_2008(&self, req: &Request) -> Routed {
        // /x/{ANY}/{idle}/p_{UID}={SEQ}, or 2011's /x/{rand}/{tab}/false/p_...
        let last = req.path.rsplit('/').next().unwrap_or_default();
        let parsed = last
            .strip_prefix("p_")
            .and_then(|rest| rest.split_once('='))
            .and_then(|(uid, seq)| Some((uid.parse::<u64>().ok()?, seq.parse::<i64>().ok()?)));
        match parsed {
            Some((uid, seq)) => self.poll(req, uid, seq, Dialect::Channel),
            None => Routed::Now(Reply::text(400, format!("fbcomet: a channel poll ends in p_UID=SEQ, not {last:?}\n"))),
        }
    }

    fn poll_pull(&self, req: &Request) -> Routed {
        let uid = req.query("channel").and_then(|c| c.strip_prefix("p_")).and_then(|u| u.parse::<u64>().ok());
        let seq = req.query("seq").and_then(|s| s.parse::<i64>().ok());
        match (uid, seq) {
            (Some(uid), Some(seq)) => {
                let sticky = req.query("sticky_token").map(str::to_owned);
                self.poll(req, uid, seq, Dialect::Pull { sticky })
            }
            _ => Routed::Now(Reply::text(400, "fbcomet: /pull needs channel=p_UID and seq=N\n")),
        }
    }

    /// A poll's checks and immediate answers; what it waits for otherwise.
    fn poll(&self, req: &Request, uid: u64, seq: i64, dialect: Dialect) -> Routed {
        let pull = matches!(dialect, Dialect::Pull { .. });
        let mut state = self.lock();
        match self.session(&state, req) {
            Ok((owner, _)) if owner == uid => {}
            Ok(_) => return Routed::Now(envelope(Envelope::error(ErrorCode::LoginChanged))),
            Err(code) => return Routed::Now(envelope(Envelope::error(code))),
        }
        state.stats.polls += 1;
        if let Dialect::Pull { sticky: None } = &dialect {
            let token = state.rng.random_range(100..1000u32).to_string();
            state.sticky.insert(uid, token.clone());
            let frame = Frame::new(FrameKind::Lb {
                sticky: Cow::Owned(token),
                pool: Some(Cow::Borrowed("fbcomet_chat-proxy")),
                info_extra: Extra::new(),
            });
            return Routed::Now(frame_reply(pull, &frame));
        }
        // The answer is not known yet; 64 bytes is about a short frame.
        let fault =
            self.config.faults.as_ref().and_then(|f| random_fault(f, &mut state.rng, 64, Duration::from_millis));
        if fault.is_some() {
            state.stats.faults += 1;
        }
        if let Some(f) = &fault
            && !f.delivers()
        {
            // A failed poll: the client asks again for the same seq.
            let mut reply = Reply::ok("for (;;);{\"t\":\"continue\"}");
            reply.fault = fault;
            return Routed::Now(reply);
        }
        let rx = state.channels.entry(uid).or_insert_with(Channel::new).next.subscribe();
        Routed::Wait(Wait { uid, seq, pull, fault, rx })
    }

    /// Holds a poll until its seq has events, the hold ends, or the
    /// service closes. It owns nothing of the request: a held poll costs
    /// its connection and this future.
    async fn wait(&self, wait: Wait) -> Reply {
        let Wait { uid, seq, pull, fault, mut rx } = wait;
        let _poller = Poller::new(self, uid);
        let deadline = tokio::time::Instant::now() + self.config.hold;
        let mut closing = self.closing.subscribe();
        loop {
            if let Some(frame) = self.answer(uid, seq, pull) {
                let mut reply = frame_reply(pull, &frame);
                reply.fault = fault;
                return reply;
            }
            if *closing.borrow() {
                break;
            }
            tokio::select! {
                changed = rx.changed() => if changed.is_err() { break },
                _ = tokio::time::sleep_until(deadline) => break,
                _ = closing.changed() => break,
            }
        }
        let end = if pull { Frame::new(FrameKind::Heartbeat) } else { Frame::continue_() };
        let mut reply = frame_reply(pull, &end);
        reply.fault = fault;
        reply
    }

    /// What a poll for `seq` gets now, `None` when it must wait.
    fn answer(&self, uid: u64, seq: i64, pull: bool) -> Option<Frame<'static>> {
        let mut state = self.lock();
        let channel = state.channels.entry(uid).or_insert_with(Channel::new);
        let next = channel.next_seq();
        if seq < 0 || seq > next || seq < channel.first_seq {
            // Never valid, out of range, or trimmed away: start over there.
            return Some(Frame::refresh(Some(next)));
        }
        if seq == next {
            return None;
        }
        let start = (seq - channel.first_seq) as usize;
        let events: Vec<Event<'static>> = channel.events.iter().skip(start).cloned().collect();
        let mut frame = Frame::msg(uid, events);
        if pull {
            frame.seq = Some(next);
            frame.extra.push("u", fbcomet_codec::RawJson::from_string(uid.to_string()).ok()?);
        }
        Some(frame)
    }
}

/// Counts a held poll as presence while it lasts.
struct Poller<'a> {
    emulator: &'a Emulator,
    uid: u64,
}

impl<'a> Poller<'a> {
    fn new(emulator: &'a Emulator, uid: u64) -> Self {
        let mut state = emulator.lock();
        state.presence.entry(uid).or_default().pollers += 1;
        state.stats.held += 1;
        drop(state);
        Self { emulator, uid }
    }
}

impl Drop for Poller<'_> {
    fn drop(&mut self) {
        let mut state = self.emulator.lock();
        let presence = state.presence.entry(self.uid).or_default();
        presence.pollers = presence.pollers.saturating_sub(1);
        presence.last_seen = Some(Instant::now());
        state.stats.held = state.stats.held.saturating_sub(1);
    }
}

/// What routing decided.
enum Routed {
    /// The answer.
    Now(Reply),
    /// A poll to hold.
    Wait(Wait),
}

/// A held poll's needs.
struct Wait {
    uid: u64,
    seq: i64,
    pull: bool,
    fault: Option<crate::reply::FaultAction>,
    rx: watch::Receiver<i64>,
}

impl Handler for Arc<Emulator> {
    async fn handle(&self, request: Request) -> Reply {
        let routed = self.route(&request);
        drop(request); // a held poll keeps nothing of it
        match routed {
            Routed::Now(reply) => reply,
            Routed::Wait(wait) => self.wait(wait).await,
        }
    }
}

fn envelope(e: Envelope<'_>) -> Reply {
    Reply::ok(e.encode())
}

/// A frame as the dialect writes it (`/pull` puts a space after the prefix).
fn frame_reply(pull: bool, frame: &Frame<'_>) -> Reply {
    let encoder = if pull { Encoder::new().prefix(Prefix::Spaced) } else { Encoder::new() };
    Reply::ok(encoder.frame(frame))
}

fn html(status: u16, page: String) -> Reply {
    Reply::with_status(status, page).header("content-type", "text/html; charset=utf-8")
}

/// `; domain=.facebook.com` when the client addressed a facebook.com host
/// (so that the cookies reach the channel hosts too), nothing when it
/// addressed this machine.
fn cookie_domain(req: &Request) -> &'static str {
    match &req.host {
        Some(host) if host_class(host).is_some() => "; domain=.facebook.com",
        _ => "",
    }
}

fn hex(rng: &mut SmallRng) -> String {
    format!("{:016x}{:016x}", rng.random::<u64>(), rng.random::<u64>())
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// The emulator served over HTTP.
pub struct EmulatorServer {
    server: Server,
    emulator: Arc<Emulator>,
}

impl EmulatorServer {
    /// Serves `world` on a port of 127.0.0.1 that the OS picks.
    pub async fn start(world: &World, config: EmulatorConfig) -> io::Result<Self> {
        Self::bind(SocketAddr::from(([127, 0, 0, 1], 0)), world, config, ServerConfig::default()).await
    }

    /// Serves `world` on `addr`.
    pub async fn bind(
        addr: SocketAddr,
        world: &World,
        config: EmulatorConfig,
        server: ServerConfig,
    ) -> io::Result<Self> {
        let emulator = Emulator::new(world, config);
        let server = Server::bind(addr, Arc::new(emulator.clone()), server).await?;
        Ok(Self { server, emulator })
    }

    /// The address served on.
    pub fn addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// `http://ADDR`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// The service, for its counters and state.
    pub fn emulator(&self) -> &Arc<Emulator> {
        &self.emulator
    }

    /// Ends held polls and stops the server.
    pub async fn shutdown(self) {
        self.emulator.close();
        self.server.shutdown().await;
    }
}
