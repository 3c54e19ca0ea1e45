//! The HTTP/1 server every fbcomet server mode runs on.
//!
//! It owns what the modes share: plain and proxy-form requests, one way to
//! hold a request (for a time, or until what the handler waits on is ready)
//! that a shutdown releases at once, handlers that are dropped when their client
//! goes away, a header read timeout, a request body limit, faults acted out
//! on the wire (down to a TCP reset), and a panic in a handler answered with
//! a 500 instead of taking the server down. Held requests cost a timer and a
//! small future each, not a thread.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::fault::FaultAction;
use crate::limits::{Admission, Caps, Conn, Registry};
use crate::reply::{Reply, ReplyBody};
use crate::request::Request;

/// Something that answers requests: the replay, the emulator.
pub trait Handler: Send + Sync + 'static {
    /// Answers one request. The server holds the reply for its `hold`,
    /// acts out its fault, and sends it.
    fn handle(&self, request: Request) -> impl Future<Output = Reply> + Send;
}

/// A shared handler is a handler.
impl<H: Handler> Handler for Arc<H> {
    fn handle(&self, request: Request) -> impl Future<Output = Reply> + Send {
        H::handle(self, request)
    }
}

/// One exchange, as a trace sees it: the request, and the answer as it
/// goes out (after its hold).
#[derive(Debug)]
pub struct Traced<'a> {
    /// When the request came in.
    pub at: std::time::SystemTime,
    /// Who sent it.
    pub remote: SocketAddr,
    /// `GET`, `POST`, ...
    pub method: &'a str,
    /// The host the client addressed.
    pub host: Option<&'a str>,
    /// The path and query.
    pub target: &'a str,
    /// The answer's status.
    pub status: u16,
    /// How long the answer was held (from the request to the answer).
    pub held: Duration,
    /// The answer's body.
    pub body: &'a [u8],
    /// The fault acted out, if any.
    pub fault: Option<&'a FaultAction>,
}

/// What a server calls with every exchange it answers (`--trace`).
#[derive(Clone)]
pub struct TraceFn(pub Arc<dyn Fn(&Traced<'_>) + Send + Sync>);

impl std::fmt::Debug for TraceFn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TraceFn")
    }
}

/// Limits and timeouts of the server (`SECURITY.md` says why each).
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// How long a client may take to send its request headers.
    pub header_read_timeout: Duration,
    /// How long a client may take to send its request body, once the
    /// headers are in; slower ones get 408 and the connection closes.
    pub body_timeout: Duration,
    /// The largest request body accepted; larger ones get 413 (before any
    /// `100 Continue`).
    pub max_body: usize,
    /// Connections open at once; past it the oldest idle one is closed
    /// (and a newcomer refused when none is idle).
    pub max_connections: usize,
    /// Connections open at once from one address, the same way.
    pub max_connections_per_address: usize,
    /// How long a shutdown waits for connections to finish their answers.
    pub shutdown_grace: Duration,
    /// Called with every exchange answered, if set.
    pub trace: Option<TraceFn>,
    /// TLS with certificates of fbcomet's CA ([`crate::tls::Authority`]):
    /// when set, `CONNECT host:443` is answered 200 and the tunnel served
    /// as HTTPS (clients with fbcomet as their HTTPS proxy); without it,
    /// CONNECT gets 405.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// How long a TLS handshake may take.
    pub tls_handshake_timeout: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            max_body: 1 << 20,
            max_connections: 2048,
            max_connections_per_address: 256,
            shutdown_grace: Duration::from_secs(5),
            trace: None,
            tls: None,
            tls_handshake_timeout: Duration::from_secs(10),
        }
    }
}

/// A running server. Dropping it stops it at once; [`Server::shutdown`]
/// stops it gracefully.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
    registry: Arc<Registry>,
    failed: Arc<AtomicU64>,
    tls: bool,
}

impl Server {
    /// Binds `addr` (port 0 for one the OS picks) and serves `handler`.
    pub async fn bind<H: Handler>(addr: SocketAddr, handler: Arc<H>, config: ServerConfig) -> io::Result<Server> {
        Self::start(addr, handler, config, false).await
    }

    /// Binds `addr` and serves `handler` over TLS only (clients pointed at
    /// the server directly with `https://`), with `config.tls`.
    pub async fn bind_tls<H: Handler>(addr: SocketAddr, handler: Arc<H>, config: ServerConfig) -> io::Result<Server> {
        if config.tls.is_none() {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "a TLS listener needs ServerConfig::tls"));
        }
        Self::start(addr, handler, config, true).await
    }

    async fn start<H: Handler>(
        addr: SocketAddr,
        handler: Arc<H>,
        config: ServerConfig,
        tls: bool,
    ) -> io::Result<Server> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (shutdown, shutdown_rx) = watch::channel(false);
        let registry = Arc::new(Registry::default());
        let failed = Arc::new(AtomicU64::new(0));
        let shared = Shared {
            handler,
            config: Arc::new(config),
            registry: registry.clone(),
            failed: failed.clone(),
            live: Arc::new(()),
        };
        let task = tokio::spawn(accept_loop(listener, shared, shutdown_rx, tls));
        Ok(Server { addr, shutdown, task: Some(task), registry, failed, tls })
    }

    /// Answers the server failed to give: a handler that panicked, or a
    /// reply whose status is not an answer's (each was a 500).
    pub fn failed_answers(&self) -> usize {
        self.failed.load(Ordering::Relaxed) as usize
    }

    /// Connections open now, shed to make room, and refused, so far.
    pub fn connections(&self) -> (usize, usize, usize) {
        (self.registry.open(), self.registry.shed(), self.registry.refused())
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR` (`https://ADDR` for a TLS listener): the base URL to
    /// point a client at, or its proxy.
    pub fn url(&self) -> String {
        format!("{}://{}", if self.tls { "https" } else { "http" }, self.addr)
    }

    /// Stops accepting, releases every held request at once, and waits (up
    /// to the configured grace) for answers under way to finish.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// What every connection of a server shares.
struct Shared<H> {
    handler: Arc<H>,
    config: Arc<ServerConfig>,
    registry: Arc<Registry>,
    failed: Arc<AtomicU64>,
    /// Held by every connection's task: a shutdown waits until it is the
    /// last.
    live: Arc<()>,
}

impl<H> Clone for Shared<H> {
    fn clone(&self) -> Self {
        Self {
            handler: self.handler.clone(),
            config: self.config.clone(),
            registry: self.registry.clone(),
            failed: self.failed.clone(),
            live: self.live.clone(),
        }
    }
}

async fn accept_loop<H: Handler>(
    listener: TcpListener,
    shared: Shared<H>,
    mut shutdown: watch::Receiver<bool>,
    tls: bool,
) {
    let (config, registry) = (shared.config.clone(), shared.registry.clone());
    let caps = Caps { total: config.max_connections, per_address: config.max_connections_per_address };
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, remote) = match accepted {
                    Ok(accepted) => accepted,
                    Err(err) => {
                        // Out of descriptors and the like: wait, then go on.
                        tracing::warn!(%err, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let conn_entry = match registry.admit(remote.ip(), caps) {
                    Admission::Admitted(conn) => conn,
                    Admission::Refused => {
                        tracing::warn!(%remote, "connection refused: every connection is busy and the cap is reached");
                        continue; // dropping the stream closes it
                    }
                };
                let _ = stream.set_nodelay(true);
                let ctl = Arc::new(ConnCtl { conn: Some(conn_entry), ..ConnCtl::default() });
                let io = ResetIo { inner: stream, ctl: ctl.clone() };
                let (shared, shutdown) = (shared.clone(), shutdown.clone());
                match (tls, shared.config.tls.clone()) {
                    (true, Some(tls)) => {
                        tokio::spawn(async move {
                            if let Some(io) = handshake(tls, io, &shared.config, remote).await {
                                serve_http(io, shared, ctl, shutdown, remote).await;
                            }
                        });
                    }
                    _ => {
                        tokio::spawn(serve_http(io, shared, ctl, shutdown, remote));
                    }
                }
            }
            _ = shutdown.changed() => break,
        }
    }
    drop(listener);
    // Every connection's task holds a clone of `live`: wait (up to the
    // grace) until they are gone.
    let live = shared.live.clone();
    drop(shared);
    let grace = tokio::time::Instant::now() + config.shutdown_grace;
    while Arc::strong_count(&live) > 1 && tokio::time::Instant::now() < grace {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A TLS handshake on `io`, bounded in time; `None` (and a log line) when
/// it fails: garbage, a client that rejects the certificate, silence.
async fn handshake<I>(
    tls: Arc<rustls::ServerConfig>,
    io: I,
    config: &ServerConfig,
    remote: SocketAddr,
) -> Option<tokio_rustls::server::TlsStream<I>>
where
    I: AsyncRead + AsyncWrite + Unpin,
{
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    match tokio::time::timeout(config.tls_handshake_timeout, acceptor.accept(io)).await {
        Ok(Ok(stream)) => Some(stream),
        Ok(Err(err)) => {
            tracing::info!(%remote, %err, "TLS handshake failed");
            None
        }
        Err(_) => {
            tracing::info!(%remote, "TLS handshake took too long");
            None
        }
    }
}

/// Serves HTTP/1.1 on one connection (or TLS tunnel) until it ends, is
/// shed, or the server shuts down (then gracefully, within the grace).
async fn serve_http<H, I>(
    io: I,
    shared: Shared<H>,
    ctl: Arc<ConnCtl>,
    mut shutdown: watch::Receiver<bool>,
    remote: SocketAddr,
) where
    H: Handler,
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let config = shared.config.clone();
    let entry = ctl.conn.clone();
    let live = shared.live.clone();
    let (service_ctl, service_shutdown) = (ctl.clone(), shutdown.clone());
    let service =
        service_fn(move |req| serve(req, shared.clone(), service_ctl.clone(), service_shutdown.clone(), remote));
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout)
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    tokio::pin!(conn);
    let shed = async {
        match &entry {
            Some(entry) => entry.shed.notified().await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        ended = conn.as_mut() => if let Err(err) = ended {
            tracing::debug!(%err, %remote, "connection ended with an error");
        },
        () = shed => tracing::debug!(%remote, "idle connection shed"),
        () = until_true(&mut shutdown) => {
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(config.shutdown_grace, conn).await;
        }
    }
    drop(live);
}

/// Resolves once `flag` is (or becomes) true; never if its sender goes.
async fn until_true(flag: &mut watch::Receiver<bool>) {
    loop {
        if *flag.borrow_and_update() {
            return;
        }
        if flag.changed().await.is_err() {
            return std::future::pending().await;
        }
    }
}

/// `CONNECT host:443`: answered 200, then the tunnel is served as HTTPS
/// with a certificate for `host` from fbcomet's CA. Other ports are
/// refused: fbcomet is the chat service, not a general proxy.
fn tunnel<H: Handler>(
    req: hyper::Request<Incoming>,
    shared: Shared<H>,
    ctl: Arc<ConnCtl>,
    shutdown: watch::Receiver<bool>,
    remote: SocketAddr,
) -> ResponseResult {
    let Some(tls) = shared.config.tls.clone() else {
        return Ok(plain(
            405,
            "fbcomet serves plain HTTP here; for https through a proxy (CONNECT) start it with TLS (a CA directory)\n",
        ));
    };
    let authority = req.uri().authority().map(|a| (a.host().to_owned(), a.port_u16().unwrap_or(443)));
    let Some((host, 443)) = authority else {
        tracing::info!(%remote, target = %req.uri(), "CONNECT refused: fbcomet tunnels to port 443 only");
        return Ok(plain(403, "fbcomet tunnels to the chat service's hosts on port 443 only\n"));
    };
    let upgrade = hyper::upgrade::on(req);
    tokio::spawn(async move {
        let upgraded = match upgrade.await {
            Ok(upgraded) => upgraded,
            Err(err) => {
                tracing::debug!(%remote, %err, "CONNECT: the tunnel never opened");
                return;
            }
        };
        let config = shared.config.clone();
        if let Some(io) = handshake(tls, TokioIo::new(upgraded), &config, remote).await {
            tracing::debug!(%remote, host, "CONNECT: serving the tunnel as HTTPS");
            serve_http(io, shared, ctl, shutdown, remote).await;
        }
    });
    Ok(hyper::Response::new(ReplyHttpBody::full(Bytes::new())))
}

/// Runs `on_abandon` when dropped armed: the client went away first.
struct AbandonGuard(Option<Box<dyn FnOnce() + Send>>);

impl Drop for AbandonGuard {
    fn drop(&mut self) {
        if let Some(f) = self.0.take() {
            f();
        }
    }
}

/// A future that resolves to `None` instead of unwinding when the inner
/// one panics (the handlers' panics stay in their request).
struct CatchUnwind<F>(F);

impl<F: Future + Unpin> Future for CatchUnwind<F> {
    type Output = Option<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = &mut self.get_mut().0;
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| Pin::new(inner).poll(cx))) {
            Ok(Poll::Ready(out)) => Poll::Ready(Some(out)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(_) => Poll::Ready(None),
        }
    }
}

/// Aborts the task when the request's future is dropped.
struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

type ResponseResult = Result<hyper::Response<ReplyHttpBody>, io::Error>;

async fn serve<H: Handler>(
    req: hyper::Request<Incoming>,
    shared: Shared<H>,
    ctl: Arc<ConnCtl>,
    mut shutdown: watch::Receiver<bool>,
    remote: SocketAddr,
) -> ResponseResult {
    if req.method() == hyper::Method::CONNECT {
        return tunnel(req, shared, ctl, shutdown, remote);
    }
    let Shared { handler, config, failed, .. } = shared;
    let failure = |what: &str| {
        failed.fetch_add(1, Ordering::Relaxed);
        tracing::error!("{what}; answered 500");
        Ok(plain(500, "fbcomet: internal error\n"))
    };
    let (parts, body) = req.into_parts();
    let too_large = || Ok(plain(413, &format!("request body over {} bytes\n", config.max_body)));
    // A declared length over the limit is refused before reading a byte
    // (and so before hyper would send `100 Continue`).
    if body.size_hint().lower() > config.max_body as u64 {
        return too_large();
    }
    let collecting = http_body_util::Limited::new(body, config.max_body).collect();
    let body = match tokio::time::timeout(config.body_timeout, collecting).await {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(err)) if err.is::<http_body_util::LengthLimitError>() => return too_large(),
        Ok(Err(err)) => return Err(io::Error::other(err)),
        Err(_) => {
            tracing::debug!(%remote, "request body too slow");
            let mut answer = plain(408, "fbcomet: the request body took too long\n");
            answer.headers_mut().insert(hyper::header::CONNECTION, hyper::header::HeaderValue::from_static("close"));
            return Ok(answer);
        }
    };
    // From here the request is being answered: not idle, not to be shed.
    let _busy = ctl.conn.as_ref().map(|c| c.busy());
    let request = Request::from_http(&parts, body, Some(remote));
    drop(parts); // a held request keeps nothing it does not need
    // What a trace needs of the request, only when tracing.
    let traced = config.trace.as_ref().map(|_| {
        (
            std::time::SystemTime::now(),
            tokio::time::Instant::now(),
            request.method.clone(),
            request.host.clone(),
            request.target(),
        )
    });

    // A panic in the handler becomes a 500 for this request and nothing
    // more.
    let Some(mut reply) = CatchUnwind(Box::pin(handler.handle(request))).await else {
        return failure("a handler panicked");
    };
    let mut guard = AbandonGuard(reply.on_abandon.take());
    // A held answer: what it waits for, raced against shutdown (which sends
    // the reply as it stands) and the client leaving (which drops it); a
    // panic in it is a 500 as well.
    if let Some(wait) = reply.wait.take()
        && !*shutdown.borrow()
    {
        tokio::select! {
            done = CatchUnwind(wait) => match done {
                Some(mut done) => {
                    if let Some(f) = done.on_abandon.take() {
                        guard.0 = Some(f);
                    }
                    reply = done;
                }
                None => return failure("a held answer panicked"),
            },
            _ = shutdown.changed() => {}
        }
    }

    if !reply.hold.is_zero() && !*shutdown.borrow() {
        tokio::select! {
            _ = tokio::time::sleep(reply.hold) => {}
            _ = shutdown.changed() => {}
        }
    }
    if let Some(FaultAction::Delay(delay)) = reply.fault {
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = shutdown.changed() => {}
        }
    }
    guard.0 = None; // the answer goes out now: nothing to take back
    if !(200..=599).contains(&reply.status) {
        return failure(&format!("a reply with status {}, which is not an answer's", reply.status));
    }
    if let (Some(trace), Some((at, started, method, host, target))) = (&config.trace, &traced) {
        let body = reply.body.to_bytes();
        let status = match reply.fault {
            Some(FaultAction::Status(status)) => status,
            _ => reply.status,
        };
        (trace.0)(&Traced {
            at: *at,
            remote,
            method,
            host: host.as_deref(),
            target,
            status,
            held: started.elapsed(),
            body: &body,
            fault: reply.fault.as_ref(),
        });
    }
    respond(reply, ctl)
}

fn plain(status: u16, text: &str) -> hyper::Response<ReplyHttpBody> {
    let mut response = hyper::Response::new(ReplyHttpBody::full(Bytes::copy_from_slice(text.as_bytes())));
    *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    response
        .headers_mut()
        .insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"));
    response
}

fn respond(reply: Reply, ctl: Arc<ConnCtl>) -> ResponseResult {
    let status = match reply.fault {
        Some(FaultAction::Status(status)) => {
            let page = format!("<html><body><h1>{status}</h1>fbcomet: injected fault</body></html>\n");
            let mut response = hyper::Response::new(ReplyHttpBody::full(Bytes::from(page)));
            *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::BAD_GATEWAY);
            response
                .headers_mut()
                .insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static("text/html"));
            return Ok(response);
        }
        Some(FaultAction::ResetBeforeAnswer) => {
            ctl.reset.store(true, Ordering::SeqCst);
            return Err(io::Error::new(io::ErrorKind::ConnectionReset, "injected reset"));
        }
        _ => hyper::StatusCode::from_u16(reply.status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR),
    };
    let body = match (&reply.fault, reply.body) {
        (Some(FaultAction::Empty), _) => ReplyHttpBody::full(Bytes::new()),
        (None | Some(FaultAction::Delay(_)), ReplyBody::Full(bytes)) => ReplyHttpBody::full(bytes),
        (Some(FaultAction::Dribble { chunk, pause }), body) => {
            let bytes = body.to_bytes();
            let pieces = bytes.chunks((*chunk).max(1)).map(|c| (*pause, Bytes::copy_from_slice(c))).collect();
            ReplyHttpBody::stream(pieces, None, None, ctl)
        }
        (Some(FaultAction::Truncate { keep }), body) => {
            let bytes = body.to_bytes();
            let keep = (*keep).min(bytes.len().saturating_sub(1));
            let sent = vec![(Duration::ZERO, bytes.slice(..keep))];
            ReplyHttpBody::stream(sent, Some(bytes.len() as u64), Some(EndWith::Close), ctl)
        }
        (Some(FaultAction::ResetMidBody { after }), body) => {
            let bytes = body.to_bytes();
            let after = (*after).min(bytes.len().saturating_sub(1));
            let sent = vec![(Duration::ZERO, bytes.slice(..after))];
            ReplyHttpBody::stream(sent, Some(bytes.len() as u64), Some(EndWith::Reset), ctl)
        }
        (_, ReplyBody::Chunks(chunks)) => ReplyHttpBody::stream(chunks, None, None, ctl),
        (Some(_), ReplyBody::Full(bytes)) => ReplyHttpBody::full(bytes),
    };
    let mut response = hyper::Response::new(body);
    *response.status_mut() = status;
    for (name, value) in &reply.headers {
        if name.eq_ignore_ascii_case("content-length") || name.eq_ignore_ascii_case("transfer-encoding") {
            continue; // the server frames the body itself
        }
        match (hyper::header::HeaderName::try_from(name.as_str()), hyper::header::HeaderValue::try_from(value.as_str()))
        {
            (Ok(name), Ok(value)) => {
                response.headers_mut().append(name, value);
            }
            _ => tracing::warn!(%name, "header not sent: not a valid HTTP header"),
        }
    }
    Ok(response)
}

// ---- bodies ----------------------------------------------------------------

/// How a body that fails on purpose ends.
#[derive(Debug, Clone, Copy)]
enum EndWith {
    /// The connection closes after what was sent.
    Close,
    /// The connection is reset after what was sent reached the socket.
    Reset,
}

/// The response body: all at once, or fed from a task that keeps time.
enum ReplyHttpBody {
    Full(Option<Bytes>),
    Stream { rx: mpsc::Receiver<Result<Bytes, io::Error>>, len: Option<u64>, _task: AbortOnDrop<()> },
}

impl ReplyHttpBody {
    fn full(bytes: Bytes) -> Self {
        ReplyHttpBody::Full(Some(bytes))
    }

    fn stream(pieces: Vec<(Duration, Bytes)>, len: Option<u64>, end: Option<EndWith>, ctl: Arc<ConnCtl>) -> Self {
        let (tx, rx) = mpsc::channel(4);
        let task = tokio::spawn(async move {
            let written_before = ctl.written.load(Ordering::SeqCst);
            let mut sent = 0u64;
            for (delay, piece) in pieces {
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                sent += piece.len() as u64;
                if tx.send(Ok(piece)).await.is_err() {
                    return;
                }
            }
            let Some(end) = end else { return };
            // Let what was sent reach the socket first: hyper drops what is
            // still buffered when a body fails.
            let target = written_before + sent;
            for _ in 0..500 {
                if ctl.written.load(Ordering::SeqCst) >= target {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            let err = match end {
                EndWith::Close => io::Error::new(io::ErrorKind::UnexpectedEof, "injected truncation"),
                EndWith::Reset => {
                    ctl.reset.store(true, Ordering::SeqCst);
                    io::Error::new(io::ErrorKind::ConnectionReset, "injected reset")
                }
            };
            let _ = tx.send(Err(err)).await;
        });
        ReplyHttpBody::Stream { rx, len, _task: AbortOnDrop(task) }
    }
}

impl Body for ReplyHttpBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        match self.get_mut() {
            ReplyHttpBody::Full(bytes) => {
                Poll::Ready(bytes.take().filter(|b| !b.is_empty()).map(|b| Ok(Frame::data(b))))
            }
            ReplyHttpBody::Stream { rx, .. } => rx.poll_recv(cx).map(|item| item.map(|r| r.map(Frame::data))),
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, ReplyHttpBody::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ReplyHttpBody::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            ReplyHttpBody::Full(None) => SizeHint::with_exact(0),
            ReplyHttpBody::Stream { len: Some(len), .. } => SizeHint::with_exact(*len),
            ReplyHttpBody::Stream { len: None, .. } => SizeHint::default(),
        }
    }
}

// ---- connections that can be reset -------------------------------------------

/// Shared between a connection's IO and its requests: a reset to act out,
/// and how many bytes went out.
#[derive(Debug, Default)]
pub(crate) struct ConnCtl {
    reset: AtomicBool,
    written: AtomicU64,
    /// The connection's entry in the registry of open connections.
    conn: Option<Arc<Conn>>,
}

/// A TCP stream that fails every operation once a reset is asked for, and
/// then closes with RST (zero linger) instead of FIN.
struct ResetIo {
    inner: TcpStream,
    ctl: Arc<ConnCtl>,
}

impl ResetIo {
    fn check(&self) -> io::Result<()> {
        if self.ctl.reset.load(Ordering::SeqCst) {
            let _ = self.inner.set_zero_linger();
            return Err(io::Error::new(io::ErrorKind::ConnectionReset, "injected reset"));
        }
        Ok(())
    }
}

impl Drop for ResetIo {
    fn drop(&mut self) {
        if self.ctl.reset.load(Ordering::SeqCst) {
            let _ = self.inner.set_zero_linger();
        }
    }
}

impl AsyncRead for ResetIo {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        self.check()?;
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for ResetIo {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.check()?;
        let this = self.get_mut();
        let result = Pin::new(&mut this.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = result {
            this.ctl.written.fetch_add(n as u64, Ordering::SeqCst);
        }
        result
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.check()?;
        let this = self.get_mut();
        let result = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = result {
            this.ctl.written.fetch_add(n as u64, Ordering::SeqCst);
        }
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.check()?;
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
