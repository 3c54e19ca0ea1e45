//! The emulated Facebook chat service: the core of `fbcomet-chat` served
//! over HTTP and XMPP, with a front door for each generation of clients.
//!
//! The core holds every rule of the service, its holds and subscriptions
//! included. Around it, the shell (`shell.rs`) is the IO: one lock, the
//! clock (tokio's, so tests can pause it), one timer on the core's
//! `poll_timeout`, the map from each hold to the connection waiting on it,
//! fault injection on polls. Requests go to the first door of a table that
//! serves them; a door turns its dialect's requests into core calls and the
//! core's answers into its dialect's bodies, and imports neither the table
//! nor another door (what they write alike is in `wire.rs`):
//!
//! - `door_2008.rs`: the 2008 www pages (login.php, home.php, logout.php),
//!   the ajax posts, and the channel poll `/x/.../p_UID=SEQ`;
//! - `door_web.rs` and `door_pull.rs`: the 2013-2018 endpoints of fbchat and
//!   the web clients (`/messaging/send/`, `/chat/user_info/`, the mercury
//!   thread list, `/api/graphqlbatch/`, `/active_ping`) and `/pull`, with
//!   its `lb` handshake and deltas;
//! - `graph.rs` and `webhook.rs`: the Messenger Platform (2016): the Send
//!   API on graph.facebook.com, and each page's webhook, a subscription to
//!   the page's log with a cursor kept in the store;
//! - [`xmpp`]: chat.facebook.com (2010-2015), each session a subscription;
//! - `service_page.rs`: fbcomet's own pages (the service page, counters).
//!
//! # Example
//!
//! ```
//! use fbcomet_chat::World;
//! use fbcomet_emulator::{EmulatorConfig, EmulatorServer};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! let server = EmulatorServer::start(&World::default(), EmulatorConfig::default()).await?;
//! println!("the chat service is at {}", server.url());
//! assert!(!server.emulator().is_online(1001), "nobody has polled yet");
//! server.shutdown().await;
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod door_2008;
mod door_pull;
mod door_web;
pub(crate) mod graph;
mod hooks;
mod pages;
mod service_page;
mod shell;
#[cfg(test)]
mod testing;
mod webhook;
mod wire;
pub mod xmpp;

pub use graph::psid as page_scoped_id;
pub use hooks::{HookState, PageHook};
pub use shell::{Emulator, EmulatorConfig, EmulatorStats};

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use fbcomet_chat::World;
use fbcomet_codec::ChatHost;

use fbcomet_server::{Handler, Reply, Request, Server, ServerConfig, is_local_host};
use shell::Door;

/// Every front door, in the order a request is offered to them: the first
/// that serves it answers.
const DOORS: &[Door] =
    &[graph::DOOR, service_page::DOOR, door_pull::DOOR, door_web::DOOR, door_2008::CHANNEL, door_2008::WWW];

/// The door a request is for, and its answer.
fn route(emulator: &Arc<Emulator>, req: &Request) -> Reply {
    let host = req.host.as_deref().and_then(ChatHost::parse);
    if req.proxy_form
        && let Some(name) = &req.host
        && !is_local_host(name)
        && host.is_none()
    {
        return Reply::text(502, format!("fbcomet serves the chat service's hosts only, not {name}\n"));
    }
    let Some(door) = DOORS.iter().find(|d| (d.serves)(req, host.as_ref())) else {
        return wire::not_found(req);
    };
    if let Some(name) = door.name {
        emulator.note(name, req);
    }
    (door.answer)(emulator, req)
}

impl Handler for Emulator {
    async fn handle(&self, request: Request) -> Reply {
        match self.shared() {
            Some(emulator) => route(&emulator, &request),
            None => Reply::text(503, "fbcomet: the emulator is stopping\n"),
        }
    }
}

/// The emulator served over HTTP.
pub struct EmulatorServer {
    server: Server,
    emulator: Arc<Emulator>,
    webhooks: Vec<tokio::task::JoinHandle<()>>,
}

impl EmulatorServer {
    /// Serves `world` on a port of 127.0.0.1 that the OS picks.
    pub async fn start(world: &World, config: EmulatorConfig) -> io::Result<Self> {
        Self::bind(SocketAddr::from(([127, 0, 0, 1], 0)), world, config, ServerConfig::default()).await
    }

    /// Serves `world` on `addr`.
    pub async fn bind(
        addr: SocketAddr,
        world: &World,
        config: EmulatorConfig,
        server: ServerConfig,
    ) -> io::Result<Self> {
        // A webhook that is not a URL is refused before anything is served.
        hooks::hooks(&world.pages).map_err(|err| io::Error::new(io::ErrorKind::InvalidInput, err))?;
        let emulator = Emulator::new(world, config);
        let server = Server::bind(addr, Arc::new(emulator.clone()), server).await?;
        let http = webhook::client();
        let webhooks = emulator
            .page_hooks()
            .iter()
            .map(|hook| tokio::spawn(webhook::run(emulator.clone(), hook.clone(), http.clone())))
            .collect();
        Ok(Self { server, emulator, webhooks })
    }

    /// The address served on.
    pub fn addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// `http://ADDR`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// The HTTP server underneath, for its connection counters.
    pub fn server(&self) -> &Server {
        &self.server
    }

    /// The service, for its counters and state.
    pub fn emulator(&self) -> &Arc<Emulator> {
        &self.emulator
    }

    /// Stops the server; every held poll is answered at once, every XMPP
    /// session ends, and the webhooks are called no more.
    pub async fn shutdown(self) {
        self.emulator.shutdown();
        for task in &self.webhooks {
            task.abort();
        }
        self.server.shutdown().await;
    }
}
