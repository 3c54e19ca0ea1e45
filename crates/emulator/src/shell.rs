//! The shell around the chat core: one lock, the clock (tokio's, so that
//! tests can pause it), the one timer on the core's next timeout, the map
//! from each hold to the connection waiting on it, fault injection on
//! polls, and what came in lately. It knows no door: the doors call it.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use fbcomet_chat::{Answer, ChatConfig, ChatService, End, HoldId, Output, Poll, Read, User, World};
use fbcomet_codec::ChatHost;
use rand::SeedableRng;
use rand::rngs::SmallRng;
use tokio::sync::Notify;

use super::hooks::{self, PageHook};
use fbcomet_server::{FaultAction, RandomFaults, Reply, Request, random_fault};

/// A front door: which requests are its, and how it answers them. The
/// emulator's table of doors ([`DOORS`](super::DOORS)) is a list of these.
pub(crate) struct Door {
    /// Its name on the service page; `None` for fbcomet's own pages, which
    /// are not counted.
    pub(crate) name: Option<&'static str>,
    /// Whether a request is for this door (its host, when the client named
    /// a chat host, and its path).
    pub(crate) serves: fn(&Request, Option<&ChatHost>) -> bool,
    /// The answer.
    pub(crate) answer: fn(&Arc<Emulator>, &Request) -> Reply,
}

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
    /// Polls held and sessions present right now.
    pub held: usize,
    /// Logins ended because they went unused (or past the per-user cap).
    pub expired_logins: u64,
    /// Faults injected.
    pub faults: u64,
}

/// The clock of the emulator: tokio's, so that tests can pause it.
pub(crate) fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// What sits under the lock: the core, and where each hold's answers go.
struct Shared {
    chat: ChatService,
    /// The connection waiting on each hold and subscription.
    waiting: HashMap<HoldId, Arc<Mailbox>>,
    /// When the timer sleeps until.
    timer_at: Instant,
    fault_rng: SmallRng,
    faults: u64,
}

impl Shared {
    /// Sends the core's answers to the connections waiting for them; a
    /// connection gone is cancelled.
    fn drain(&mut self, now: Instant) {
        let mut gone = Vec::new();
        while let Some(output) = self.chat.poll_output() {
            match output {
                Output::Answer { hold, answer, done } => {
                    if let Some(mailbox) = self.waiting.get(&hold) {
                        if Arc::strong_count(mailbox) == 1 {
                            gone.push(hold);
                        } else {
                            mailbox.put(answer);
                        }
                    }
                    if done && let Some(mailbox) = self.waiting.remove(&hold) {
                        mailbox.close();
                    }
                }
                other => tracing::debug!(?other, "core output not handled"),
            }
        }
        for hold in gone {
            self.waiting.remove(&hold);
            self.chat.cancel(hold, now);
        }
    }
}

/// Where the core's answers for one hold or subscription wait for its
/// connection. Small until used: a tokio channel allocates its first block
/// of 32 answers (1.5 KiB) up front, for what is most often one answer.
#[derive(Default)]
struct Mailbox {
    answers: Mutex<VecDeque<Answer>>,
    /// No answer will come after those queued.
    closed: AtomicBool,
    ready: Notify,
}

impl Mailbox {
    fn put(&self, answer: Answer) {
        self.answers.lock().unwrap_or_else(|e| e.into_inner()).push_back(answer);
        self.ready.notify_one();
    }

    fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.ready.notify_one();
    }

    /// The next answer; [`End::Shutdown`] once closed and empty.
    async fn take(&self) -> Answer {
        loop {
            if let Some(answer) = self.answers.lock().unwrap_or_else(|e| e.into_inner()).pop_front() {
                return answer;
            }
            if self.closed.load(Ordering::Acquire) {
                return Answer::Ended(End::Shutdown);
            }
            // A put or close since the check left a permit: no wake is lost.
            self.ready.notified().await;
        }
    }
}

/// The emulated service: the [`Handler`](fbcomet_server::Handler) behind an [`EmulatorServer`](crate::EmulatorServer).
pub struct Emulator {
    /// What came in lately, for the service page.
    recent: Mutex<Recent>,
    hooks: Vec<Arc<PageHook>>,
    config: EmulatorConfig,
    shared: Mutex<Shared>,
    /// Wakes the timer when the core's next timeout moved earlier.
    timer: Arc<Notify>,
    /// Itself, for the doors (a held poll keeps the service it waits on).
    me: Weak<Emulator>,
}

impl Emulator {
    /// The service for `world`. Inside a tokio runtime, its timer starts
    /// (holds meet their deadlines and logins expire with no request
    /// arriving); it stops when the service is dropped.
    pub fn new(world: &World, config: EmulatorConfig) -> Arc<Self> {
        let now = now();
        let unix_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
        let chat = ChatService::new(world, config.chat.clone(), now, unix_ms);
        let fault_rng = SmallRng::seed_from_u64(config.faults.as_ref().map_or(0, |f| f.seed));
        let hooks = hooks::hooks(&world.pages).unwrap_or_else(|err| {
            tracing::warn!(%err, "webhooks not called: the world's pages are not valid");
            Vec::new()
        });
        let timer_at = chat.poll_timeout();
        let emulator = Arc::new_cyclic(|me| Self {
            recent: Mutex::new(Recent::default()),
            hooks,
            shared: Mutex::new(Shared { chat, waiting: HashMap::new(), timer_at, fault_rng, faults: 0 }),
            config,
            timer: Arc::new(Notify::new()),
            me: me.clone(),
        });
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(timer(Arc::downgrade(&emulator), emulator.timer.clone()));
        }
        emulator
    }

    /// The service, shared; `None` once it is being dropped.
    pub(crate) fn shared(&self) -> Option<Arc<Emulator>> {
        self.me.upgrade()
    }

    /// The pages' webhooks.
    pub fn page_hooks(&self) -> &[Arc<PageHook>] {
        &self.hooks
    }

    /// Asks the webhook of page `id` to verify again; false for a page
    /// without one.
    pub fn verify_page(&self, id: u64) -> bool {
        match self.hooks.iter().find(|h| h.page.id == id) {
            Some(hook) => {
                hooks::reverify(hook);
                true
            }
            None => false,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Shared> {
        // Every core call leaves its state whole; a panic in one cannot
        // leave it worse than losing that request.
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on the core at the current time, then sends the answers
    /// the core gave to the connections waiting for them.
    pub(crate) fn with_chat<R>(&self, f: impl FnOnce(&mut ChatService, Instant) -> R) -> R {
        self.locked(|shared, now| f(&mut shared.chat, now))
    }

    /// [`with_chat`](Self::with_chat) with the map of waiting connections
    /// too, for what must be registered under the same lock as the core's
    /// call.
    fn locked<R>(&self, f: impl FnOnce(&mut Shared, Instant) -> R) -> R {
        let mut shared = self.lock();
        let now = now();
        if now >= shared.chat.poll_timeout() {
            shared.chat.handle_timeout(now);
        }
        let result = f(&mut shared, now);
        shared.drain(now);
        if shared.chat.poll_timeout() < shared.timer_at {
            self.timer.notify_one();
        }
        result
    }

    /// The configuration.
    pub fn config(&self) -> &EmulatorConfig {
        &self.config
    }

    /// The user `uid` of the world.
    pub fn user(&self, uid: u64) -> Option<User> {
        self.with_chat(|chat, _| chat.user(uid).cloned())
    }

    /// The name and first name of a user or page.
    pub fn name_of(&self, uid: u64) -> Option<(String, String)> {
        self.with_chat(|chat, _| chat.name_of(uid).map(|(n, f)| (n.to_owned(), f.to_owned())))
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
            expired_logins: chat.expired_logins,
            faults: shared.faults,
        }
    }

    /// Whether `uid` counts as online now.
    pub fn is_online(&self, uid: u64) -> bool {
        self.with_chat(|chat, now| chat.is_online(uid, now))
    }

    /// Ends every hold and subscription (each door answers its own way, an
    /// XMPP session with `system-shutdown`).
    pub fn shutdown(&self) {
        self.with_chat(|chat, now| chat.shutdown(now));
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

    /// A poll, made by `f` on the core: answered now, or held, with the
    /// connection registered for the hold's answer under the same lock as
    /// the core's call, so that no answer slips between. `f` may answer
    /// something else (`Err(T)`: a `/pull` handshake).
    pub(crate) fn poll<T, E>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut ChatService, Instant) -> Result<Result<Poll, T>, E>,
    ) -> Result<Result<Polled, T>, E> {
        self.locked(|shared, now| {
            Ok(match f(&mut shared.chat, now)? {
                Ok(Poll::Read(read)) => Ok(Polled::Now(read)),
                Ok(Poll::Held(id)) => Ok(Polled::Held(self.wait_on(shared, id))),
                Err(other) => Err(other),
            })
        })
    }

    /// A poll that is only ever a poll (the 2008 channel).
    pub(crate) fn poll_only<E>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut ChatService, Instant) -> Result<Poll, E>,
    ) -> Result<Polled, E> {
        let polled = self.poll(|chat, now| f(chat, now).map(Ok::<_, Infallible>))?;
        Ok(match polled {
            Ok(polled) => polled,
        })
    }

    /// A subscription, made by `f` on the core, with the connection
    /// registered for its answers.
    pub(crate) fn subscribe<E>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut ChatService, Instant) -> Result<HoldId, E>,
    ) -> Result<Waiting, E> {
        self.locked(|shared, now| {
            let id = f(&mut shared.chat, now)?;
            Ok(self.wait_on(shared, id))
        })
    }

    fn wait_on(self: &Arc<Self>, shared: &mut Shared, id: HoldId) -> Waiting {
        let mailbox = Arc::new(Mailbox::default());
        shared.waiting.insert(id, mailbox.clone());
        Waiting { id, mailbox, emulator: self.clone() }
    }
    /// Records a request for the service page: the door it came to.
    pub(crate) fn note(&self, door: &'static str, req: &Request) {
        let time = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
        let mut recent = self.recent();
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

    /// What came in lately.
    pub(crate) fn recent(&self) -> MutexGuard<'_, Recent> {
        self.recent.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// How many recent requests the service page is shown.
const RECENT_KEPT: usize = 200;

/// Recent requests and counts per door.
#[derive(Default)]
pub(crate) struct Recent {
    pub(crate) exchanges: VecDeque<Noted>,
    pub(crate) doors: BTreeMap<&'static str, u64>,
}

/// A request, as the service page shows it.
pub(crate) struct Noted {
    pub(crate) time: i64,
    pub(crate) door: &'static str,
    pub(crate) method: String,
    pub(crate) host: String,
    pub(crate) path: String,
}

/// What a poll got: an answer now, or a hold.
pub(crate) enum Polled {
    /// Answered at once.
    Now(Read),
    /// Held: the answer comes later.
    Held(Waiting),
}

impl Polled {
    /// The poll's reply: `render` writes the answer in the door's dialect,
    /// whether it came at once or after the hold. `placeholder` is sent if
    /// the server stops serving first.
    pub(crate) fn reply(self, placeholder: Reply, render: impl FnOnce(Answer) -> Reply + Send + 'static) -> Reply {
        match self {
            Polled::Now(read) => render(Answer::Read(read)),
            Polled::Held(mut waiting) => placeholder.until(async move { render(waiting.next().await) }),
        }
    }
}

/// A connection waiting on a hold or subscription of the core. Dropped
/// (the connection went away), it cancels it.
pub(crate) struct Waiting {
    id: HoldId,
    mailbox: Arc<Mailbox>,
    emulator: Arc<Emulator>,
}

impl Waiting {
    /// The next answer.
    pub(crate) async fn next(&mut self) -> Answer {
        self.mailbox.take().await
    }

    /// A subscription is ready for its next answer.
    pub(crate) fn resume(&self) -> bool {
        self.emulator.with_chat(|chat, now| chat.resume(self.id, now))
    }

    /// The hold or subscription waited on.
    pub(crate) fn id(&self) -> HoldId {
        self.id
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        if self.mailbox.closed.load(Ordering::Acquire) {
            // The core ended it and the shell forgot it: nothing to cancel.
            return;
        }
        let id = self.id;
        self.emulator.locked(|shared, now| {
            shared.waiting.remove(&id);
            shared.chat.cancel(id, now);
        });
    }
}

/// The one timer: sleeps until the core's next timeout, or until woken
/// because it moved earlier; ends when the service is dropped.
async fn timer(emulator: Weak<Emulator>, wake: Arc<Notify>) {
    loop {
        let at = {
            let Some(emulator) = emulator.upgrade() else { return };
            emulator.locked(|shared, _| {
                shared.timer_at = shared.chat.poll_timeout();
                shared.timer_at
            })
        };
        tokio::select! {
            () = tokio::time::sleep_until(at.into()) => {}
            () = wake.notified() => {}
        }
    }
}
