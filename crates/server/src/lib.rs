//! fbcomet's HTTP/1 server, shared by replay and the emulator.
//!
//! [`Server`] serves plain requests and proxy-form ones (`GET
//! http://0.channel06.facebook.com/x/...`), so an old client configured with
//! fbcomet as its HTTP proxy works unchanged. It has one way to hold a
//! request, for a time ([`Reply::hold`]) or until what the handler waits on
//! is ready ([`Reply::until`]), and [`Server::shutdown`] alone releases
//! every hold at once; a client that goes away unregisters its hold;
//! request headers have a read timeout and bodies a size limit (413);
//! connections are capped in total and per address; a panic in a handler
//! is a 500, not a dead server. Replay and the emulator share its fault
//! model ([`Fault`], [`RandomFaults`], [`FaultAction`]), and [`tls`] is
//! fbcomet's certificate authority.
//!
//! # Example
//!
//! ```
//! use std::net::SocketAddr;
//! use std::sync::Arc;
//! use fbcomet_server::{Handler, Reply, Request, Server, ServerConfig};
//!
//! struct Hello;
//! impl Handler for Hello {
//!     async fn handle(&self, request: Request) -> Reply {
//!         Reply::ok(format!("hello from {}", request.path))
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! let addr = SocketAddr::from(([127, 0, 0, 1], 0));
//! let server = Server::bind(addr, Arc::new(Hello), ServerConfig::default()).await?;
//! println!("serving on {}", server.url());
//! server.shutdown().await;
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod fault;
mod limits;
mod reply;
mod request;
mod server;
mod tap;
pub mod tls;

pub use fault::{Fault, FaultAction, FaultKind, RandomFaults, random_fault};
pub use reply::{Reply, ReplyBody, Wait};
pub use request::{Request, is_local_host, parse_pairs};
pub use server::{Handler, Server, ServerConfig, TraceFn, Traced};
pub use tap::{Observer, Tap};
