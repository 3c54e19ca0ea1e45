//! Calling pages' webhooks, as Facebook did for Messenger Platform bots.
//!
//! Each page with a webhook has a task of its own, so a slow or broken bot
//! holds up nothing but its own page. The task first verifies the webhook
//! (`GET webhook?hub.mode=subscribe&hub.verify_token=..&hub.challenge=N`;
//! subscribed only when the answer is exactly N), retrying with backoff
//! until it is, and again whenever asked ([`Emulator::verify_page`]). Then
//! it reads the page's log in the chat core like a client polling its
//! channel: each message, read and delivery becomes one signed POST, in
//! order; a post that fails (an error status, garbage, no answer in 20 s,
//! no connection) is retried with backoff (1 s doubling to 60 s) until the
//! bot takes it, and nothing after it is sent before. Facebook disabled a
//! webhook that kept failing; fbcomet never does, and events wait in the
//! page's log meanwhile (past its window they are lost, and the log says
//! how many).

use std::sync::Arc;
use std::time::Duration;

use fbcomet_chat::{ChatEvent, Page, Poll};
use fbcomet_http::{HttpClient, HttpConfig};
use fbcomet_platform::{
    Delivery, Id, Messaging, Read, ReceivedMessage, WebhookPayload, signature_sha1, signature_sha256,
};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use tokio::sync::{Notify, watch};
use url::Url;

use super::Emulator;
use super::graph::psid;
use super::wire::mid;

/// How long a bot has to answer a post or a verification.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(20);
/// The first retry's wait, and the longest.
const BACKOFF: (Duration, Duration) = (Duration::from_secs(1), Duration::from_secs(60));

/// Where a page's webhook stands.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HookState {
    /// Asking the webhook to verify.
    Verifying,
    /// Verified: events are posted as they come.
    Subscribed,
    /// Verification failed; tried again after `retry_in`.
    VerifyFailed {
        /// Why.
        reason: String,
        /// When the next try is.
        retry_in: Duration,
    },
    /// A post failed; tried again after `retry_in` (later events wait).
    Retrying {
        /// Why.
        reason: String,
        /// When the next try is.
        retry_in: Duration,
    },
}

impl std::fmt::Display for HookState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HookState::Verifying => f.write_str("verifying"),
            HookState::Subscribed => f.write_str("subscribed"),
            HookState::VerifyFailed { reason, retry_in } => {
                write!(f, "verification failed: {reason}; again in {}s", retry_in.as_secs())
            }
            HookState::Retrying { reason, retry_in } => {
                write!(f, "delivery failed: {reason}; again in {}s", retry_in.as_secs())
            }
        }
    }
}

/// A page's webhook, as its task and the rest of the emulator share it.
#[derive(Debug)]
pub struct PageHook {
    /// The page.
    pub page: Page,
    /// The webhook.
    pub url: Url,
    state: watch::Sender<HookState>,
    verify: Notify,
}

impl PageHook {
    /// The current state, and changes to come.
    pub fn state(&self) -> watch::Receiver<HookState> {
        self.state.subscribe()
    }

    fn set(&self, state: HookState) {
        match &state {
            HookState::Subscribed => tracing::info!(page = self.page.id, url = %self.url, "webhook subscribed"),
            HookState::Verifying => {}
            failed => tracing::warn!(page = self.page.id, url = %self.url, "webhook: {failed}"),
        }
        self.state.send_replace(state);
    }
}

/// The hooks of `pages` that have a webhook; a webhook that is not an
/// http(s) URL is an error naming the page.
pub(crate) fn hooks(pages: &[Page]) -> Result<Vec<Arc<PageHook>>, String> {
    pages
        .iter()
        .filter_map(|page| Some((page, page.webhook.as_deref()?)))
        .map(|(page, webhook)| {
            let url: Url = webhook.parse().map_err(|e| format!("page {}: webhook {webhook:?}: {e}", page.id))?;
            if !matches!(url.scheme(), "http" | "https") {
                return Err(format!("page {}: webhook {webhook:?} is not an http(s) URL", page.id));
            }
            Ok(Arc::new(PageHook {
                page: page.clone(),
                url,
                state: watch::channel(HookState::Verifying).0,
                verify: Notify::new(),
            }))
        })
        .collect()
}

/// Asks `hook`'s task to verify the webhook again.
pub(crate) fn reverify(hook: &PageHook) {
    hook.verify.notify_one();
}

/// The HTTP client webhooks are called with.
pub(crate) fn client() -> HttpClient {
    HttpClient::new(HttpConfig { request_timeout: ANSWER_TIMEOUT, ..HttpConfig::default() })
}

/// The task of one page's webhook; runs until dropped.
pub(crate) async fn run(emulator: Arc<Emulator>, hook: Arc<PageHook>, http: HttpClient) {
    let page = hook.page.id;
    // Events from now on; the page's log may already hold some.
    let mut seq = emulator.with_chat(|chat, now| match chat.read(page, -1, now) {
        Poll::Refresh { seq } => seq,
        _ => 0,
    });
    let mut wake = emulator.subscribe(page);
    verify(&hook, &http).await;
    loop {
        let read = emulator.with_chat(|chat, now| chat.read(page, seq, now));
        match read {
            Poll::Events { events, next, from } => {
                for (i, event) in events.iter().enumerate() {
                    if let Some(messaging) = messaging(page, event) {
                        deliver(&hook, &http, &emulator, messaging, from + i as i64).await;
                    }
                }
                seq = next;
            }
            Poll::Refresh { seq: to } => {
                if to > seq {
                    tracing::warn!(page, lost = to - seq, "webhook events lost: the page's log moved past them");
                }
                seq = to;
            }
            Poll::Hold { .. } | Poll::Handshake { .. } => {
                tokio::select! {
                    changed = wake.changed() => if changed.is_err() { return },
                    () = hook.verify.notified() => verify(&hook, &http).await,
                }
            }
        }
    }
}

/// Verifies until the webhook answers the challenge (or forever).
async fn verify(hook: &PageHook, http: &HttpClient) {
    let mut wait = BACKOFF.0;
    loop {
        hook.set(HookState::Verifying);
        match try_verify(hook, http).await {
            Ok(()) => {
                hook.set(HookState::Subscribed);
                return;
            }
            Err(reason) => {
                hook.set(HookState::VerifyFailed { reason, retry_in: wait });
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = hook.verify.notified() => {}
                }
                wait = (wait * 2).min(BACKOFF.1);
            }
        }
    }
}

async fn try_verify(hook: &PageHook, http: &HttpClient) -> Result<(), String> {
    let challenge = SmallRng::from_os_rng().random::<u32>().to_string();
    let mut url = hook.url.clone();
    url.query_pairs_mut()
        .append_pair("hub.mode", "subscribe")
        .append_pair("hub.verify_token", hook.page.verify_token.as_deref().unwrap_or_default())
        .append_pair("hub.challenge", &challenge);
    // The error names the webhook, not the query (its token and challenge).
    let response = http.get(&url).await.map_err(|e| e.to_string().replace(url.as_str(), hook.url.as_str()))?;
    let body = response.text();
    if response.status != 200 {
        return Err(format!("HTTP {}", response.status));
    }
    if body != challenge {
        let shown: String = body.chars().take(40).flat_map(char::escape_default).collect();
        return Err(format!("the answer {shown:?} is not the challenge"));
    }
    Ok(())
}

/// Posts one event until the bot takes it.
async fn deliver(hook: &PageHook, http: &HttpClient, emulator: &Emulator, mut messaging: Messaging, seq: i64) {
    if let Some(message) = &mut messaging.message {
        message.seq = Some(seq);
    }
    let time = emulator.with_chat(|chat, now| chat.unix_ms(now));
    let body = serde_json::to_vec(&WebhookPayload::page(hook.page.id, time, vec![messaging])).unwrap_or_default();
    let mut headers = Vec::new();
    if let Some(secret) = &hook.page.app_secret {
        headers.push(("x-hub-signature", signature_sha1(secret, &body)));
        headers.push(("x-hub-signature-256", signature_sha256(secret, &body)));
    }
    let mut wait = BACKOFF.0;
    loop {
        let reason = match http.post(&hook.url, "application/json", body.clone(), &headers).await {
            Ok(response) if (200..300).contains(&response.status) => {
                if *hook.state.borrow() != HookState::Subscribed {
                    hook.set(HookState::Subscribed);
                }
                return;
            }
            Ok(response) => format!("HTTP {}", response.status),
            Err(err) => err.to_string(),
        };
        hook.set(HookState::Retrying { reason, retry_in: wait });
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = hook.verify.notified() => verify(hook, http).await,
        }
        wait = (wait * 2).min(BACKOFF.1);
    }
}

/// What the webhook gets for an event of the page's log: messages from
/// users, their reads and deliveries (not the page's own messages, not
/// typing).
fn messaging(page: u64, event: &ChatEvent) -> Option<Messaging> {
    let (user, timestamp) = match event {
        ChatEvent::Message(m) if m.to == page && m.from != page => (m.from, m.time_ms),
        ChatEvent::Read { reader, at_ms, .. } | ChatEvent::Delivered { reader, at_ms, .. } => (*reader, *at_ms),
        _ => return None,
    };
    let mut messaging = Messaging {
        sender: Id::new(psid(user, page)),
        recipient: Id::new(page),
        timestamp,
        message: None,
        delivery: None,
        read: None,
    };
    match event {
        ChatEvent::Message(m) => {
            messaging.message =
                Some(ReceivedMessage { mid: mid(m), seq: None, text: Some(m.text.clone()), quick_reply: None })
        }
        ChatEvent::Read { watermark_ms, .. } => messaging.read = Some(Read { watermark: *watermark_ms, seq: 0 }),
        ChatEvent::Delivered { watermark_ms, .. } => {
            messaging.delivery = Some(Delivery { mids: Vec::new(), watermark: *watermark_ms, seq: 0 })
        }
        ChatEvent::Typing { .. } => return None,
    }
    Some(messaging)
}
