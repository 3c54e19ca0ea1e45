//! The event stream: the receiver, plus session renewal, history recovery
//! and presence changes.

use std::collections::{BTreeSet, VecDeque};

use fbcomet_codec::{Event, Message};
use fbcomet_receiver::{Config as ReceiverConfig, Dedup, Listener, Output};
use tokio::time::{Interval, MissedTickBehavior};

use crate::client::{Client, Error};

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
        /// Typing (`true`) or stopped.
        typing: bool,
    },
    /// Friends came online or went offline (from the buddy list, fetched
    /// every [`presence_interval`](crate::ClientConfig::presence_interval)).
    /// The first one lists everyone online.
    PresenceChanged {
        /// Now online.
        online: Vec<u64>,
        /// Gone offline.
        offline: Vec<u64>,
    },
    /// The server asked for a renewal and got it; `recovered` messages
    /// came back from history (and were delivered before this).
    SessionRenewed {
        /// The seq polling resumed from.
        seq: Option<i64>,
        /// Messages recovered from history.
        recovered: usize,
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

/// The stream of [`ClientEvent`]s, from [`Client::events`].
pub struct Events {
    client: Client,
    listener: Listener,
    presence: Option<Interval>,
    online: Option<BTreeSet<u64>>,
    delivered: Dedup,
    partners: BTreeSet<u64>,
    pending: VecDeque<ClientEvent>,
    ended: bool,
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events").field("listener", &self.listener).finish_non_exhaustive()
    }
}

impl Events {
    pub(crate) fn new(client: Client, config: ReceiverConfig) -> Result<Self, Error> {
        let listener = Listener::new(config, client.sender().http().clone())?;
        let presence = client.config().presence_interval.map(|period| {
            let mut interval = tokio::time::interval(period);
            interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
            interval
        });
        Ok(Self {
            client,
            listener,
            presence,
            online: None,
            delivered: Dedup::new(4096),
            partners: BTreeSet::new(),
            pending: VecDeque::new(),
            ended: false,
        })
    }

    /// The receiver's counters.
    pub fn stats(&self) -> &fbcomet_receiver::Stats {
        self.listener.stats()
    }

    /// The next event; `None` once the session is lost (after its
    /// [`ClientEvent::SessionLost`]). Dropping the future loses nothing.
    pub async fn next(&mut self) -> Option<ClientEvent> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(event);
            }
            if self.ended {
                return None;
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
        }
    }

    async fn on_output(&mut self, output: Option<Output>) {
        match output {
            None => {
                if !self.ended {
                    self.end("the receiver stopped".to_owned());
                }
            }
            Some(Output::Event(delivery)) => match delivery.event {
                Event::Msg(message) => self.message(message, delivery.own_echo),
                Event::Typ(t) => self.pending.push_back(ClientEvent::Typing { from: t.from, typing: t.typing }),
                other => self.pending.push_back(ClientEvent::Other(Output::Event(fbcomet_receiver::Delivery {
                    event: other,
                    ..delivery
                }))),
            },
            Some(Output::RenewNeeded { reason, error }) => {
                tracing::info!(?reason, ?error, "the server asks for a renewal");
                self.renew().await;
            }
            Some(Output::Lost { last }) => self.end(format!("no answer from the channel for too long: {last}")),
            Some(other) => self.pending.push_back(ClientEvent::Other(other)),
        }
    }

    fn message(&mut self, message: Message<'static>, own_echo: bool) {
        if !self.delivered.insert(&message_key(&message)) {
            return;
        }
        let me = self.client.uid();
        self.partners.insert(if message.from == me { message.to } else { message.from });
        self.pending.push_back(ClientEvent::Message { message, own_echo });
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
                tracing::warn!(%err, "reconnect.php failed; resuming where the channel was");
                (None, None)
            }
        };
        self.listener.renew(seq, channel);
        let mut recovered = 0;
        for friend in self.partners.clone() {
            match self.client.history(friend).await {
                Ok(messages) => {
                    for message in messages {
                        let before = self.pending.len();
                        let own = message.is_own_echo(self.client.uid());
                        self.message(message, own);
                        recovered += self.pending.len() - before;
                    }
                }
                Err(err) => tracing::warn!(%err, friend, "history.php failed"),
            }
        }
        self.pending.push_back(ClientEvent::SessionRenewed { seq, recovered });
    }

    async fn on_presence_tick(&mut self) {
        let list = match self.client.buddy_list().await {
            Ok(list) => list,
            Err(err) => {
                tracing::warn!(%err, "the buddy list could not be fetched");
                return;
            }
        };
        let now: BTreeSet<u64> = list.now_available.iter().filter_map(|(uid, _)| uid.parse().ok()).collect();
        let (online, offline): (Vec<u64>, Vec<u64>) = match &self.online {
            None => (now.iter().copied().collect(), Vec::new()),
            Some(before) => (now.difference(before).copied().collect(), before.difference(&now).copied().collect()),
        };
        if self.online.is_none() || !online.is_empty() || !offline.is_empty() {
            self.pending.push_back(ClientEvent::PresenceChanged { online, offline });
        }
        self.online = Some(now);
    }

    fn end(&mut self, reason: String) {
        self.ended = true;
        self.listener.shutdown();
        self.pending.push_back(ClientEvent::SessionLost { reason });
    }
}

/// What tells a message from another: its id, or where it has none (some
/// history entries), who, when and what.
fn message_key(m: &Message<'_>) -> String {
    match &m.msg_id {
        Some(id) => format!("id:{id}"),
        None => format!("{}>{}@{}:{}", m.from, m.to, m.time.unwrap_or_default(), m.text),
    }
}
