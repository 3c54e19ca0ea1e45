//! Pages' webhooks as the emulator keeps them: each page's URL and where
//! its webhook stands, shared by the page's task ([`webhook`](super::webhook))
//! and the service page.

use std::sync::Arc;
use std::time::Duration;

use fbcomet_chat::Page;
use tokio::sync::{Notify, watch};
use url::Url;

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
    /// Asks the webhook's task to verify again.
    pub(super) verify: Notify,
}

impl PageHook {
    /// The current state, and changes to come.
    pub fn state(&self) -> watch::Receiver<HookState> {
        self.state.subscribe()
    }

    pub(super) fn set(&self, state: HookState) {
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
