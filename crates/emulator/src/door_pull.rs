//! The `/pull` of the 2013-2018 front door: `GET /pull?seq=N&...` on
//! `{N}-edge-chat` hosts, the user named by `channel=p_UID` or, as fbchat
//! pulls, by the `c_user` cookie alone. A pull without the sticky token of
//! the user's last handshake gets `{"t":"lb",...}`; the first pull after it
//! at seq 0 starts from now; every answer carries the `seq` to pull next
//! (fbchat goes back to 0 on one without); messages and read receipts are
//! deltas, typing is `typ`; the prefix has a space after it; a hold ends in
//! `heartbeat`.

use std::borrow::Cow;
use std::sync::Arc;

use fbcomet_chat::{Answer, End, Pull, Read};
use fbcomet_codec::{Encoder, Envelope, ErrorCode, Extra, Frame, FrameKind, PollTarget, Prefix, RawJson};

use super::shell::{Door, Emulator};
use super::wire::{deltas_of, envelope, error_code};
use fbcomet_server::{Reply, Request};

/// A pull: answered at once, or held until the user's log has something at
/// its seq.
/// `/pull`.
pub(super) const DOOR: Door =
    Door { name: Some("web (2013-2018)"), serves: |req, _| req.path == "/pull", answer: poll };

fn poll(emulator: &Arc<Emulator>, req: &Request) -> Reply {
    let target = PollTarget::Pull { query: req.query.clone() };
    let uid = target.uid().or_else(|| req.cookie("c_user")?.trim().parse().ok());
    let (Some(uid), Some(seq)) = (uid, target.seq()) else {
        return Reply::text(400, "fbcomet: /pull needs seq=N, and channel=p_UID or the c_user cookie\n");
    };
    let partition = match target.param("partition").map(|p| p.trim().parse::<i64>()) {
        None => None,
        Some(Ok(p)) => Some(p),
        Some(Err(_)) => return envelope(Envelope::error(ErrorCode::BadParameter)),
    };
    let token = req.cookie("xs").unwrap_or_default().to_owned();
    let sticky = target.param("sticky_token");
    let polled = emulator.poll(|chat, now| {
        Ok(match chat.pull(&token, uid, seq, sticky, partition, now)? {
            Pull::Poll(poll) => Ok(poll),
            Pull::Handshake { sticky, pool } => Err((sticky, pool)),
        })
    });
    let polled = match polled {
        Err(err) => return envelope(Envelope::error(error_code(&err))),
        Ok(Err((sticky, pool))) => {
            return frame_reply(&Frame::new(FrameKind::Lb {
                sticky: Cow::Owned(sticky),
                pool: Some(Cow::Owned(pool)),
                info_extra: Extra::new(),
            }));
        }
        Ok(Ok(polled)) => polled,
    };
    let fault = emulator.poll_fault();
    if let Some(f) = &fault
        && !f.delivers()
    {
        // The hold is given up with `polled`.
        return Reply { fault, ..heartbeat(seq) };
    }
    polled.reply(heartbeat(seq), move |answer| {
        let reply = match answer {
            Answer::Read(Read::Events { events, next, .. }) => events_reply(uid, &events, next),
            Answer::Read(Read::Refresh { seq }) => frame_reply(&Frame::refresh(Some(seq))),
            Answer::Ended(End::Deadline | End::Replaced | End::Shutdown) => heartbeat(seq),
            Answer::Ended(End::LoggedOut) => envelope(Envelope::error(ErrorCode::NotLoggedIn)),
        };
        Reply { fault, ..reply }
    })
}

/// A `msg` frame that carries the next seq and the user, as pulls did.
fn events_reply(uid: u64, events: &[fbcomet_chat::ChatEvent], next: i64) -> Reply {
    let mut frame = Frame::msg(uid, deltas_of(uid, events));
    frame.seq = Some(next);
    if let Ok(u) = RawJson::from_string(uid.to_string()) {
        frame.extra.push("u", u);
    }
    frame_reply(&frame)
}

/// Nothing came: a heartbeat, with the seq to pull again.
fn heartbeat(seq: i64) -> Reply {
    let mut frame = Frame::new(FrameKind::Heartbeat);
    frame.seq = Some(seq);
    frame_reply(&frame)
}

fn frame_reply(frame: &Frame<'_>) -> Reply {
    Reply::ok(Encoder::new().prefix(Prefix::Spaced).frame(frame))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use fbcomet_chat::{ChatConfig, Grant, Outgoing, World};
    use fbcomet_codec::{FrameKind, decode_frame};

    use crate::testing::{Got, answer, login, request};
    use crate::{Emulator, EmulatorConfig};

    const PULL_HOLD: Duration = Duration::from_secs(25);

    fn emulator() -> std::sync::Arc<Emulator> {
        let chat = ChatConfig { hold: Duration::from_secs(55), pull_hold: PULL_HOLD, ..ChatConfig::default() };
        Emulator::new(&World::default(), EmulatorConfig { chat, faults: None })
    }

    async fn pull(emulator: &std::sync::Arc<Emulator>, who: &Grant, seq: i64, sticky: Option<&str>) -> Got {
        let mut target = format!("/pull?channel=p_{}&seq={seq}&partition=-2", who.uid);
        if let Some(sticky) = sticky {
            target.push_str(&format!("&sticky_token={sticky}"));
        }
        answer(emulator, request("GET", &target, Some(who), &[])).await
    }

    /// The `lb` handshake's sticky token.
    async fn handshake(emulator: &std::sync::Arc<Emulator>, who: &Grant) -> String {
        let got = pull(emulator, who, 0, None).await;
        let frame = decode_frame(got.body.as_bytes()).expect("a frame");
        match frame.kind {
            FrameKind::Lb { sticky, .. } => sticky.into_owned(),
            other => panic!("expected lb, got {other:?}"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_pull_is_held_for_the_pull_hold_and_ends_with_a_heartbeat() {
        let emulator = emulator();
        let bob = login(&emulator, "bob");
        let sticky = handshake(&emulator, &bob).await;
        let got = pull(&emulator, &bob, 0, Some(&sticky)).await;
        assert!(got.body.contains(r#""t":"heartbeat""#) && got.body.contains(r#""seq":0"#), "{}", got.body);
        assert!(got.after >= PULL_HOLD && got.after < PULL_HOLD + Duration::from_millis(10), "after {:?}", got.after);
    }

    #[tokio::test(start_paused = true)]
    async fn a_message_ends_a_held_pull_with_its_delta_and_the_next_seq() {
        let emulator = emulator();
        let (alice, bob) = (login(&emulator, "alice"), login(&emulator, "bob"));
        let sticky = handshake(&emulator, &bob).await;
        let pulling = tokio::spawn({
            let (emulator, bob) = (emulator.clone(), bob.clone());
            async move { pull(&emulator, &bob, 0, Some(&sticky)).await }
        });
        tokio::time::sleep(Duration::from_secs(4)).await;
        let sent = emulator.with_chat(|chat, now| chat.send(alice.uid, Outgoing::new(bob.uid, "over pull"), now));
        assert!(sent.is_ok(), "{sent:?}");
        let got = pulling.await.expect("pull");
        assert_eq!(got.after, Duration::from_secs(4));
        assert!(got.body.contains("over pull") && got.body.contains(r#""seq":1"#), "{}", got.body);
    }
}
