//! Recording: a proxy in front of any server of the protocol that writes
//! what passes through as a session fixture, real holds and timings included.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderName, HeaderValue};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use url::Url;

use crate::recording::{Chunk, Dialect, Exchange, Recording, RequestSpec, ResponseSpec};
use fbcomet_server::{Handler, Reply, ReplyBody, Request, Server, ServerConfig};

/// Request headers kept in a recording (for reference and HAR export).
const KEPT_REQUEST_HEADERS: &[&str] = &["content-type", "cookie", "user-agent", "referer"];
/// Response headers kept and sent on.
const KEPT_RESPONSE_HEADERS: &[&str] = &["content-type", "set-cookie", "location", "cache-control"];

/// The recording proxy: a [`Handler`] that forwards every request to an
/// upstream server and keeps the exchange.
pub struct Recorder {
    upstream: Url,
    client: Client<HttpConnector, Full<Bytes>>,
    timeout: Duration,
    next: AtomicU64,
    exchanges: Mutex<Vec<(u64, Exchange)>>,
}

impl Recorder {
    /// Records what passes to `upstream` (an `http://` base URL).
    pub fn new(upstream: Url) -> Arc<Self> {
        Arc::new(Self {
            upstream,
            client: Client::builder(TokioExecutor::new()).build(HttpConnector::new()),
            timeout: Duration::from_secs(300),
            next: AtomicU64::new(0),
            exchanges: Mutex::new(Vec::new()),
        })
    }

    /// How many exchanges were recorded.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether nothing was recorded yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(u64, Exchange)>> {
        self.exchanges.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The recording so far, as a session: exchanges in the order their
    /// requests arrived.
    pub fn session(&self, name: &str, uid: u64, channel: Option<u32>) -> Recording {
        let mut exchanges = self.lock().clone();
        exchanges.sort_by_key(|(order, _)| *order);
        let dialect = if exchanges.iter().any(|(_, e)| e.request.path.starts_with("/pull")) {
            Dialect::Pull
        } else {
            Dialect::Channel
        };
        Recording {
            name: name.to_owned(),
            description: format!("recorded by fbcomet record from {}", self.upstream),
            provenance: format!("recorded by fbcomet record from {}", self.upstream),
            dialect,
            uid,
            channel,
            exchanges: exchanges.into_iter().map(|(_, e)| e).collect(),
        }
    }

    async fn forward(
        &self,
        req: &Request,
    ) -> Result<(u16, Vec<(String, String)>, Vec<(Duration, Bytes)>, Duration), String> {
        let target = req.target();
        let url = self.upstream.join(&target).map_err(|e| format!("cannot forward {target}: {e}"))?;
        let mut request = hyper::Request::builder().method(req.method.as_str()).uri(url.as_str());
        for (name, value) in &req.headers {
            if matches!(name.as_str(), "connection" | "proxy-connection" | "keep-alive" | "content-length") {
                continue;
            }
            if let (Ok(n), Ok(v)) = (HeaderName::try_from(name.as_str()), HeaderValue::try_from(value.as_str())) {
                request = request.header(n, v);
            }
        }
        // The upstream sees the host the client named (its cookies depend
        // on it); a proxy-form request has no Host header of its own.
        if req.header("host").is_none()
            && let Some(host) = &req.host
        {
            request = request.header("host", host.as_str());
        }
        let request = request.body(Full::new(req.body.clone())).map_err(|e| e.to_string())?;
        let started = Instant::now();
        let response = tokio::time::timeout(self.timeout, self.client.request(request))
            .await
            .map_err(|_| "the upstream did not answer in time".to_owned())?
            .map_err(|e| format!("the upstream failed: {e}"))?;
        let hold = started.elapsed();
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .filter(|(k, _)| KEPT_RESPONSE_HEADERS.contains(&k.as_str()))
            .map(|(k, v)| (k.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        let mut body = response.into_body();
        let mut chunks = Vec::new();
        let mut last = Instant::now();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| format!("the upstream's body broke off: {e}"))?;
            if let Ok(data) = frame.into_data()
                && !data.is_empty()
            {
                chunks.push((last.elapsed(), data));
                last = Instant::now();
            }
        }
        Ok((status, headers, chunks, hold))
    }
}

impl Handler for Recorder {
    async fn handle(&self, req: Request) -> Reply {
        let order = self.next.fetch_add(1, Ordering::SeqCst);
        let (status, headers, chunks, hold) = match self.forward(&req).await {
            Ok(answer) => answer,
            Err(err) => return Reply::text(502, format!("fbcomet record: {err}\n")),
        };
        let text = |b: &Bytes| String::from_utf8_lossy(b).into_owned();
        let (body, recorded_chunks) = match chunks.len() {
            0 => (String::new(), Vec::new()),
            1 => (text(&chunks[0].1), Vec::new()),
            _ => (
                String::new(),
                chunks
                    .iter()
                    .map(|(delay, data)| Chunk { delay_ms: delay.as_millis() as u64, data: text(data) })
                    .collect(),
            ),
        };
        let exchange = Exchange {
            note: String::new(),
            request: RequestSpec {
                method: req.method.clone(),
                host: req.host.clone(),
                path: req.target(),
                headers: req
                    .headers
                    .iter()
                    .filter(|(k, _)| KEPT_REQUEST_HEADERS.contains(&k.as_str()))
                    .cloned()
                    .collect(),
                form: req.form.clone(),
            },
            response: ResponseSpec {
                status,
                headers: headers.clone(),
                body,
                hold_ms: hold.as_millis() as u64,
                chunks: recorded_chunks,
                fault: None,
            },
        };
        self.lock().push((order, exchange));
        let mut reply = Reply::with_status(status, Bytes::new());
        reply.headers = headers;
        reply.body = if chunks.len() > 1 {
            ReplyBody::Chunks(chunks.into_iter().map(|(_, data)| (Duration::ZERO, data)).collect())
        } else {
            ReplyBody::Full(chunks.into_iter().next().map(|(_, data)| data).unwrap_or_default())
        };
        reply
    }
}

/// A recording proxy served over HTTP.
pub struct RecordServer {
    server: Server,
    recorder: Arc<Recorder>,
}

impl RecordServer {
    /// Records what passes to `upstream`, listening on `addr`.
    pub async fn bind(addr: SocketAddr, upstream: Url, config: ServerConfig) -> io::Result<Self> {
        let recorder = Recorder::new(upstream);
        let server = Server::bind(addr, Arc::new(recorder.clone()), config).await?;
        Ok(Self { server, recorder })
    }

    /// The address served on.
    pub fn addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// `http://ADDR`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// The recorder.
    pub fn recorder(&self) -> &Arc<Recorder> {
        &self.recorder
    }

    /// Stops, and returns the recorder with what it kept.
    pub async fn shutdown(self) -> Arc<Recorder> {
        self.server.shutdown().await;
        self.recorder
    }
}
