//! The emulator: the chat core of `fbcomet-chat` served over HTTP, with a
//! front door for each dialect.
//!
//! The core holds every rule of the service; this module is the IO around
//! it: one lock, the clock, holding polls until the core wakes them, fault
//! injection on polls, and the routing table that sends each request to its
//! front door. A front door turns its dialect's requests into core calls
//! and the core's answers into its dialect's bodies, and never reaches into
//! another door:
//!
//! - [`door_2008`]: the 2008 www pages (login.php, home.php, logout.php),
//!   the ajax posts, and the channel poll `/x/.../p_UID=SEQ`;
//! - [`door_web`] and [`door_pull`]: the 2013-2018 endpoints of fbchat and
//!   the web clients (`/messaging/send/`, `/chat/user_info/`, the mercury
//!   thread list, `/api/graphqlbatch/`, `/active_ping`) and `/pull`, with
//!   its `lb` handshake and deltas.
//!
//! - [`graph`] and [`webhook`]: the Messenger Platform (2016): the Send
//!   API on graph.facebook.com, and each page's webhook, verified and
//!   called with the users' messages.
//!
//! What they write alike (events, error envelopes) is in `wire`.

mod door_2008;
mod door_pull;
mod door_web;
pub(crate) mod graph;
mod pages;
mod webhook;
mod wire;

pub use graph::psid as page_scoped_id;
pub use webhook::{HookState, PageHook};

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use fbcomet_chat::{ChatConfig, ChatError, ChatEvent, ChatService, Output, Page, Poll, PollKind, Store, User, World};
use fbcomet_codec::ChatHost;
use rand::SeedableRng;
use rand::rngs::SmallRng;
use tokio::sync::watch;

use crate::fault::{FaultAction, RandomFaults, random_fault};
use crate::reply::Reply;
use crate::request::{Request, is_local_host};
use crate::server::{Handler, Server, ServerConfig};

/// How the emulated service behaves.
#[derive(Debug, Clone, Default)]
pub struct EmulatorConfig {
    /// The rules of the service: holds, windows, presence, limits.
    pub chat: ChatConfig,
    /// Faults injected into polls (the seed is the faults' own).
    pub faults: Option<RandomFaults>,
}

impl EmulatorConfig {
    /// The defaults with polls (2008 and `/pull` alike) held for `hold`.
    pub fn with_hold(hold: Duration) -> Self {
        Self { chat: ChatConfig { hold, pull_hold: hold, ..ChatConfig::default() }, faults: None }
    }
}

/// Counters of the emulated service.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EmulatorStats {
    /// Successful logins.
    pub logins: u64,
    /// Messages taken (resends not counted).
    pub messages: u64,
    /// Sends whose msg_id the sender used before (not delivered again).
    pub duplicate_sends: u64,
    /// Polls answered or held.
    pub polls: u64,
    /// Polls held right now.
    pub held: usize,
    /// Faults injected.
    pub faults: u64,
}

/// What sits under the lock: the core, and how to wake its held polls.
struct Shared {
    chat: ChatService,
    /// Per user, a counter bumped when the core says their log moved.
    wakes: HashMap<u64, watch::Sender<u64>>,
    fault_rng: SmallRng,
    faults: u64,
}

impl Shared {
    /// What wakes when `uid`'s log moves.
    fn wake_of(&mut self, uid: u64) -> watch::Receiver<u64> {
        self.wakes.entry(uid).or_insert_with(|| watch::channel(0).0).subscribe()
    }

    fn drain(&mut self) {
        while let Some(output) = self.chat.poll_output() {
            match output {
                Output::Wake { uid } => {
                    if let Some(tx) = self.wakes.get(&uid) {
                        tx.send_modify(|n| *n = n.wrapping_add(1));
                    }
                }
                other => tracing::debug!(?other, "core output not handled"),
            }
        }
    }
}

/// The emulated service: the [`Handler`] behind an [`EmulatorServer`].
pub struct Emulator {
    /// What came in lately, for the service page.
    recent: Mutex<Recent>,
    users: BTreeMap<u64, User>,
    pages: BTreeMap<u64, Page>,
    hooks: Vec<Arc<webhook::PageHook>>,
    config: EmulatorConfig,
    shared: Mutex<Shared>,
}

impl Emulator {
    /// The service for `world`.
    pub fn new(world: &World, config: EmulatorConfig) -> Arc<Self> {
        let now = Instant::now();
        let unix_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
        let chat = ChatService::new(world, config.chat.clone(), now, unix_ms);
        let fault_rng = SmallRng::seed_from_u64(config.faults.as_ref().map_or(0, |f| f.seed));
        let hooks = webhook::hooks(&world.pages).unwrap_or_else(|err| {
            tracing::warn!(%err, "webhooks not called: the world's pages are not valid");
            Vec::new()
        });
        Arc::new(Self {
            recent: Mutex::new(Recent::default()),
            users: world.users.iter().map(|u| (u.uid, u.clone())).collect(),
            pages: world.pages.iter().map(|p| (p.id, p.clone())).collect(),
            hooks,
            shared: Mutex::new(Shared { chat, wakes: HashMap::new(), fault_rng, faults: 0 }),
            config,
        })
    }

    /// The name and first name of a user or page.
    pub fn name_of(&self, uid: u64) -> Option<(&str, &str)> {
        match self.users.get(&uid) {
            Some(u) => Some((&u.name, &u.first_name)),
            None => self.pages.get(&uid).map(|p| (p.name.as_str(), p.name.as_str())),
        }
    }

    /// The pages' webhooks.
    pub fn page_hooks(&self) -> &[Arc<webhook::PageHook>] {
        &self.hooks
    }

    /// Asks the webhook of page `id` to verify again; false for a page
    /// without one.
    pub fn verify_page(&self, id: u64) -> bool {
        match self.hooks.iter().find(|h| h.page.id == id) {
            Some(hook) => {
                webhook::reverify(hook);
                true
            }
            None => false,
        }
    }

    /// What wakes when `uid`'s log moves.
    pub(crate) fn subscribe(&self, uid: u64) -> watch::Receiver<u64> {
        self.lock().wake_of(uid)
    }

    fn lock(&self) -> MutexGuard<'_, Shared> {
        // Every core call leaves its state whole; a panic in one cannot
        // leave it worse than losing that request.
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on the core at the current time, then wakes the held polls
    /// the core named.
    pub(crate) fn with_chat<R>(&self, f: impl FnOnce(&mut ChatService, Instant) -> R) -> R {
        self.locked(|shared, now| f(&mut shared.chat, now))
    }

    /// [`with_chat`](Self::with_chat) with the wakes too, for what must be
    /// done under the same lock as the core's call.
    fn locked<R>(&self, f: impl FnOnce(&mut Shared, Instant) -> R) -> R {
        let mut shared = self.lock();
        let now = Instant::now();
        if now >= shared.chat.poll_timeout() {
            shared.chat.handle_timeout(now);
        }
        let result = f(&mut shared, now);
        shared.drain();
        result
    }

    /// The configuration.
    pub fn config(&self) -> &EmulatorConfig {
        &self.config
    }

    /// The user `uid` of the world.
    pub fn user(&self, uid: u64) -> Option<&User> {
        self.users.get(&uid)
    }

    /// The counters.
    pub fn stats(&self) -> EmulatorStats {
        let shared = self.lock();
        let chat = shared.chat.stats();
        EmulatorStats {
            logins: chat.logins,
            messages: chat.messages,
            duplicate_sends: chat.duplicate_sends,
            polls: chat.polls,
            held: chat.held,
            faults: shared.faults,
        }
    }

    /// Whether `uid` counts as online now.
    pub fn is_online(&self, uid: u64) -> bool {
        self.with_chat(|chat, now| chat.is_online(uid, now))
    }

    /// Rolls the dice of the configured faults for a poll. A fault that
    /// keeps the answer from the client is acted out at once, on a
    /// `continue` (the client asks again for the same seq).
    pub(crate) fn poll_fault(&self) -> Option<FaultAction> {
        let faults = self.config.faults.as_ref()?;
        let mut shared = self.lock();
        // The answer is not known yet; 64 bytes is about a short frame.
        let fault = random_fault(faults, &mut shared.fault_rng, 64, Duration::from_millis)?;
        shared.faults += 1;
        Some(fault)
    }

    /// A poll of `uid`'s log at `seq` with the login `token`: answered now,
    /// or held. A held poll is registered (presence, and the wake it waits
    /// for) under the same lock as the check, so no event slips between.
    pub(crate) fn poll(
        self: &Arc<Self>,
        token: String,
        uid: u64,
        seq: i64,
        kind: PollKind<'_>,
    ) -> Result<Polled, ChatError> {
        // Ok(Err(answer)) when the poll is answered now.
        let polled = self.locked(|shared, now| {
            let deadline = match shared.chat.poll(&token, uid, seq, kind, now)? {
                Poll::Hold { deadline } => deadline,
                answer => return Ok(Err(answer)),
            };
            shared.chat.begin_hold(uid, now);
            let rx = shared.wake_of(uid);
            Ok(Ok((deadline, rx)))
        })?;
        let (deadline, rx) = match polled {
            Ok(held) => held,
            Err(answer) => return Ok(Polled::Now(answer)),
        };
        let guard = HoldGuard { emulator: self.clone(), uid };
        Ok(Polled::Held(Held { token, seq, deadline: tokio::time::Instant::from_std(deadline), rx, guard }))
    }

    /// Answers a held poll when the core has something for it, its login
    /// ends, or its deadline passes; `render` writes the end in the door's
    /// dialect. `placeholder` is sent if the server shuts down first. The
    /// held poll keeps nothing of its request.
    pub(crate) fn hold(
        held: Held,
        placeholder: Reply,
        render: impl Fn(&Emulator, HoldEnd) -> Reply + Send + 'static,
    ) -> Reply {
        let Held { token, seq, deadline, mut rx, guard } = held;
        placeholder.until(async move {
            let emulator = &guard.emulator;
            let uid = guard.uid;
            loop {
                // Checked at the poll: wait for a change first.
                tokio::select! {
                    changed = rx.changed() => if changed.is_err() { break },
                    () = tokio::time::sleep_until(deadline) => break,
                }
                rx.borrow_and_update();
                let end = emulator.with_chat(|chat, now| {
                    if !chat.still_logged_in(&token, uid) {
                        return Some(HoldEnd::LoggedOut);
                    }
                    match chat.read(uid, seq, now) {
                        Poll::Events { events, next, .. } => Some(HoldEnd::Events { events, next }),
                        Poll::Refresh { seq } => Some(HoldEnd::Refresh { seq }),
                        _ => None,
                    }
                });
                if let Some(end) = end {
                    return render(emulator, end);
                }
            }
            render(emulator, HoldEnd::Timeout)
        })
    }

    fn route(self: &Arc<Self>, req: &Request) -> Reply {
        let host = req.host.as_deref().and_then(ChatHost::parse);
        let to_graph = host == Some(ChatHost::Graph) || graph::is_graph_path(&req.path);
        self.note(req, to_graph);
        if req.proxy_form
            && let Some(name) = &req.host
            && !is_local_host(name)
            && host.is_none()
        {
            return Reply::text(502, format!("fbcomet serves the chat service's hosts only, not {name}\n"));
        }
        if to_graph {
            return graph::send_api(self, req);
        }
        let local = req.remote.is_none_or(|r| r.ip().is_loopback());
        match (req.method.as_str(), req.path.as_str()) {
            ("POST", p) if p.starts_with("/fbcomet/pages/") && p.ends_with("/verify") => {
                if !local {
                    return Reply::text(403, "fbcomet: pages are verified from this machine only\n");
                }
                let id = p.trim_start_matches("/fbcomet/pages/").trim_end_matches("/verify");
                match id.parse().map(|id| self.verify_page(id)) {
                    Ok(true) => Reply::text(202, "fbcomet: verifying the webhook again\n"),
                    _ => Reply::text(404, format!("fbcomet: no page {id} with a webhook\n")),
                }
            }
            (_, "/pull") => door_pull::poll(self, req),
            (_, "/active_ping") => door_web::active_ping(self, req),
            (_, p) if p == "/x" || p.starts_with("/x/") => door_2008::poll(self, req),
            ("GET", "/fbcomet/chat.js") => asset(pages::CHAT_JS, "text/javascript; charset=utf-8"),
            ("GET", "/fbcomet/chat.css") => asset(pages::CHAT_CSS, "text/css; charset=utf-8"),
            ("GET", "/fbcomet/service.js") => asset(pages::SERVICE_JS, "text/javascript; charset=utf-8"),
            ("GET", "/favicon.ico") => Reply::with_status(204, ""),
            // The service's state is for this machine only, as the counters.
            ("GET", "/fbcomet/" | "/fbcomet") if local => asset(pages::SERVICE_HTML, "text/html; charset=utf-8"),
            ("GET", "/fbcomet/state.json") if local => self.state_reply(),
            ("GET", "/fbcomet/" | "/fbcomet" | "/fbcomet/state.json") => {
                Reply::text(403, "fbcomet: the service's state is shown to this machine only\n")
            }
            // The counters are for load tools on this machine only.
            ("GET", "/fbcomet/stats") if local => self.stats_reply(),
            ("GET", "/fbcomet/stats") => Reply::text(403, "fbcomet: the counters are served to this machine only\n"),
            _ => door_web::www(self, req)
                .or_else(|| door_2008::www(self, req))
                .unwrap_or_else(|| Reply::text(404, format!("fbcomet: no page at {}\n", req.path))),
        }
    }

    /// Records a request for the service page: its door and what it asked
    /// (`to_graph`: the route found it is for the Graph API).
    fn note(&self, req: &Request, to_graph: bool) {
        let door = if to_graph {
            "messenger platform"
        } else if req.path == "/pull" || req.path == "/active_ping" {
            "web (2013-2018)"
        } else if req.path.starts_with("/x/") {
            "2008 channel"
        } else if req.path.starts_with("/fbcomet/") || req.path == "/favicon.ico" {
            return;
        } else if door_web::serves(&req.path) {
            "web (2013-2018)"
        } else {
            "2008 pages and posts"
        };
        let time = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        *recent.doors.entry(door).or_default() += 1;
        recent.exchanges.push_back(Noted {
            time,
            door,
            method: req.method.clone(),
            host: req.host.clone().unwrap_or_default(),
            path: req.path.chars().take(200).collect(),
        });
        while recent.exchanges.len() > RECENT_KEPT {
            recent.exchanges.pop_front();
        }
    }

    /// `/fbcomet/state.json`: users, doors, pages and recent requests, for
    /// the service page. No tokens, no message text.
    fn state_reply(&self) -> Reply {
        let stats = self.stats();
        let users: Vec<serde_json::Value> = self.with_chat(|chat, now| {
            chat.users()
                .map(|u| {
                    let state = chat.store().user(u.uid);
                    serde_json::json!({
                        "uid": u.uid,
                        "name": u.name,
                        "online": chat.is_online(u.uid, now),
                        "idle": chat.is_idle(u.uid, now),
                        "logins": chat.store().logins_of(u.uid).len(),
                        "held": state.map_or(0, |s| s.presence.held),
                        "next_seq": state.map_or(0, |s| s.log.next_seq()),
                    })
                })
                .collect()
        });
        let pages: Vec<serde_json::Value> = self
            .pages
            .values()
            .map(|p| {
                let hook = self.hooks.iter().find(|h| h.page.id == p.id);
                let webhook = match hook {
                    Some(h) => format!("{} ({})", h.url, *h.state().borrow()),
                    None => "none".to_owned(),
                };
                serde_json::json!({ "id": p.id, "name": p.name, "webhook": webhook })
            })
            .collect();
        let recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        let exchanges: Vec<serde_json::Value> = recent
            .exchanges
            .iter()
            .rev()
            .take(50)
            .map(|e| serde_json::json!({"time": e.time, "door": e.door, "method": e.method, "host": e.host, "path": e.path}))
            .collect();
        let body = serde_json::json!({
            "stats": {
                "logins": stats.logins, "messages": stats.messages, "polls": stats.polls,
                "held polls": stats.held, "resends dropped": stats.duplicate_sends, "faults injected": stats.faults,
            },
            "users": users,
            "doors": recent.doors,
            "pages": pages,
            "recent": exchanges,
        });
        Reply::with_status(200, body.to_string()).header("content-type", "application/json")
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
}

/// How many recent requests the service page is shown.
const RECENT_KEPT: usize = 200;

/// Recent requests and counts per door.
#[derive(Default)]
struct Recent {
    exchanges: VecDeque<Noted>,
    doors: BTreeMap<&'static str, u64>,
}

/// A request, as the service page shows it.
struct Noted {
    time: i64,
    door: &'static str,
    method: String,
    host: String,
    path: String,
}

fn asset(body: &'static str, content_type: &str) -> Reply {
    Reply::ok(body).header("content-type", content_type).header("cache-control", "no-cache")
}

/// How a held poll ended.
pub(crate) enum HoldEnd {
    /// Events arrived.
    Events { events: Vec<ChatEvent>, next: i64 },
    /// The seq is not one to read from (the window moved past it).
    Refresh { seq: i64 },
    /// The hold's time ran out.
    Timeout,
    /// The login ended (logout, expiry) while held.
    LoggedOut,
}

/// What a poll got: an answer now, or a hold.
pub(crate) enum Polled {
    /// Answered at once.
    Now(Poll),
    /// To hold.
    Held(Held),
}

/// A poll being held: what it waits for.
pub(crate) struct Held {
    token: String,
    seq: i64,
    deadline: tokio::time::Instant,
    rx: watch::Receiver<u64>,
    guard: HoldGuard,
}

/// Counts a held poll as presence while it lasts, however it ends.
struct HoldGuard {
    emulator: Arc<Emulator>,
    uid: u64,
}

impl Drop for HoldGuard {
    fn drop(&mut self) {
        self.emulator.with_chat(|chat, now| chat.end_hold(self.uid, now));
    }
}

impl Handler for Arc<Emulator> {
    async fn handle(&self, request: Request) -> Reply {
        self.route(&request)
    }
}

/// The emulator served over HTTP.
pub struct EmulatorServer {
    server: Server,
    emulator: Arc<Emulator>,
    webhooks: Vec<tokio::task::JoinHandle<()>>,
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
        // A webhook that is not a URL is refused before anything is served.
        webhook::hooks(&world.pages).map_err(|err| io::Error::new(io::ErrorKind::InvalidInput, err))?;
        let emulator = Emulator::new(world, config);
        let server = Server::bind(addr, Arc::new(emulator.clone()), server).await?;
        let http = webhook::client();
        let webhooks = emulator
            .hooks
            .iter()
            .map(|hook| tokio::spawn(webhook::run(emulator.clone(), hook.clone(), http.clone())))
            .collect();
        Ok(Self { server, emulator, webhooks })
    }

    /// The address served on.
    pub fn addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// `http://ADDR`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// The HTTP server underneath, for its connection counters.
    pub fn server(&self) -> &Server {
        &self.server
    }

    /// The service, for its counters and state.
    pub fn emulator(&self) -> &Arc<Emulator> {
        &self.emulator
    }

    /// Stops the server; every held poll is answered at once, and the
    /// webhooks are called no more.
    pub async fn shutdown(self) {
        for task in &self.webhooks {
            task.abort();
        }
        self.server.shutdown().await;
    }
}
