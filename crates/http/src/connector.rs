//! Connections straight to the host, or all to one plain-HTTP proxy (marked
//! as proxied, so that the legacy client sends absolute-form requests).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::Uri;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use url::Url;

#[derive(Clone)]
pub(crate) struct Connector {
    http: HttpConnector,
    proxy: Option<Uri>,
}

impl Connector {
    pub(crate) fn new(proxy: Option<Url>, connect_timeout: Duration) -> Self {
        let mut http = HttpConnector::new();
        http.set_connect_timeout(Some(connect_timeout));
        http.set_nodelay(true);
        // The proxy, or the target for plain requests, is always http; an
        // https target is refused before it gets here unless proxied.
        http.enforce_http(false);
        let proxy = proxy.and_then(|p| p.as_str().parse().ok());
        Self { http, proxy }
    }
}

impl tower_service::Service<Uri> for Connector {
    type Response = Io;
    type Error = Box<dyn std::error::Error + Send + Sync>;
    type Future = Pin<Box<dyn Future<Output = Result<Io, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.http.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let proxied = self.proxy.is_some();
        let target = self.proxy.clone().unwrap_or(dst);
        let connecting = self.http.call(target);
        Box::pin(async move {
            let io = connecting.await?;
            Ok(Io { io, proxied })
        })
    }
}

/// A connection that says whether it goes through the proxy.
pub(crate) struct Io {
    io: TokioIo<TcpStream>,
    proxied: bool,
}

impl Connection for Io {
    fn connected(&self) -> Connected {
        self.io.connected().proxy(self.proxied)
    }
}

impl hyper::rt::Read for Io {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for Io {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }
}
