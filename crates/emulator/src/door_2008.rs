//! The 2008 front door: the www pages old clients fetched and scraped, the
//! ajax form posts (docs/protocol.md, section 3), and the channel long poll
//! `/x/{ANY}/{idle}/p_{UID}={SEQ}`. Cookies `c_user` and `xs` carry the
//! login; every post carries `post_form_id`; answers are `for (;;);`
//! envelopes and frames.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Instant;

use fbcomet_chat::{Answer, BuddyList as CoreBuddyList, ChatError, ChatService, End, LoginError, Outgoing, Read, User};
use fbcomet_codec::{
    Availability, BuddyList, ChatHost, Encoder, Envelope, ErrorCode, Event, Extra, Frame, History, Notifications,
    Payload, PollTarget, Presence, Reconnect, UidMap, UserInfo,
};

use super::pages;
use super::shell::{Door, Emulator};
use super::wire::{envelope, error_code, events_of, form_token, message, not_found, param};
use fbcomet_server::{Reply, Request};

/// The 2008 channel: `/x/...` polls.
pub(super) const CHANNEL: Door =
    Door { name: Some("2008 channel"), serves: |req, _| req.path == "/x" || req.path.starts_with("/x/"), answer: poll };

/// The 2008 pages and ajax posts: what no other door took.
pub(super) const WWW: Door = Door {
    name: Some("2008 pages and posts"),
    serves: |_, _| true,
    answer: |emulator, req| www(emulator, req).unwrap_or_else(|| not_found(req)),
};

/// The www pages and ajax posts; `None` for a path this door does not
/// serve.
fn www(emulator: &Arc<Emulator>, req: &Request) -> Option<Reply> {
    Some(match (req.method.as_str(), req.path.as_str()) {
        // Logged in, the front page is home and the login page sends there
        // (fbchat's isLoggedIn() asks login.php and looks for "home").
        ("GET", "/" | "/index.php") => match signed_in(emulator, req) {
            Some((user, form_token)) => html(200, pages::home(&user, &form_token)),
            None => html(200, pages::login(None)),
        },
        ("GET", "/login.php") => match signed_in(emulator, req) {
            Some(_) => Reply::with_status(302, "").header("location", "/home.php"),
            None => html(200, pages::login(None)),
        },
        ("POST", "/login.php") => login(emulator, req),
        (_, "/home.php") => match signed_in(emulator, req) {
            Some((user, form_token)) => html(200, pages::home(&user, &form_token)),
            None => Reply::with_status(302, "").header("location", "/login.php"),
        },
        (_, "/logout.php") => logout(emulator, req),
        (_, "/ajax/chat/send.php") => ajax(emulator, req, send),
        (_, "/ajax/presence/update.php" | "/ajax/chat/buddy_list.php") => ajax(emulator, req, presence),
        (_, "/ajax/chat/typ.php") => ajax(emulator, req, typing),
        (_, "/ajax/chat/settings.php") => ajax(emulator, req, settings),
        (_, "/ajax/presence/reconnect.php") => ajax(emulator, req, reconnect),
        (_, "/ajax/chat/history.php") => ajax(emulator, req, history),
        _ => return None,
    })
}

// ---- pages --------------------------------------------------------------

fn login(emulator: &Emulator, req: &Request) -> Reply {
    let email = req.field("email").unwrap_or_default();
    let pass = req.field("pass").unwrap_or_default();
    let address = req.remote.map(|r| r.ip());
    let grant = match emulator.with_chat(|chat, now| chat.login(email, pass, address, now)) {
        Ok(grant) => grant,
        Err(LoginError::Throttled { retry_after }) => {
            let secs = retry_after.as_secs().max(1);
            let text = format!("Too many failed attempts. Try again in {secs} seconds.");
            return html(429, pages::login(Some(&text))).header("retry-after", secs.to_string());
        }
        Err(_) => {
            return html(200, pages::login(Some("The email and password you entered did not match our records.")));
        }
    };
    let domain = cookie_domain(req);
    Reply::with_status(302, "")
        .header("location", "/home.php")
        .header("set-cookie", format!("c_user={}; path=/{domain}", grant.uid))
        .header("set-cookie", format!("xs={}; path=/{domain}; httponly", grant.token))
}

/// The user of the live login the request's cookie names, with its form
/// token; `None` without one.
fn signed_in(emulator: &Emulator, req: &Request) -> Option<(User, String)> {
    let token = req.cookie("xs").unwrap_or_default();
    emulator.with_chat(|chat, now| {
        let login = chat.authenticate(token, now).ok()?;
        Some((chat.user(login.uid)?.clone(), login.post_form_id))
    })
}

fn logout(emulator: &Emulator, req: &Request) -> Reply {
    if let Some(token) = req.cookie("xs") {
        emulator.with_chat(|chat, now| chat.logout(token, now));
    }
    let domain = cookie_domain(req);
    html(200, pages::logged_out())
        .header("set-cookie", format!("c_user=; path=/; max-age=0{domain}"))
        .header("set-cookie", format!("xs=; path=/; max-age=0{domain}"))
}

// ---- ajax ---------------------------------------------------------------

/// An action of an ajax post, on the core, for the user who posted.
type Action = fn(&Request, &mut ChatService, Instant, u64) -> Result<Payload<'static>, ChatError>;

/// An ajax post: the session cookie (else 1357001) and its form token (else
/// 1357004) first, then the action, all under one lock.
fn ajax(emulator: &Emulator, req: &Request, action: Action) -> Reply {
    let token = req.cookie("xs").unwrap_or_default();
    let form_id = form_token(req);
    let answer = emulator.with_chat(|chat, now| {
        let uid = chat.authorize_post(token, form_id, now)?;
        action(req, chat, now, uid)
    });
    envelope(match answer {
        Ok(payload) => Envelope::ok(payload),
        Err(err) => Envelope::error(error_code(&err)),
    })
}

fn send(req: &Request, chat: &mut ChatService, now: Instant, uid: u64) -> Result<Payload<'static>, ChatError> {
    let outgoing = Outgoing {
        to: param(req, "to")?,
        text: req.field("msg_text").ok_or(ChatError::BadParameter("msg_text"))?.to_owned(),
        msg_id: req.field("msg_id").map(str::to_owned),
        client_time: param(req, "client_time").ok(),
        offline_ok: false,
    };
    chat.send(uid, outgoing, now)?;
    Ok(Payload::Empty)
}

fn typing(req: &Request, chat: &mut ChatService, now: Instant, uid: u64) -> Result<Payload<'static>, ChatError> {
    let to: u64 = param(req, "to")?;
    let typ: u8 = param(req, "typ")?;
    chat.typing(uid, to, typ != 0, now)?;
    Ok(Payload::Empty)
}

fn settings(req: &Request, chat: &mut ChatService, _: Instant, uid: u64) -> Result<Payload<'static>, ChatError> {
    if let Some(v) = req.field("visibility") {
        chat.set_visible(uid, matches!(v, "true" | "1"));
        return Ok(Payload::Empty);
    }
    if req.field("focus_chat").is_some() || req.field("close_chat").is_some() {
        return Ok(Payload::Empty);
    }
    Err(ChatError::BadParameter("visibility"))
}

fn presence(req: &Request, chat: &mut ChatService, now: Instant, uid: u64) -> Result<Payload<'static>, ChatError> {
    let flag = |name| req.field(name).is_some_and(|v| v == "1" || v == "true");
    let mut presence = Presence { time: Some(chat.unix_ms(now)), ..Presence::default() };
    if flag("buddy_list") {
        let list = chat.buddy_list(uid, now);
        presence.buddy_list = Some(buddy_list(chat, uid, &list, flag("force_render")));
    }
    if req.field("notifications").is_some_and(|v| v == "1") {
        presence.notifications = Some(Notifications {
            count_new: Some(0),
            count: Some(0),
            app_names: UidMap::default(),
            latest_notif: Some(0),
            latest_read_notif: Some(0),
            markup: Some(Cow::Borrowed(
                "<div id=\"presence_no_notifications\" class=\"no_notifications\">No new notifications.</div>",
            )),
            inbox_count: Some(0),
        });
    }
    Ok(Payload::Presence(Box::new(presence)))
}

/// The core's buddy list as the 2008 payload: online friends with their
/// idle flag, and names for every friend and the user.
fn buddy_list(chat: &ChatService, uid: u64, list: &CoreBuddyList, forced: bool) -> BuddyList<'static> {
    let online: Vec<_> = list.friends.iter().filter(|b| b.online).collect();
    let infos = list.friends.iter().map(|b| b.uid).chain(std::iter::once(uid)).filter_map(|f| chat.user(f));
    BuddyList {
        list_changed: Some(list.changed),
        available_count: Some(online.len() as i64),
        now_available: UidMap(
            online.iter().map(|b| (Cow::Owned(b.uid.to_string()), Availability { idle: b.idle })).collect(),
        ),
        was_available: list.went_offline.clone(),
        user_infos: UidMap(
            infos
                .map(|u| {
                    let info = UserInfo {
                        name: Some(Cow::Owned(u.name.clone())),
                        first_name: Some(Cow::Owned(u.first_name.clone())),
                        thumb_src: Some(Cow::Borrowed("http://static.ak.fbcdn.net/pics/q_silhouette.gif")),
                        status: u.status.clone().map(Cow::Owned),
                        status_time: Some(0),
                        status_time_rel: Some(Cow::Borrowed("")),
                    };
                    (Cow::Owned(u.uid.to_string()), info)
                })
                .collect(),
        ),
        forced_render: Some(forced),
        fl_mode: None,
        fl_data: None,
    }
}

fn reconnect(_: &Request, chat: &mut ChatService, _: Instant, uid: u64) -> Result<Payload<'static>, ChatError> {
    let r = chat.reconnect(uid)?;
    Ok(Payload::Reconnect(Reconnect {
        host: Cow::Owned(format!("channel{:02}", r.channel)),
        seq: Some(r.seq),
        extra: Extra::new(),
    }))
}

fn history(req: &Request, chat: &mut ChatService, _: Instant, uid: u64) -> Result<Payload<'static>, ChatError> {
    let friend: u64 = param(req, "id")?;
    let messages = chat.history(uid, friend, chat.config().history_batch);
    let events = messages.iter().map(|m| Event::Msg(message(chat, m))).collect();
    Ok(Payload::History(History { events, extra: Extra::new() }))
}

// ---- the channel ----------------------------------------------------------

/// `/x/{ANY}/{idle}/p_{UID}={SEQ}`: answered at once, or held until the
/// user's log has something at SEQ.
fn poll(emulator: &Arc<Emulator>, req: &Request) -> Reply {
    let Some(PollTarget::Channel { uid, seq, .. }) = PollTarget::parse_parts(&req.path, "") else {
        return Reply::text(400, format!("fbcomet: a channel poll is /x/ANY/false/p_UID=SEQ, not {}\n", req.path));
    };
    let token = req.cookie("xs").unwrap_or_default();
    let polled = match emulator.poll_only(|chat, now| chat.poll(token, uid, seq, now)) {
        Err(err) => return envelope(Envelope::error(error_code(&err))),
        Ok(polled) => polled,
    };
    let fault = emulator.poll_fault();
    let continue_ = || frame_reply(&Frame::continue_());
    if let Some(f) = &fault
        && !f.delivers()
    {
        // A failed poll: the client asks again for the same seq (the hold
        // is given up with `polled`).
        return Reply { fault, ..continue_() };
    }
    let emulator = emulator.clone();
    polled.reply(continue_(), move |answer| {
        let reply = match answer {
            Answer::Read(Read::Events { events, .. }) => {
                let events = emulator.with_chat(|chat, _| events_of(chat, &events));
                frame_reply(&Frame::msg(uid, events))
            }
            Answer::Read(Read::Refresh { seq }) => frame_reply(&Frame::refresh(Some(seq))),
            // A poll replaced by a newer one of its login, or cut short by
            // a stop, asks again as after a hold.
            Answer::Ended(End::Deadline | End::Replaced | End::Shutdown) => continue_(),
            Answer::Ended(End::LoggedOut) => envelope(Envelope::error(ErrorCode::NotLoggedIn)),
        };
        Reply { fault, ..reply }
    })
}

// ---- the wire -------------------------------------------------------------

fn frame_reply(frame: &Frame<'_>) -> Reply {
    Reply::ok(Encoder::new().frame(frame))
}

fn html(status: u16, page: String) -> Reply {
    Reply::with_status(status, page).header("content-type", "text/html; charset=utf-8")
}

/// `; domain=.facebook.com` when the client addressed a facebook.com host
/// (so that the cookies reach the channel hosts too), nothing when it
/// addressed this machine.
fn cookie_domain(req: &Request) -> &'static str {
    match req.host.as_deref().and_then(ChatHost::parse) {
        Some(_) => "; domain=.facebook.com",
        None => "",
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use fbcomet_chat::{ChatConfig, World};

    use crate::testing::{answer, emulator, login, request};
    use crate::{Emulator, EmulatorConfig};

    const HOLD: Duration = Duration::from_secs(50);

    fn poll_target(uid: u64, seq: i64) -> String {
        format!("/x/1234/false/p_{uid}={seq}")
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_poll_is_held_to_its_deadline_then_continues() {
        let emulator = emulator(HOLD);
        let bob = login(&emulator, "bob");
        let got = answer(&emulator, request("GET", &poll_target(bob.uid, 0), Some(&bob), &[])).await;
        assert_eq!(got.status, 200);
        assert!(got.body.contains(r#""t":"continue""#), "{}", got.body);
        assert!(got.after >= HOLD && got.after < HOLD + Duration::from_millis(10), "answered after {:?}", got.after);
    }

    #[tokio::test(start_paused = true)]
    async fn a_message_answers_a_held_poll_when_it_is_sent() {
        let emulator = emulator(HOLD);
        let (alice, bob) = (login(&emulator, "alice"), login(&emulator, "bob"));
        let polling = tokio::spawn({
            let (emulator, bob) = (emulator.clone(), bob.clone());
            async move { answer(&emulator, request("GET", &poll_target(bob.uid, 0), Some(&bob), &[])).await }
        });
        tokio::time::sleep(Duration::from_secs(3)).await;
        let to = bob.uid.to_string();
        let form =
            [("to", to.as_str()), ("msg_text", "hello bob"), ("msg_id", "7"), ("post_form_id", &alice.post_form_id)];
        let sent = answer(&emulator, request("POST", "/ajax/chat/send.php", Some(&alice), &form)).await;
        assert!(sent.body.contains(r#""error":0"#), "{}", sent.body);
        let got = polling.await.expect("poll");
        assert!(got.body.contains("hello bob") && got.body.contains(r#""t":"msg""#), "{}", got.body);
        assert_eq!(got.after, Duration::from_secs(3), "answered when the message came, not at the deadline");
    }

    #[tokio::test(start_paused = true)]
    async fn logging_out_ends_a_held_poll_with_not_logged_in() {
        let emulator = emulator(HOLD);
        let bob = login(&emulator, "bob");
        let polling = tokio::spawn({
            let (emulator, bob) = (emulator.clone(), bob.clone());
            async move { answer(&emulator, request("GET", &poll_target(bob.uid, 0), Some(&bob), &[])).await }
        });
        tokio::time::sleep(Duration::from_secs(2)).await;
        answer(&emulator, request("GET", "/logout.php", Some(&bob), &[])).await;
        let got = polling.await.expect("poll");
        assert!(got.body.contains(r#""error":1357001"#), "{}", got.body);
        assert_eq!(got.after, Duration::from_secs(2));
        let again = answer(&emulator, request("GET", &poll_target(bob.uid, 0), Some(&bob), &[])).await;
        assert!(again.body.contains(r#""error":1357001"#) && again.after.is_zero(), "{again:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_server_expires_a_login_and_its_held_poll() {
        let idle = Duration::from_secs(600);
        let chat = ChatConfig { hold: Duration::from_secs(3600), login_idle: idle, ..ChatConfig::default() };
        let emulator = Emulator::new(&World::default(), EmulatorConfig { chat, faults: None });
        let bob = login(&emulator, "bob");
        let got = answer(&emulator, request("GET", &poll_target(bob.uid, 0), Some(&bob), &[])).await;
        assert!(got.body.contains(r#""error":1357001"#), "{}", got.body);
        // The sweep runs every eighth of the idle time, with no request.
        assert!(got.after >= idle && got.after <= idle + idle / 8, "ended after {:?}", got.after);
    }
}
