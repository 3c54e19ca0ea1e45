//! The Messenger Platform of 2016 as typed values, for bots and for the
//! server that plays Facebook's side.
//!
//! - [`webhook`]: what Facebook posted to a page's webhook
//!   ([`WebhookPayload`]: messages, deliveries, reads, from page-scoped
//!   ids), its `X-Hub-Signature` / `X-Hub-Signature-256` signatures, and the
//!   `hub.challenge` verification.
//! - [`send_api`]: the Send API's requests ([`SendRequest`]: text, quick
//!   replies, `sender_action`), answers and Graph errors, and [`SendApi`],
//!   a client for one page.
//! - [`bot`]: a webhook served for a bot: verification answered,
//!   signatures checked, events handed over in order.
//!
//! fbcomet's emulator (`fbcomet-mock`) uses the same types to call
//! webhooks and to answer the Send API on graph.facebook.com, so a bot
//! runs against it unchanged.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use fbcomet_http::{HttpClient, HttpConfig};
//! use fbcomet_platform::bot::{WebhookConfig, serve_webhook};
//! use fbcomet_platform::SendApi;
//!
//! // Through fbcomet serve as the HTTPS proxy, trusting its CA.
//! let http = HttpClient::new(HttpConfig {
//!     proxy: Some("http://127.0.0.1:8008".parse()?),
//!     ..HttpConfig::default()
//! }.trust_pem(&std::fs::read_to_string("ca.pem")?)?);
//! let api = SendApi::new(http, &"https://graph.facebook.com".parse()?, "v2.6", "PAGE_TOKEN");
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:5000").await?;
//! let config = WebhookConfig { verify_token: "VERIFY".into(), app_secret: Some("SECRET".into()) };
//! serve_webhook(listener, config, move |event| {
//!     let api = api.clone();
//!     async move {
//!         if let Some(text) = event.message.and_then(|m| m.text) {
//!             let _ = api.send_text(&event.sender.id, &format!("You said: {text}")).await;
//!         }
//!     }
//! })
//! .await?;
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

pub mod bot;
pub mod send_api;
pub mod webhook;

pub use send_api::{
    GraphError, GraphErrorBody, OutgoingMessage, QuickReply, Recipient, SendApi, SendApiError, SendRequest,
    SendResponse,
};
pub use webhook::{
    Delivery, Entry, Id, Messaging, QuickReplyPayload, Read, ReceivedMessage, WebhookPayload, signature_sha1,
    signature_sha256, verification_answer, verify_signature,
};
