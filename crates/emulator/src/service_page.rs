//! fbcomet's own pages on the emulator: the service page and its state,
//! the counters, the chat page's assets, and asking a page's webhook to
//! verify again. All but the assets are for this machine only.

use std::sync::Arc;

use fbcomet_chat::Store;
use fbcomet_codec::ChatHost;

use super::pages;
use super::shell::{Door, Emulator};
use super::wire::not_found;
use fbcomet_server::{Reply, Request};

/// The door of fbcomet's own pages (not counted on the service page).
pub(super) const DOOR: Door = Door { name: None, serves, answer };

fn serves(req: &Request, _: Option<&ChatHost>) -> bool {
    req.path.starts_with("/fbcomet/") || req.path == "/fbcomet" || req.path == "/favicon.ico"
}

fn answer(emulator: &Arc<Emulator>, req: &Request) -> Reply {
    let local = req.remote.is_none_or(|r| r.ip().is_loopback());
    match (req.method.as_str(), req.path.as_str()) {
        ("POST", p) if p.starts_with("/fbcomet/pages/") && p.ends_with("/verify") => {
            if !local {
                return Reply::text(403, "fbcomet: pages are verified from this machine only\n");
            }
            let id = p.trim_start_matches("/fbcomet/pages/").trim_end_matches("/verify");
            match id.parse().map(|id| emulator.verify_page(id)) {
                Ok(true) => Reply::text(202, "fbcomet: verifying the webhook again\n"),
                _ => Reply::text(404, format!("fbcomet: no page {id} with a webhook\n")),
            }
        }
        ("GET", "/fbcomet/chat.js") => asset(pages::CHAT_JS, "text/javascript; charset=utf-8"),
        ("GET", "/fbcomet/chat.css") => asset(pages::CHAT_CSS, "text/css; charset=utf-8"),
        ("GET", "/fbcomet/service.js") => asset(pages::SERVICE_JS, "text/javascript; charset=utf-8"),
        ("GET", "/favicon.ico") => Reply::with_status(204, ""),
        // The service's state is for this machine only, as the counters.
        ("GET", "/fbcomet/" | "/fbcomet") if local => asset(pages::SERVICE_HTML, "text/html; charset=utf-8"),
        ("GET", "/fbcomet/state.json") if local => state_reply(emulator),
        ("GET", "/fbcomet/" | "/fbcomet" | "/fbcomet/state.json") => {
            Reply::text(403, "fbcomet: the service's state is shown to this machine only\n")
        }
        // The counters are for load tools on this machine only.
        ("GET", "/fbcomet/stats") if local => stats_reply(emulator),
        ("GET", "/fbcomet/stats") => Reply::text(403, "fbcomet: the counters are served to this machine only\n"),
        _ => not_found(req),
    }
}

fn state_reply(emulator: &Emulator) -> Reply {
    let stats = emulator.stats();
    let (users, pages): (Vec<serde_json::Value>, Vec<serde_json::Value>) = emulator.with_chat(|chat, now| {
        let users = chat
            .users()
            .map(|u| {
                serde_json::json!({
                    "uid": u.uid,
                    "name": u.name,
                    "online": chat.is_online(u.uid, now),
                    "idle": chat.is_idle(u.uid, now),
                    "logins": chat.store().logins_of(u.uid).len(),
                    "held": chat.held_of(u.uid),
                    "next_seq": chat.next_seq(u.uid),
                })
            })
            .collect();
        let pages = chat
            .pages()
            .map(|p| {
                let hook = emulator.page_hooks().iter().find(|h| h.page.id == p.id);
                let webhook = match hook {
                    Some(h) => format!("{} ({})", h.url, *h.state().borrow()),
                    None => "none".to_owned(),
                };
                serde_json::json!({ "id": p.id, "name": p.name, "webhook": webhook })
            })
            .collect();
        (users, pages)
    });
    let recent = emulator.recent();
    let exchanges: Vec<serde_json::Value> = recent
        .exchanges
        .iter()
        .rev()
        .take(50)
        .map(
            |e| serde_json::json!({"time": e.time, "door": e.door, "method": e.method, "host": e.host, "path": e.path}),
        )
        .collect();
    let body = serde_json::json!({
        "stats": {
            "logins": stats.logins, "messages": stats.messages, "polls": stats.polls,
            "held polls": stats.held, "resends dropped": stats.duplicate_sends, "faults injected": stats.faults,
        },
        "users": users,
        "doors": recent.doors,
        "pages": pages,
        "recent": exchanges,
    });
    Reply::with_status(200, body.to_string()).header("content-type", "application/json")
}

/// `/fbcomet/stats`: the counters as JSON, for load tools and the curious.
fn stats_reply(emulator: &Emulator) -> Reply {
    let stats = emulator.stats();
    let body = serde_json::json!({
        "logins": stats.logins,
        "messages": stats.messages,
        "duplicate_sends": stats.duplicate_sends,
        "polls": stats.polls,
        "held": stats.held,
        "faults": stats.faults,
    });
    Reply::with_status(200, body.to_string()).header("content-type", "application/json")
}

fn asset(body: &'static str, content_type: &str) -> Reply {
    Reply::ok(body).header("content-type", content_type).header("cache-control", "no-cache")
}
