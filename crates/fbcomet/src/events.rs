//! The event stream: the receiver, plus session renewal, gap recovery
//! through history, presence changes and names.
//!
//! The work runs in a task of its own (the driver), which owns the
//! listener and every request a renewal or a recovery makes; [`Events`]
//! only takes what the driver has ready. So dropping [`Events::next`] at any
//! point loses nothing and leaves nothing half done. The driver polls on
//! its own until the stream is established, then on demand: while the
//! application waits for an event, not ahead of it, as a client that stops
//! reading stops polling.

use std::collections::{BTreeSet, HashMap};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{SystemTime, UNIX_EPOCH};

use fbcomet_codec::{Event, Message};
use fbcomet_receiver::{Config as ReceiverConfig, Dedup, Endpoint, Listener, Output, Stats, message_key};
use fbcomet_sender::Dialect;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::{Interval, MissedTickBehavior};

use crate::client::{Client, Error};

impl Client {
    /// The stream of what happens on the user's channel.
    pub fn events(&self) -> Result<Events, Error> {
        let session = self.session();
        let config = self.config();
        let endpoint = match config.dialect {
            Dialect::Classic => Endpoint::Channel {
                base: config.channel_base.clone(),
                channel: session.channel,
                idle_segment: "false".to_owned(),
            },
            Dialect::Web => Endpoint::Pull { base: config.pull_base.clone(), client_id: None },
        };
        let mut receiver = ReceiverConfig::new(session.uid, endpoint);
        receiver.hold = config.hold;
        receiver.drop_own_echoes = config.drop_own_echoes;
        receiver.rng_seed = config.rng_seed;
        if let Some(tune) = config.tune_receiver {
            tune(&mut receiver);
        }
        Events::new(self.clone(), receiver)
    }
}

/// Someone, by uid, with their name where the client knows it (from the
/// buddy list, or from a message's `from_name`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// The uid.
    pub uid: u64,
    /// The full name, if known.
    pub name: Option<String>,
}

/// Something that happened on the user's channel.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientEvent {
    /// A message, once.
    Message {
        /// The message.
        message: Message<'static>,
        /// Whether it is the echo of one the user sent to someone else.
        own_echo: bool,
    },
    /// A friend started or stopped typing.
    Typing {
        /// Who.
        from: u64,
        /// Their name, if known.
        name: Option<String>,
        /// Typing (`true`) or stopped.
        typing: bool,
    },
    /// Friends came online or went offline (from the buddy list, fetched
    /// every [`presence_interval`](crate::ClientConfig::presence_interval)).
    /// The first one lists everyone online.
    PresenceChanged {
        /// Now online.
        online: Vec<Person>,
        /// Gone offline.
        offline: Vec<Person>,
    },
    /// The server asked for a renewal and got it; `recovered` messages
    /// came back from history (and were delivered before this).
    SessionRenewed {
        /// The seq polling resumed from.
        seq: Option<i64>,
        /// Messages recovered from history.
        recovered: usize,
    },
    /// The server skipped `missed` events of the channel (the client fell
    /// behind its window: a long outage, a stopped process). The client
    /// fetched history for every friend and delivered, before this, the
    /// `recovered` messages it held; `lost` events could not be recovered
    /// (history too short, or typing notices, which history does not keep).
    Gap {
        /// Events skipped by the server.
        missed: u64,
        /// Of them, delivered from history.
        recovered: u64,
        /// Of them, lost.
        lost: u64,
    },
    /// The session is gone and could not be renewed; the stream ends.
    SessionLost {
        /// Why.
        reason: String,
    },
    /// Anything else the receiver reported (unknown events and frames,
    /// failed polls, resyncs), for those who care.
    Other(Output),
}

/// Where the stream stands, for [`Events::ready`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Readiness {
    Starting,
    Ready,
    Ended,
}

/// The stream of [`ClientEvent`]s, from [`Client::events`]. Also a
/// [`futures_core::Stream`].
pub struct Events {
    rx: mpsc::Receiver<ClientEvent>,
    /// How many times the application asked for more than was ready.
    demand: watch::Sender<u64>,
    /// Asked, and nothing received since.
    asked: bool,
    ready: watch::Receiver<Readiness>,
    stats: Arc<Mutex<Stats>>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events").field("ready", &*self.ready.borrow()).finish_non_exhaustive()
    }
}

impl Drop for Events {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// How many events may wait for the application before the driver waits.
const BACKLOG: usize = 1024;

impl Events {
    pub(crate) fn new(client: Client, mut config: ReceiverConfig) -> Result<Self, Error> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| Error::NoRuntime)?;
        config.pause_on_gap = true;
        let listener = Listener::new(config, client.sender().http().clone())?;
        let presence = client.config().presence_interval.map(|period| {
            let mut interval = tokio::time::interval(period);
            interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
            interval
        });
        let (tx, rx) = mpsc::channel(BACKLOG);
        let (ready_tx, ready) = watch::channel(Readiness::Starting);
        let (demand, demand_rx) = watch::channel(0);
        let stats = Arc::new(Mutex::new(Stats::default()));
        let driver = Driver {
            client,
            listener,
            presence,
            online: None,
            names: HashMap::new(),
            asked: BTreeSet::new(),
            delivered: Dedup::new(16_384),
            partners: BTreeSet::new(),
            last_time: None,
            started_ms: SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64),
            pending: Vec::new(),
            ended: false,
            demand: demand_rx,
            served: 0,
            tx,
            ready: ready_tx,
            stats: stats.clone(),
        };
        let task = runtime.spawn(driver.run());
        Ok(Self { rx, demand, asked: false, ready, stats, task })
    }

    /// The receiver's counters, as of its last output.
    pub fn stats(&self) -> Stats {
        self.stats.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The next event; `None` once the session is lost (after its
    /// [`ClientEvent::SessionLost`]). Cancel-safe: dropping the future
    /// loses nothing.
    pub async fn next(&mut self) -> Option<ClientEvent> {
        self.ask();
        let event = self.rx.recv().await;
        self.asked = false;
        event
    }

    /// Asks the driver for more, unless something is ready or was asked for.
    fn ask(&mut self) {
        if self.rx.is_empty() && !self.asked {
            self.asked = true;
            self.demand.send_modify(|n| *n += 1);
        }
    }

    /// Resolves once the stream is established: the first poll was
    /// answered, so the client knows where it stands in the channel and the
    /// server counts the user online. A message sent to the user from then
    /// on reaches this stream (before it, the server may answer 1356003,
    /// "not online", or the message may precede the stream's start).
    /// `false` if the stream ended first.
    pub async fn ready(&mut self) -> bool {
        let state = self.ready.wait_for(|r| *r != Readiness::Starting).await;
        matches!(state.as_deref(), Ok(Readiness::Ready))
    }
}

impl futures_core::Stream for Events {
    type Item = ClientEvent;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<ClientEvent>> {
        let this = self.get_mut();
        this.ask();
        let polled = this.rx.poll_recv(cx);
        if polled.is_ready() {
            this.asked = false;
        }
        polled
    }
}

/// The task behind [`Events`].
struct Driver {
    client: Client,
    listener: Listener,
    presence: Option<Interval>,
    online: Option<BTreeSet<u64>>,
    names: HashMap<u64, String>,
    /// The uids whose names were asked for.
    asked: BTreeSet<u64>,
    /// Messages delivered, by [`key`].
    delivered: Dedup,
    /// Everyone a message came from or went to.
    partners: BTreeSet<u64>,
    /// The server time of the newest message delivered.
    last_time: Option<i64>,
    /// This machine's time when the stream started.
    started_ms: i64,
    pending: Vec<ClientEvent>,
    ended: bool,
    /// The application's demand, and how much of it was served.
    demand: watch::Receiver<u64>,
    served: u64,
    tx: mpsc::Sender<ClientEvent>,
    ready: watch::Sender<Readiness>,
    stats: Arc<Mutex<Stats>>,
}

impl Driver {
    async fn run(mut self) {
        while !self.ended {
            // Until the stream is established it polls on its own; then as
            // the application asks.
            let served = self.served;
            let starting = *self.ready.borrow() == Readiness::Starting;
            if !starting && self.demand.wait_for(|asked| *asked > served).await.is_err() {
                return; // the stream was dropped
            }
            let tick = async {
                match &mut self.presence {
                    Some(interval) => interval.tick().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                output = self.listener.next() => self.on_output(output).await,
                _ = tick => self.on_presence_tick().await,
            }
            *self.stats.lock().unwrap_or_else(PoisonError::into_inner) = self.listener.stats().clone();
            let events = std::mem::take(&mut self.pending);
            if !events.is_empty() {
                // Whatever was asked for so far is answered.
                self.served = *self.demand.borrow();
            }
            for event in events {
                if self.tx.send(event).await.is_err() {
                    return; // nobody listens any more
                }
            }
        }
        self.ready.send_replace(Readiness::Ended);
    }

    async fn on_output(&mut self, output: Option<Output>) {
        match output {
            None => self.end("the receiver stopped".to_owned()),
            Some(Output::Event(delivery)) => match delivery.event {
                Event::Msg(message) => self.message(message, delivery.own_echo),
                // The web dialect's messages (other deltas go on as Other).
                Event::Delta(ref delta) if let Some(new) = delta.as_new_message() => {
                    // Deltas carry no names: the buddy list has them.
                    let mut message = new.to_message(self.client.uid());
                    message.from_name = self.name_of(message.from).await.map(Into::into);
                    message.to_name = self.name_of(message.to).await.map(Into::into);
                    self.message(message, delivery.own_echo);
                }
                Event::Typ(t) => {
                    let name = self.name_of(t.from).await;
                    self.pending.push(ClientEvent::Typing { from: t.from, name, typing: t.typing });
                }
                other => self
                    .pending
                    .push(ClientEvent::Other(Output::Event(fbcomet_receiver::Delivery { event: other, ..delivery }))),
            },
            Some(Output::Ready { .. }) => {
                self.ready.send_replace(Readiness::Ready);
            }
            Some(Output::RenewNeeded { reason, error }) => {
                tracing::info!(?reason, ?error, "the server asks for a renewal");
                self.renew().await;
            }
            Some(Output::Gap { from, to, missed }) => {
                tracing::warn!(from, to, missed, "the server skipped events; recovering them through history");
                // The receiver waits for this (Events sets pause_on_gap).
                self.recover_gap().await;
            }
            Some(Output::GapSettled { missed, recovered, lost }) => {
                if lost > 0 {
                    tracing::warn!(missed, recovered, lost, "messages lost for good");
                }
                self.pending.push(ClientEvent::Gap { missed, recovered, lost });
            }
            Some(Output::Lost { last }) => self.end(format!("no answer from the channel for too long: {last}")),
            Some(other) => self.pending.push(ClientEvent::Other(other)),
        }
    }

    /// The name of `uid`: known already, or from the buddy list (asked once
    /// per unknown uid).
    async fn name_of(&mut self, uid: u64) -> Option<String> {
        if let Some(name) = self.names.get(&uid) {
            return Some(name.clone());
        }
        if !self.asked.insert(uid) {
            return None;
        }
        if let Ok(list) = self.client.buddy_list().await {
            self.learn_names(&list);
        }
        self.names.get(&uid).cloned()
    }

    fn learn_names(&mut self, list: &fbcomet_codec::BuddyList<'_>) {
        for (uid, info) in list.user_infos.iter() {
            if let (Ok(uid), Some(name)) = (uid.parse::<u64>(), &info.name) {
                self.names.insert(uid, name.to_string());
            }
        }
    }

    /// Delivers `message` unless it was delivered before.
    fn message(&mut self, message: Message<'static>, own_echo: bool) {
        if !self.delivered.insert(&key(&message)) {
            return;
        }
        let me = self.client.uid();
        self.partners.insert(if message.from == me { message.to } else { message.from });
        if let Some(name) = &message.from_name {
            self.names.insert(message.from, name.to_string());
        }
        if let Some(name) = &message.to_name {
            self.names.insert(message.to, name.to_string());
        }
        if let Some(time) = message.time {
            self.last_time = Some(self.last_time.map_or(time, |t| t.max(time)));
        }
        self.pending.push(ClientEvent::Message { message, own_echo });
    }

    /// Fetches history from each of `friends` and delivers what was not
    /// delivered yet and is no older than `since`, oldest first. The keys of
    /// what it delivered.
    async fn deliver_history(&mut self, friends: BTreeSet<u64>, since: Option<i64>) -> Vec<String> {
        let mut found = Vec::new();
        for friend in friends {
            match self.client.history(friend).await {
                Ok(messages) => found.extend(messages),
                Err(err) => {
                    tracing::warn!(error = &err as &(dyn std::error::Error + 'static), friend, "history.php failed")
                }
            }
        }
        let receiver = self.listener.receiver();
        let fresh = recoverable(found, since, |k| self.delivered.contains(k) || receiver.was_delivered(k));
        let me = self.client.uid();
        let mut keys = Vec::new();
        for message in fresh {
            keys.extend(message_key(&message));
            let own = message.is_own_echo(me);
            self.message(message, own);
        }
        keys
    }

    /// After a gap: history from every friend (and everyone chatted with),
    /// then polling resumes and the receiver settles the count.
    async fn recover_gap(&mut self) {
        let mut friends = self.partners.clone();
        match self.client.buddy_list().await {
            Ok(list) => {
                self.learn_names(&list);
                let me = self.client.uid();
                friends
                    .extend(list.user_infos.iter().filter_map(|(uid, _)| uid.parse::<u64>().ok()).filter(|u| *u != me));
            }
            Err(err) => tracing::warn!(
                error = &err as &(dyn std::error::Error + 'static),
                "the buddy list could not be fetched; recovering from known partners only"
            ),
        }
        let since = self.last_time.unwrap_or(self.started_ms);
        let keys = self.deliver_history(friends, Some(since)).await;
        self.listener.resume_after_gap(keys);
    }

    /// reconnect.php for the channel and seq, logging in again first if
    /// that is what it takes; then history.php for everyone chatted with.
    async fn renew(&mut self) {
        let reconnect = match self.client.sender().reconnect(3).await {
            Err(err) if err.needs_new_session() => match self.client.relogin().await {
                Ok(_) => self.client.sender().reconnect(3).await,
                Err(login) => return self.end(format!("the session expired and logging in again failed: {login}")),
            },
            other => other,
        };
        let (seq, channel) = match reconnect {
            Ok(r) => (r.seq, r.channel_number()),
            Err(err) => {
                // Without reconnect.php, resume where polling was.
                tracing::warn!(
                    error = &err as &(dyn std::error::Error + 'static),
                    "reconnect.php failed; resuming where the channel was"
                );
                (None, None)
            }
        };
        let before = self.pending.len();
        let keys = self.deliver_history(self.partners.clone(), self.last_time).await;
        let recovered = self.pending.len() - before;
        self.listener.mark_delivered(keys);
        self.listener.renew(seq, channel);
        self.pending.push(ClientEvent::SessionRenewed { seq, recovered });
    }

    async fn on_presence_tick(&mut self) {
        let list = match self.client.buddy_list().await {
            Ok(list) => list,
            Err(err) => {
                tracing::warn!(
                    error = &err as &(dyn std::error::Error + 'static),
                    "the buddy list could not be fetched"
                );
                return;
            }
        };
        self.learn_names(&list);
        let now: BTreeSet<u64> = list.now_available.iter().filter_map(|(uid, _)| uid.parse().ok()).collect();
        let (online, offline): (Vec<u64>, Vec<u64>) = match &self.online {
            None => (now.iter().copied().collect(), Vec::new()),
            Some(before) => (now.difference(before).copied().collect(), before.difference(&now).copied().collect()),
        };
        if self.online.is_none() || !online.is_empty() || !offline.is_empty() {
            let people = |uids: Vec<u64>| -> Vec<Person> {
                uids.into_iter().map(|uid| Person { uid, name: self.names.get(&uid).cloned() }).collect()
            };
            let event = ClientEvent::PresenceChanged { online: people(online), offline: people(offline) };
            self.pending.push(event);
        }
        self.online = Some(now);
    }

    fn end(&mut self, reason: String) {
        self.ended = true;
        self.listener.shutdown();
        self.pending.push(ClientEvent::SessionLost { reason });
    }
}

/// What tells a message from another: its sender and id, or where it has
/// no id (some history entries), who, when and what.
fn key(m: &Message<'_>) -> String {
    message_key(m).unwrap_or_else(|| format!("{}>{}@{}:{}", m.from, m.to, m.time.unwrap_or_default(), m.text))
}

/// Of the messages history gave, the ones to deliver: not delivered yet
/// (`seen`), no older than `since` (server time; messages without a time
/// are kept), each once, oldest first (history's own order among equals).
fn recoverable(
    messages: Vec<Message<'static>>,
    since: Option<i64>,
    seen: impl Fn(&str) -> bool,
) -> Vec<Message<'static>> {
    let mut taken = BTreeSet::new();
    let mut fresh: Vec<Message<'static>> = messages
        .into_iter()
        .filter(|m| since.is_none_or(|since| m.time.is_none_or(|t| t >= since)))
        .filter(|m| {
            let key = key(m);
            !seen(&key) && taken.insert(key)
        })
        .collect();
    fresh.sort_by_key(|m| m.time.unwrap_or(i64::MAX));
    fresh
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(from: u64, id: &str, time: i64) -> Message<'static> {
        Message {
            msg_id: Some(id.to_owned().into()),
            time: Some(time),
            ..Message::new(from, 1, format!("{from}/{id}"))
        }
    }

    #[test]
    fn history_gives_what_was_not_delivered_since_then_oldest_first() {
        // Two conversations, as two history answers one after the other.
        let history = vec![msg(2, "a", 10), msg(2, "b", 30), msg(2, "c", 50), msg(3, "a", 20), msg(3, "d", 40)];
        let delivered = ["2:b"];
        let fresh = recoverable(history.clone(), Some(20), |k| delivered.contains(&k));
        let texts: Vec<&str> = fresh.iter().map(|m| m.text.as_ref()).collect();
        assert_eq!(texts, ["3/a", "3/d", "2/c"], "3:a is Carol's a, not Bob's: keyed by sender");
        let twice = recoverable([history.clone(), history].concat(), None, |_| false);
        assert_eq!(twice.len(), 5, "each once");
    }
}
