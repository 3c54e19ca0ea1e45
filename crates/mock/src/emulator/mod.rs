//! The emulator: the chat core of `fbcomet-chat` served over HTTP, with a
//! front door for each dialect.
//!
//! The core holds every rule of the service; this module is the IO around
//! it: one lock, the clock, holding polls until the core wakes them, fault
//! injection on polls, and the routing table that sends each request to its
//! front door. A front door turns its dialect's requests into core calls
//! and the core's answers into its dialect's bodies, and never reaches into
//! another door:
//!
//! - [`door_2008`]: the 2008 www pages (login.php, home.php, logout.php),
//!   the ajax posts, and the channel poll `/x/.../p_UID=SEQ`;
//! - [`door_web`] and [`door_pull`]: the 2013-2018 endpoints of fbchat and
//!   the web clients (`/messaging/send/`, `/chat/user_info/`, the mercury
//!   thread list, `/api/graphqlbatch/`, `/active_ping`) and `/pull`, with
//!   its `lb` handshake and deltas.
//!
//! - [`graph`] and [`webhook`]: the Messenger Platform (2016): the Send
//!   API on graph.facebook.com, and each page's webhook, verified and
//!   called with the users' messages.
//!
//! What they write alike (events, error envelopes) is in `wire`.

mod door_2008;
mod door_pull;
mod door_web;
pub(crate) mod graph;
mod hooks;
mod pages;
mod service_page;
mod shell;
mod webhook;
mod wire;

pub use graph::psid as page_scoped_id;
pub use hooks::{HookState, PageHook};
pub(crate) use shell::Waiting;
pub use shell::{Emulator, EmulatorConfig, EmulatorStats};

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use fbcomet_chat::World;
use fbcomet_codec::ChatHost;

use crate::reply::Reply;
use crate::request::{Request, is_local_host};
use crate::server::{Handler, Server, ServerConfig};
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
        return Reply::text(404, format!("fbcomet: no page at {}\n", req.path));
    };
    if let Some(name) = door.name {
        emulator.note(name, req);
    }
    (door.answer)(emulator, req)
}

impl Handler for Arc<Emulator> {
    async fn handle(&self, request: Request) -> Reply {
        route(self, &request)
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
