//! Connections straight to the host, or all through one HTTP proxy: plain
//! requests in absolute form (the connection marked as proxied), HTTPS in a
//! `CONNECT` tunnel. HTTPS is rustls, trusting the usual web roots and any
//! extra CA the configuration names (fbcomet's own, for its servers).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::Uri;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use url::Url;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Clone)]
pub(crate) struct Connector {
    http: HttpConnector,
    proxy: Option<Uri>,
    tls: TlsConnector,
}

/// The TLS client configuration: the web's roots and `extra_ca` (DER).
pub(crate) fn tls_config(extra_ca: &[Vec<u8>]) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for der in extra_ca {
        if let Err(err) = roots.add(rustls::pki_types::CertificateDer::from(der.clone())) {
            tracing::warn!(%err, "an extra CA certificate was not added");
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder =
        match rustls::ClientConfig::builder_with_provider(provider.clone()).with_safe_default_protocol_versions() {
            Ok(builder) => builder,
            // The ring provider supports the safe defaults; this is not reached.
            Err(_) => rustls::ClientConfig::builder_with_provider(provider)
                .with_protocol_versions(&[&rustls::version::TLS13])
                .unwrap_or_else(|_| unreachable!("TLS 1.3 with ring")),
        };
    let mut config = builder.with_root_certificates(roots).with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

impl Connector {
    pub(crate) fn new(proxy: Option<Url>, connect_timeout: Duration, tls: Arc<rustls::ClientConfig>) -> Self {
        let mut http = HttpConnector::new();
        http.set_connect_timeout(Some(connect_timeout));
        http.set_nodelay(true);
        // The TCP part of every connection; TLS is added here.
        http.enforce_http(false);
        let proxy = proxy.and_then(|p| p.as_str().parse().ok());
        Self { http, proxy, tls: TlsConnector::from(tls) }
    }
}

impl tower_service::Service<Uri> for Connector {
    type Response = Io;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Io, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.http.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let https = dst.scheme_str() == Some("https");
        let host = dst.host().unwrap_or_default().trim_start_matches('[').trim_end_matches(']').to_owned();
        let port = dst.port_u16().unwrap_or(if https { 443 } else { 80 });
        let proxy = self.proxy.clone();
        // The TCP connection goes to the proxy when there is one.
        let tcp_target = match (&proxy, https) {
            (Some(proxy), _) => proxy.clone(),
            (None, true) => format!("http://{}:{port}", dst.authority().map_or(host.as_str(), |a| a.host()))
                .parse()
                .unwrap_or(dst.clone()),
            (None, false) => dst.clone(),
        };
        let connecting = self.http.call(tcp_target);
        let tls = self.tls.clone();
        Box::pin(async move {
            let tcp = connecting.await?.into_inner();
            if !https {
                return Ok(Io::Plain { io: TokioIo::new(tcp), proxied: proxy.is_some() });
            }
            let mut tcp = tcp;
            if proxy.is_some() {
                tunnel(&mut tcp, &host, port).await?;
            }
            let name = ServerName::try_from(host.clone()).map_err(|e| format!("{host:?} is not a server name: {e}"))?;
            let stream = tls.connect(name, tcp).await?;
            Ok(Io::Tls { io: TokioIo::new(Box::new(stream)) })
        })
    }
}

/// `CONNECT host:port` on a connection to the proxy; `Ok` once it
/// answered 200.
async fn tunnel(tcp: &mut TcpStream, host: &str, port: u16) -> Result<(), BoxError> {
    let authority = if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
    tcp.write_all(format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n").as_bytes()).await?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 8192 || tcp.read(&mut byte).await? == 0 {
            return Err("the proxy closed the connection before answering CONNECT".into());
        }
        head.push(byte[0]);
    }
    let status = String::from_utf8_lossy(&head);
    let line = status.lines().next().unwrap_or_default();
    if line.split_whitespace().nth(1) != Some("200") {
        return Err(format!("the proxy refused CONNECT {authority}: {line}").into());
    }
    Ok(())
}

/// A connection: plain (saying whether it goes through the proxy), or TLS.
pub(crate) enum Io {
    Plain { io: TokioIo<TcpStream>, proxied: bool },
    Tls { io: TokioIo<Box<TlsStream<TcpStream>>> },
}

impl Connection for Io {
    fn connected(&self) -> Connected {
        match self {
            Io::Plain { io, proxied } => io.connected().proxy(*proxied),
            Io::Tls { io } => io.inner().get_ref().0.connected(),
        }
    }
}

macro_rules! both {
    ($self:expr, $io:ident => $e:expr) => {
        match $self.get_mut() {
            Io::Plain { io: $io, .. } => $e,
            Io::Tls { io: $io } => $e,
        }
    };
}

impl hyper::rt::Read for Io {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        both!(self, io => Pin::new(io).poll_read(cx, buf))
    }
}

impl hyper::rt::Write for Io {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        both!(self, io => Pin::new(io).poll_write(cx, buf))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        both!(self, io => Pin::new(io).poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        both!(self, io => Pin::new(io).poll_shutdown(cx))
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Io::Plain { io, .. } => io.is_write_vectored(),
            Io::Tls { io } => io.is_write_vectored(),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        both!(self, io => Pin::new(io).poll_write_vectored(cx, bufs))
    }
}
