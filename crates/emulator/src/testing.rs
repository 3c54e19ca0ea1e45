//! What the doors' unit tests share: the service on tokio's clock (tests
//! pause it with `start_paused`, so a 50 s hold passes at once and to the
//! millisecond), requests built in memory, and answers awaited as the HTTP
//! server would await them.

use std::sync::Arc;
use std::time::Duration;

use fbcomet_chat::{Grant, World};
use fbcomet_server::{Reply, Request, parse_pairs};
use tokio::time::Instant;

use crate::{Emulator, EmulatorConfig, route};

/// The service of the default world, polls held for `hold`.
pub(crate) fn emulator(hold: Duration) -> Arc<Emulator> {
    Emulator::new(&World::default(), EmulatorConfig::with_hold(hold))
}

/// `name@example.com` logs in (the default world's password is the name).
pub(crate) fn login(emulator: &Emulator, name: &str) -> Grant {
    emulator.with_chat(|chat, now| chat.login(&format!("{name}@example.com"), name, None, now)).expect("login")
}

/// A request for `target` (a path with its query) with the login's
/// cookies, and `form` as its body.
pub(crate) fn request(method: &str, target: &str, who: Option<&Grant>, form: &[(&str, &str)]) -> Request {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let cookies =
        who.map_or_else(Vec::new, |g| vec![("c_user".into(), g.uid.to_string()), ("xs".into(), g.token.clone())]);
    Request {
        method: method.into(),
        host: None,
        proxy_form: false,
        path: path.into(),
        query: parse_pairs(query),
        headers: Vec::new(),
        cookies,
        form: form.iter().map(|&(k, v)| (k.into(), v.into())).collect(),
        body: Default::default(),
        remote: None,
    }
}

/// What a client got: the status, the body as text, and how long it took
/// on the (paused) clock.
#[derive(Debug)]
pub(crate) struct Got {
    pub(crate) status: u16,
    pub(crate) body: String,
    pub(crate) after: Duration,
}

/// Routes `req` and awaits its answer as the server does: a held answer's
/// wait first, then its hold.
pub(crate) async fn answer(emulator: &Arc<Emulator>, req: Request) -> Got {
    let start = Instant::now();
    let mut reply: Reply = route(emulator, &req);
    while let Some(wait) = reply.wait.take() {
        reply = wait.await;
    }
    tokio::time::sleep(reply.hold).await;
    Got {
        status: reply.status,
        body: String::from_utf8_lossy(&reply.body.to_bytes()).into_owned(),
        after: start.elapsed(),
    }
}
