//! A page bot's webhook, served: verification answered, signatures
//! checked, events handed over one by one in order.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::webhook::{Messaging, WebhookPayload, verification_answer, verify_signature};

/// The largest webhook post taken.
const MAX_POST: usize = 1 << 20;

/// What a webhook checks.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// The token the verification request must carry.
    pub verify_token: String,
    /// The app secret; when set, every post must be signed with it
    /// (`X-Hub-Signature-256`, or `X-Hub-Signature`), else it is refused.
    pub app_secret: Option<String>,
}

/// Serves the webhook on `listener` until the task is dropped: a GET is a
/// verification request, a POST the events, each passed to `on_event` in
/// order before the post is answered (200 `EVENT_RECEIVED`). A post that is
/// not signed right is answered 403, one that is not a webhook payload 400.
pub async fn serve_webhook<F, Fut>(listener: TcpListener, config: WebhookConfig, on_event: F) -> std::io::Result<()>
where
    F: Fn(Messaging) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send,
{
    let shared = Arc::new((config, on_event));
    loop {
        let (tcp, _) = listener.accept().await?;
        let shared = shared.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let shared = shared.clone();
                async move { Ok::<_, Infallible>(answer(&shared.0, &shared.1, req).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(tcp), service).await;
        });
    }
}

async fn answer<F, Fut>(config: &WebhookConfig, on_event: &F, req: Request<Incoming>) -> Response<Full<Bytes>>
where
    F: Fn(Messaging) -> Fut,
    Fut: Future<Output = ()>,
{
    let reply = |status: StatusCode, text: &str| {
        let mut response = Response::new(Full::new(Bytes::from(text.to_owned())));
        *response.status_mut() = status;
        response
    };
    if req.method() == hyper::Method::GET {
        let query: Vec<(String, String)> =
            url::form_urlencoded::parse(req.uri().query().unwrap_or_default().as_bytes()).into_owned().collect();
        return match verification_answer(&query, &config.verify_token) {
            Some(challenge) => reply(StatusCode::OK, challenge),
            None => reply(StatusCode::FORBIDDEN, "verification failed"),
        };
    }
    if req.method() != hyper::Method::POST {
        return reply(StatusCode::METHOD_NOT_ALLOWED, "GET or POST");
    }
    let signature = ["x-hub-signature-256", "x-hub-signature"]
        .iter()
        .find_map(|name| req.headers().get(*name)?.to_str().ok().map(str::to_owned));
    let body = match Limited::new(req.into_body(), MAX_POST).collect().await {
        Ok(body) => body.to_bytes(),
        Err(_) => return reply(StatusCode::PAYLOAD_TOO_LARGE, "too large"),
    };
    if let Some(secret) = &config.app_secret
        && !signature.is_some_and(|s| verify_signature(secret, &body, &s))
    {
        tracing::warn!("a webhook post without a valid signature");
        return reply(StatusCode::FORBIDDEN, "bad signature");
    }
    let payload: WebhookPayload = match serde_json::from_slice(&body) {
        Ok(payload) => payload,
        Err(err) => return reply(StatusCode::BAD_REQUEST, &format!("not a webhook payload: {err}")),
    };
    for event in payload.entry.into_iter().flat_map(|e| e.messaging) {
        on_event(event).await;
    }
    reply(StatusCode::OK, "EVENT_RECEIVED")
}
