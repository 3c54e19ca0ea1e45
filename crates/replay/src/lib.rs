//! Recording and replay of captured Facebook Chat sessions.
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
//! # Example: a replay server in a test
//!
//! ```
//! use fbcomet_replay::{ReplayConfig, ReplayServer, Recording};
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

mod matching;
mod recorder;
mod recording;
mod replay;

pub use matching::{ANY, DEFAULT_IGNORED, Stream, differences, host_class, stream_of};
pub use recorder::{RecordServer, Recorder};
pub use recording::{Chunk, Dialect, Exchange, Recording, RecordingError, RequestSpec, ResponseSpec};
pub use replay::{
    ExchangeRef, Fallback, Mode, Replay, ReplayConfig, ReplayServer, Report, UNMATCHED_SAMPLE, Unmatched,
};
