//! Calling pages' webhooks, as Facebook did for Messenger Platform bots.
//!
//! Each page with a webhook has a task of its own, so a slow or broken bot
//! holds up nothing but its own page. The task first verifies the webhook
//! (`GET webhook?hub.mode=subscribe&hub.verify_token=..&hub.challenge=N`;
//! subscribed only when the answer is exactly N), retrying with backoff
//! until it is, and again whenever asked ([`Emulator::verify_page`](super::Emulator::verify_page)). Then
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

use fbcomet_chat::{Answer, ChatEvent, Read as LogRead};
use fbcomet_http::{HttpClient, HttpConfig};
use fbcomet_platform::{
    Delivery, Id, Messaging, Read, ReceivedMessage, WebhookPayload, signature_sha1, signature_sha256,
};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::graph::psid;
use super::hooks::{HookState, PageHook};
use super::shell::Emulator;
use super::wire::mid;

/// How long a bot has to answer a post or a verification.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(20);
/// The first retry's wait, and the longest.
const BACKOFF: (Duration, Duration) = (Duration::from_secs(1), Duration::from_secs(60));

/// The HTTP client webhooks are called with.
pub(crate) fn client() -> HttpClient {
    HttpClient::new(HttpConfig { request_timeout: ANSWER_TIMEOUT, ..HttpConfig::default() })
}

/// The task of one page's webhook: a subscription to the page's log whose
/// cursor the store keeps, resumed after each batch is delivered; runs
/// until the service stops or the task is dropped.
pub(crate) async fn run(emulator: Arc<Emulator>, hook: Arc<PageHook>, http: HttpClient) {
    let page = hook.page.id;
    let cursor = format!("webhook:{page}");
    let subscribed = emulator.subscribe(|chat, now| chat.subscribe(page, None, Some(&cursor), now));
    let Ok(mut events) = subscribed else {
        tracing::warn!(page, "webhook not called: the page's log cannot be followed");
        return;
    };
    let mut expected: Option<i64> = None;
    verify(&hook, &http).await;
    loop {
        tokio::select! {
            answer = events.next() => match answer {
                Answer::Read(LogRead::Events { events: batch, from, next }) => {
                    for (i, event) in batch.iter().enumerate() {
                        if let Some(messaging) = messaging(page, event) {
                            deliver(&hook, &http, &emulator, messaging, from + i as i64).await;
                        }
                    }
                    expected = Some(next);
                    events.resume();
                }
                Answer::Read(LogRead::Refresh { seq }) => {
                    if let Some(lost) = expected.map(|e| seq - e).filter(|&n| n > 0) {
                        tracing::warn!(page, lost, "webhook events lost: the page's log moved past them");
                    }
                    expected = Some(seq);
                    events.resume();
                }
                Answer::Ended(_) => return,
            },
            () = hook.verify.notified() => verify(&hook, &http).await,
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
                if *hook.state().borrow() != HookState::Subscribed {
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
