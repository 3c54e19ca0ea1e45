//! The 2013-2018 front door: what fbchat and the web clients of the era
//! posted to www.facebook.com (docs/protocol.md, section 5), and
//! `/active_ping` on the edge-chat hosts. Its `/pull` is [`super::door_pull`].
//!
//! Logging in goes through the 2008 form (the m.facebook.com form is the
//! same one); the home page carries `fb_dtsg`, which the service issues as
//! the login's form token, and every post here must echo it (else 1357004,
//! as the service said). Answers are `for (;;);{"__ar":1,"payload":..}`,
//! with no `error` key on success: clients of the era took any `error` as
//! one.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use fbcomet_chat::{ChatError, ChatMessage, ChatService, Outgoing, User};
use serde_json::{Map, Value, json};

use super::shell::{Door, Emulator};
use super::wire::{error_code, form_token, mid, param};
use fbcomet_server::{Reply, Request};

/// The doc_id of the thread query fbchat 1.1.3 makes, for a thread's
/// details and its messages.
pub(super) const THREAD_QUERY_DOC_ID: &str = "1386147188135407";

/// The most messages one thread query returns.
const MAX_MESSAGES_PER_QUERY: usize = 500;

/// What a path of this door is: a post with its action, or the graphql
/// batch (answered in a shape of its own).
enum Route {
    Post(Action),
    Graphql,
}

fn route_of(path: &str) -> Option<Route> {
    Some(Route::Post(match path {
        "/messaging/send/" => send,
        "/chat/user_info/" => user_info,
        "/chat/user_info_all" | "/chat/user_info_all/" => user_info_all,
        "/ajax/mercury/threadlist_info.php" => thread_list,
        "/ajax/mercury/thread_sync.php" => thread_sync,
        "/ajax/mercury/change_read_status.php" => read_status,
        "/ajax/mercury/delivery_receipts.php" => delivery_receipts,
        "/ajax/mercury/mark_seen.php" => acknowledge,
        "/ajax/messaging/typ.php" => typing,
        "/api/graphqlbatch/" | "/api/graphqlbatch" => return Some(Route::Graphql),
        _ => return None,
    }))
}

/// The www posts of this era, and `/active_ping`.
pub(super) const DOOR: Door = Door {
    name: Some("web (2013-2018)"),
    serves: |req, _| req.path == "/active_ping" || route_of(&req.path).is_some(),
    answer,
};

fn answer(emulator: &Arc<Emulator>, req: &Request) -> Reply {
    match route_of(&req.path) {
        Some(Route::Post(action)) => post(emulator, req, action),
        Some(Route::Graphql) => graphql(emulator, req),
        None => active_ping(emulator, req),
    }
}

/// `/active_ping` on an edge-chat host: the user is there. Any 2xx with a
/// body does.
fn active_ping(emulator: &Arc<Emulator>, req: &Request) -> Reply {
    let token = req.cookie("xs").unwrap_or_default();
    match emulator.with_chat(|chat, now| chat.ping(token, now)) {
        Ok(_) => Reply::ok(r#"for (;;); {"t":"pong"}"#),
        Err(err) => failure(&err),
    }
}

/// An action of a post, on the core, for the user who posted; its answer is
/// the envelope's payload.
type Action = fn(&Request, &mut ChatService, Instant, u64) -> Result<Value, ChatError>;

/// A post: the session cookie (else 1357001) and `fb_dtsg` (else 1357004)
/// first, then the action, under one lock.
fn post(emulator: &Emulator, req: &Request, action: Action) -> Reply {
    let token = req.cookie("xs").unwrap_or_default();
    let answer = emulator.with_chat(|chat, now| {
        let uid = chat.authorize_post(token, form_token(req), now)?;
        action(req, chat, now, uid)
    });
    match answer {
        Ok(payload) => json_reply(&json!({ "__ar": 1, "payload": payload, "bootloadable": {}, "ixData": {} })),
        Err(err) => failure(&err),
    }
}

/// A refusal, as the service wrote it.
fn failure(err: &ChatError) -> Reply {
    let code = error_code(err);
    json_reply(&json!({
        "__ar": 1,
        "error": code.code(),
        "errorSummary": code.summary(),
        "errorDescription": code.description(),
        "payload": null,
        "bootloadable": {},
        "ixData": {},
    }))
}

fn json_reply(value: &Value) -> Reply {
    Reply::ok(format!("for (;;);{value}")).header("content-type", "application/x-javascript; charset=utf-8")
}

// ---- messages -------------------------------------------------------------

/// `/messaging/send/`: to `other_user_fbid`; the client's
/// `offline_threading_id` is the message's id (a resend with it is not a
/// new message). Recipients may be offline: the message waits in their
/// inbox.
fn send(req: &Request, chat: &mut ChatService, now: Instant, uid: u64) -> Result<Value, ChatError> {
    if req.field("thread_fbid").is_some() && req.field("other_user_fbid").is_none() {
        // The world has no group threads.
        return Err(ChatError::BadParameter("thread_fbid"));
    }
    let to: u64 = param(req, "other_user_fbid")?;
    let outgoing = Outgoing {
        to,
        text: req.field("body").unwrap_or_default().to_owned(),
        msg_id: req.field("offline_threading_id").or(req.field("message_id")).map(str::to_owned),
        client_time: param(req, "timestamp").ok(),
        offline_ok: true,
    };
    let sent = chat.send(uid, outgoing, now)?;
    let m = &sent.message;
    Ok(json!({
        "actions": [{
            "message_id": mid(m),
            "offline_threading_id": m.msg_id,
            "timestamp": m.time_ms,
            "thread_fbid": null,
            "other_user_fbid": m.to.to_string(),
        }],
    }))
}

/// `/ajax/messaging/typ.php`: `typ` 1 or 0, to `to` (or `thread`).
fn typing(req: &Request, chat: &mut ChatService, now: Instant, uid: u64) -> Result<Value, ChatError> {
    let to: u64 = param(req, "to").or_else(|_| param(req, "thread"))?;
    let typ: u8 = param(req, "typ")?;
    chat.typing(uid, to, typ != 0, now)?;
    Ok(json!({}))
}

/// `/ajax/mercury/change_read_status.php`: `ids[UID]=true` marks the
/// conversation with UID read up to `watermarkTimestamp` (now, without it).
fn read_status(req: &Request, chat: &mut ChatService, now: Instant, uid: u64) -> Result<Value, ChatError> {
    let watermark = param(req, "watermarkTimestamp").ok();
    let read: Vec<u64> = indexed(req, "ids").filter(|(_, v)| *v == "true" || *v == "1").map(|(k, _)| k).collect();
    if read.is_empty() {
        return Err(ChatError::BadParameter("ids"));
    }
    for partner in read {
        chat.mark_read(uid, partner, watermark, now);
    }
    Ok(json!({}))
}

/// `/ajax/mercury/delivery_receipts.php`: `thread_ids[UID][0]=..` says the
/// messages of the thread with UID reached this client; a page is told
/// (its webhook's delivery event).
fn delivery_receipts(req: &Request, chat: &mut ChatService, now: Instant, uid: u64) -> Result<Value, ChatError> {
    let threads: BTreeSet<u64> =
        req.form.iter().filter_map(|(k, _)| k.strip_prefix("thread_ids[")?.split(']').next()?.parse().ok()).collect();
    for partner in threads {
        chat.mark_delivered(uid, partner, None, now);
    }
    Ok(json!({}))
}

/// "Mark seen" (the jewel): taken, nothing to record.
fn acknowledge(_: &Request, _: &mut ChatService, _: Instant, _: u64) -> Result<Value, ChatError> {
    Ok(json!({}))
}

// ---- people and threads ---------------------------------------------------

/// `/chat/user_info/`: `ids[0]=..`; the users among them, by id.
fn user_info(req: &Request, chat: &mut ChatService, _: Instant, uid: u64) -> Result<Value, ChatError> {
    let ids: BTreeSet<u64> = indexed(req, "ids").filter_map(|(_, v)| v.trim().parse().ok()).collect();
    if ids.is_empty() {
        return Err(ChatError::BadParameter("ids"));
    }
    let profiles: Map<String, Value> = ids
        .into_iter()
        .filter_map(|id| match chat.user(id) {
            Some(u) => Some((id.to_string(), profile(u, chat.are_friends(uid, id)))),
            None => chat.page(id).map(|p| (id.to_string(), page_profile(id, &p.name))),
        })
        .collect();
    Ok(json!({ "profiles": profiles }))
}

/// `/chat/user_info_all`: everyone the user can chat with (their friends).
fn user_info_all(_: &Request, chat: &mut ChatService, _: Instant, uid: u64) -> Result<Value, ChatError> {
    let all: Map<String, Value> =
        chat.friends(uid).filter_map(|f| chat.user(f)).map(|u| (u.uid.to_string(), profile(u, true))).collect();
    Ok(Value::Object(all))
}

/// A user as `/chat/user_info/` described one.
fn profile(user: &User, friend: bool) -> Value {
    json!({
        "id": user.uid.to_string(),
        "name": user.name,
        "firstName": user.first_name,
        "vanity": "",
        "thumbSrc": THUMB,
        "uri": profile_url(user.uid),
        "gender": 0,
        "i18nGender": 0,
        "type": if friend { "friend" } else { "user" },
        "is_friend": friend,
        "mThumbSrcSmall": null,
        "mThumbSrcLarge": null,
        "dir": null,
        "searchTokens": user.name.split_whitespace().collect::<Vec<_>>(),
        "alternateName": "",
        "is_nonfriend_messenger_contact": false,
    })
}

/// A page as `/chat/user_info/` described one.
fn page_profile(id: u64, name: &str) -> Value {
    json!({
        "id": id.to_string(),
        "name": name,
        "firstName": name,
        "vanity": "",
        "thumbSrc": THUMB,
        "uri": profile_url(id),
        "gender": 0,
        "type": "page",
        "is_friend": false,
    })
}

const THUMB: &str = "https://static.xx.fbcdn.net/rsrc.php/v3/silhouette.gif";

fn profile_url(uid: u64) -> String {
    format!("https://www.facebook.com/profile.php?id={uid}")
}

/// `/ajax/mercury/threadlist_info.php`: the user's conversations, the
/// latest first, `inbox[offset]` and `inbox[limit]` (at most 20), with
/// their participants.
fn thread_list(req: &Request, chat: &mut ChatService, _: Instant, uid: u64) -> Result<Value, ChatError> {
    // fbchat names the folder: inbox, pending, other, archived.
    let folder = ["inbox", "pending", "other", "archived"]
        .into_iter()
        .find(|f| req.field(&format!("{f}[limit]")).is_some())
        .unwrap_or("inbox");
    let number = |key: &str, default: usize| -> Result<usize, ChatError> {
        match req.field(&format!("{folder}[{key}]")) {
            None => Ok(default),
            Some(v) => v.trim().parse().map_err(|_| ChatError::BadParameter("limit")),
        }
    };
    let (offset, limit) = (number("offset", 0)?, number("limit", 20)?.min(20));
    let threads: Vec<_> =
        if folder == "inbox" { chat.threads(uid).into_iter().skip(offset).take(limit).collect() } else { Vec::new() };
    let mut participants = vec![participant(chat, uid, false)];
    participants.extend(threads.iter().map(|t| participant(chat, t.partner, chat.are_friends(uid, t.partner))));
    let threads: Vec<Value> = threads
        .iter()
        .map(|t| {
            json!({
                "thread_id": format!("user:{}", t.partner),
                "thread_fbid": null,
                "other_user_fbid": t.partner.to_string(),
                "thread_type": 1,
                "participants": [format!("fbid:{uid}"), format!("fbid:{}", t.partner)],
                "name": "",
                "snippet": t.last.text,
                "snippet_sender": format!("fbid:{}", t.last.from),
                "timestamp": t.last.time_ms,
                "unread_count": t.unread,
                "message_count": t.messages,
                "image_src": null,
                "folder": "inbox",
                "is_subscribed": true,
                "read_only": false,
                "mute_until": null,
            })
        })
        .collect();
    Ok(json!({
        "participants": participants,
        "threads": threads,
        "ordered_threadlists": [{ "thread_fbids": [], "other_user_fbids": [], "folder": folder }],
    }))
}

fn participant(chat: &ChatService, uid: u64, friend: bool) -> Value {
    let (name, short) = chat.name_of(uid).unwrap_or_default();
    let kind = if chat.user(uid).is_some() { "user" } else { "page" };
    json!({
        "id": format!("fbid:{uid}"),
        "fbid": uid.to_string(),
        "gender": 0,
        "href": profile_url(uid),
        "image_src": THUMB,
        "big_image_src": THUMB,
        "name": name,
        "short_name": short,
        "is_friend": friend,
        "type": kind,
        "vanity": "",
        "is_birthday": false,
    })
}

/// `/ajax/mercury/thread_sync.php`: the unread counts.
fn thread_sync(_: &Request, chat: &mut ChatService, _: Instant, uid: u64) -> Result<Value, ChatError> {
    let threads = chat.threads(uid);
    let unread: Vec<String> = threads.iter().filter(|t| t.unread > 0).map(|t| t.partner.to_string()).collect();
    Ok(json!({
        "message_counts": [{
            "unread_count": unread.len(),
            "unseen_count": unread.len(),
            "seen_timestamp": 0,
            "folder": "inbox",
        }],
        "unseen_thread_ids": [{ "thread_fbids": [], "other_user_fbids": unread, "folder": "inbox" }],
    }))
}

// ---- graphql --------------------------------------------------------------

/// `/api/graphqlbatch/`: `queries` is `{"q0":{"doc_id":..,"query_params":..}}`;
/// the answer is one JSON object per query, then the count, one after
/// another (not an array). The thread query is answered; any other gets an
/// error object of its own.
fn graphql(emulator: &Emulator, req: &Request) -> Reply {
    let token = req.cookie("xs").unwrap_or_default();
    let answer = emulator.with_chat(|chat, now| {
        let uid = chat.authorize_post(token, form_token(req), now)?;
        let queries: Map<String, Value> = req
            .field("queries")
            .and_then(|q| serde_json::from_str(q).ok())
            .ok_or(ChatError::BadParameter("queries"))?;
        Ok(queries.into_iter().map(|(name, query)| (name, thread_query(chat, uid, &query))).collect())
    });
    let results: Vec<(String, Value)> = match answer {
        Ok(results) => results,
        Err(err) => return failure(&err),
    };
    let failed = results.iter().filter(|(_, r)| r.get("error").is_some()).count();
    let mut body = String::new();
    for (name, result) in &results {
        body.push_str(&json!({ name: result }).to_string());
        body.push('\n');
    }
    body.push_str(
        &json!({"successful_results": results.len() - failed, "error_results": failed, "skipped_results": 0})
            .to_string(),
    );
    Reply::ok(body).header("content-type", "text/javascript; charset=utf-8")
}

/// One query of a batch: `{"data":{"message_thread":..}}`, or an error.
fn thread_query(chat: &ChatService, uid: u64, query: &Value) -> Value {
    if query.get("doc_id").and_then(Value::as_str) != Some(THREAD_QUERY_DOC_ID) {
        return json!({
            "error": 1675012,
            "errorSummary": "Query not supported",
            "errorDescription": format!("fbcomet answers the thread query (doc_id {THREAD_QUERY_DOC_ID}) only"),
        });
    }
    let params = query.get("query_params").cloned().unwrap_or_default();
    let id = match params.get("id") {
        Some(Value::String(s)) => s.trim().parse().ok(),
        Some(Value::Number(n)) => n.as_u64(),
        _ => None,
    };
    let Some(partner) = id.filter(|&p| chat.user(p).is_some() && (p == uid || chat.are_friends(uid, p))) else {
        return json!({ "data": { "message_thread": null } });
    };
    let limit = params.get("message_limit").and_then(Value::as_u64).unwrap_or(0) as usize;
    let before = params.get("before").and_then(|b| b.as_i64().or_else(|| b.as_str()?.parse().ok()));
    let history = chat.history(uid, partner, chat.config().history_batch);
    let unread = chat.threads(uid).into_iter().find(|t| t.partner == partner).map_or(0, |t| t.unread);
    let mut messages: Vec<&Arc<ChatMessage>> =
        history.iter().filter(|m| before.is_none_or(|b| m.time_ms < b)).collect();
    let keep = limit.min(MAX_MESSAGES_PER_QUERY);
    messages.drain(..messages.len().saturating_sub(keep));
    let nodes: Vec<Value> = messages.iter().map(|m| message_node(m)).collect();
    let user = chat.user(partner);
    let participants: Vec<Value> = [uid, partner]
        .iter()
        .map(|p| json!({ "messaging_actor": { "id": p.to_string(), "__typename": "User" } }))
        .collect();
    json!({
        "data": {
            "message_thread": {
                "thread_key": { "thread_fbid": null, "other_user_id": partner.to_string() },
                "name": null,
                "thread_type": "ONE_TO_ONE",
                "messages_count": history.len(),
                "unread_count": unread,
                "image": null,
                "customization_info": null,
                "is_group_thread": false,
                "all_participants": { "nodes": participants },
                "other_user_name": user.map(|u| u.name.clone()),
                "messages": {
                    "nodes": nodes,
                    "page_info": { "has_previous_page": history.len() > keep },
                },
                "updated_time_precise": history.last().map(|m| m.time_ms.to_string()),
            }
        }
    })
}

/// A message as the thread query's `messages.nodes[]` has it.
fn message_node(m: &ChatMessage) -> Value {
    json!({
        "__typename": "UserMessage",
        "message_id": mid(m),
        "offline_threading_id": m.msg_id,
        "message_sender": { "id": m.from.to_string(), "email": format!("{}@facebook.com", m.from) },
        "message": { "text": m.text, "ranges": [] },
        "timestamp_precise": m.time_ms.to_string(),
        "unread": false,
        "is_sponsored": false,
        "tags_list": ["source:chat:web"],
        "message_reactions": [],
        "blob_attachments": [],
        "sticker": null,
    })
}

/// The `name[KEY]=VALUE` fields of a form, as (KEY, VALUE) with numeric
/// keys: `ids[0]=5` and `ids[5]=true` alike.
fn indexed<'r>(req: &'r Request, name: &'r str) -> impl Iterator<Item = (u64, &'r str)> + 'r {
    req.form.iter().chain(&req.query).filter_map(move |(k, v)| {
        let key = k.strip_prefix(name)?.strip_prefix('[')?.strip_suffix(']')?;
        Some((key.parse().ok()?, v.as_str()))
    })
}

#[cfg(test)]
mod tests {
    use super::super::pages;
    use super::*;

    #[test]
    fn the_home_page_names_the_tokens_fbchat_scrapes() {
        let user = User {
            uid: 1,
            name: "A B".into(),
            first_name: "A".into(),
            email: "a@example.com".into(),
            password: "a".into(),
            channel: 1,
            status: None,
            access_token: None,
        };
        let page = pages::home(&user, "tok");
        assert!(page.contains(r#"name="fb_dtsg" value="tok""#), "{page}");
        assert!(page.contains(r#"name="h" value="#), "{page}");
        assert!(page.contains(&format!(r#""client_revision":{},"#, pages::CLIENT_REVISION)), "{page}");
    }

    #[test]
    fn indexed_fields_read_both_forms() {
        let req = Request {
            method: "POST".into(),
            host: None,
            proxy_form: false,
            path: "/chat/user_info/".into(),
            query: Vec::new(),
            headers: Vec::new(),
            cookies: Vec::new(),
            form: vec![("ids[0]".into(), "5".into()), ("ids[7]".into(), "true".into()), ("idsx".into(), "1".into())],
            body: Default::default(),
            remote: None,
        };
        assert_eq!(indexed(&req, "ids").collect::<Vec<_>>(), [(0, "5"), (7, "true")]);
    }
}
