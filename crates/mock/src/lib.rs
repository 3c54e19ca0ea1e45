//! fbcomet's servers, in one crate: the HTTP server ([`fbcomet_server`]),
//! record and replay ([`fbcomet_replay`]) and the emulated chat service with
//! its doors, XMPP among them ([`fbcomet_emulator`]). Each is a crate of its
//! own; this one gathers their public items under one name for tools that
//! use them all (the CLI, the bench, the tests).
//!
//! # Example: a replay server in a test
//!
//! ```
//! use fbcomet_mock::{ReplayConfig, ReplayServer, Recording};
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let session = Recording::parse(r#"{
//!     "name": "one-refresh", "dialect": "channel", "uid": 1001, "channel": 7,
//!     "exchanges": [{
//!         "request": {"host": "0.channel07.facebook.com", "path": "/x/{ANY}/false/p_1001=-1"},
//!         "response": {"body": "for (;;);{\"t\":\"refresh\",\"seq\":0}"}
//!     }]
//! }"#, "inline")?;
//! let server = ReplayServer::start(session, ReplayConfig::default().speed(0.0)).await?;
//!
//! // Any HTTP client will do; here, by hand, in proxy form.
//! let mut tcp = tokio::net::TcpStream::connect(server.addr()).await?;
//! tcp.write_all(b"GET http://0.channel07.facebook.com/x/1209557234/false/p_1001=-1 HTTP/1.1\r\n\
//!                 Host: 0.channel07.facebook.com\r\nConnection: close\r\n\r\n").await?;
//! let mut answer = String::new();
//! tcp.read_to_string(&mut answer).await?;
//! assert!(answer.ends_with("for (;;);{\"t\":\"refresh\",\"seq\":0}"));
//!
//! let report = server.shutdown().await;
//! assert!(report.is_clean(), "{report}");
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

pub use fbcomet_chat::{Page, User, World, WorldError};
pub use fbcomet_emulator::{
    Emulator, EmulatorConfig, EmulatorServer, EmulatorStats, HookState, PageHook, page_scoped_id, xmpp,
};
pub use fbcomet_replay::*;
pub use fbcomet_server::{
    Fault, FaultAction, FaultKind, Handler, Observer, RandomFaults, Reply, ReplyBody, Request, Server, ServerConfig,
    Tap, TraceFn, Traced, Wait, tls,
};
