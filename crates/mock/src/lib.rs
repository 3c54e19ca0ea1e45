//! fbcomet's servers for the Facebook Chat Comet protocol.
//!
//! Emulation: [`EmulatorServer`] serves the chat service of
//! `fbcomet-chat` (a core without IO that holds every rule: logins,
//! seq-numbered logs with their window, presence, history, dedup) through a
//! front door per dialect, each in its own module under `emulator/`: the
//! 2008 www pages, ajax posts and channel poll (`door_2008`), and `/pull`
//! (`door_pull`). Users of every door meet in the one service.
//!
//! Recording: [`RecordServer`] forwards to any server of the protocol and
//! keeps what passes through as a [`Recording`], real holds included.
//!
//! Replay: [`ReplayServer`] plays a captured session (a [`Recording`] fixture)
//! back the way the real service behaved. Requests are matched in order per
//! logical stream (channel polls apart from pages and posts), ignoring what
//! clients randomise; each answer is held as long as it was recorded
//! (scaled by a speed factor), sent in its recorded chunks, and failed the
//! way the fixture says or at random from a seed. At the end, a [`Report`]
//! says which exchanges were used, which were not, and which requests
//! matched nothing and why.
//!
//! The server underneath ([`Server`]) serves plain requests and proxy-form
//! ones (`GET http://0.channel06.facebook.com/x/...`), so an old client
//! configured with fbcomet as its HTTP proxy works unchanged. It has one
//! way to hold a request, for a time ([`Reply::hold`]) or until what the
//! handler waits on is ready ([`Reply::until`]), and [`Server::shutdown`]
//! alone releases every hold at once; a client that goes away unregisters its
//! hold; request headers have a read timeout and bodies a size limit (413);
//! a panic in a handler is a 500, not a dead server. Replay and the
//! emulator share one fault model ([`Fault`], [`RandomFaults`],
//! [`FaultAction`]).
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

mod emulator;
mod fault;
mod limits;
mod matching;
mod recorder;
mod recording;
mod replay;
mod reply;
mod request;
mod server;
mod tap;
pub mod tls;
pub mod xmpp;

pub use emulator::{Emulator, EmulatorConfig, EmulatorServer, EmulatorStats, HookState, PageHook, page_scoped_id};
pub use fault::{Fault, FaultAction, FaultKind, RandomFaults};
pub use fbcomet_chat::{Page, User, World, WorldError};
pub use matching::{ANY, DEFAULT_IGNORED, Stream, differences, host_class, stream_of};
pub use recorder::{RecordServer, Recorder};
pub use recording::{Chunk, Dialect, Exchange, Recording, RecordingError, RequestSpec, ResponseSpec};
pub use replay::{
    ExchangeRef, Fallback, Mode, Replay, ReplayConfig, ReplayServer, Report, UNMATCHED_SAMPLE, Unmatched,
};
pub use reply::{Reply, ReplyBody, Wait};
pub use request::Request;
pub use server::{Handler, Server, ServerConfig, TraceFn, Traced};
pub use tap::{Observer, Tap};
