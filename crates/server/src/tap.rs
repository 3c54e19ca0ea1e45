//! Watching a server's traffic: a handler that wraps another and reports
//! every request with its answer (a held one when it is ready).

use std::sync::Arc;

use crate::reply::Reply;
use crate::request::Request;
use crate::server::Handler;

/// What a [`Tap`] calls with each request and the reply to it.
pub type Observer = Arc<dyn Fn(&Request, &Reply) + Send + Sync>;

/// Wraps a handler and shows `observer` each request and its reply (before
/// the reply's hold and fault are acted out).
pub struct Tap<H> {
    inner: H,
    observer: Observer,
}

impl<H: Handler> Tap<H> {
    /// Taps `inner`.
    pub fn new(inner: H, observer: Observer) -> Self {
        Self { inner, observer }
    }
}

impl<H: Handler> Handler for Tap<H> {
    async fn handle(&self, request: Request) -> Reply {
        let mut reply = self.inner.handle(request.clone()).await;
        match reply.wait.take() {
            // A held answer is shown when it is ready.
            Some(wait) => {
                let observer = self.observer.clone();
                reply.until(async move {
                    let done = wait.await;
                    observer(&request, &done);
                    done
                })
            }
            None => {
                (self.observer)(&request, &reply);
                reply
            }
        }
    }
}
