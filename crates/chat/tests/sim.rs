//! The service's rules in simulated time: no sockets, no sleeps.

use std::time::{Duration, Instant};

use fbcomet_chat::{
    ChatConfig, ChatError, ChatEvent, ChatService, Grant, LoginError, Outgoing, Output, Poll, PollKind, World,
};

const ALICE: u64 = 1001;
const BOB: u64 = 1002;
const CAROL: u64 = 1003;

/// The service and a clock that tests move by hand.
struct Sim {
    chat: ChatService,
    now: Instant,
}

impl Sim {
    fn new(config: ChatConfig) -> Self {
        let now = Instant::now();
        Self {
            chat: ChatService::new(&World::default(), ChatConfig { seed: Some(7), ..config }, now, 1_210_000_000_000),
            now,
        }
    }

    fn advance(&mut self, by: Duration) {
        self.now += by;
        self.chat.handle_timeout(self.now);
    }

    fn login(&mut self, name: &str) -> Grant {
        self.chat.login(&format!("{name}@example.com"), name, None, self.now).expect("login")
    }

    fn send(&mut self, from: &Grant, to: u64, text: &str, id: &str) -> Result<bool, ChatError> {
        let uid = self.chat.authorize_post(&from.token, Some(&from.post_form_id), self.now)?;
        let outgoing = Outgoing { msg_id: Some(id.to_owned()), ..Outgoing::new(to, text) };
        self.chat.send(uid, outgoing, self.now).map(|s| !s.duplicate)
    }

    fn poll(&mut self, who: &Grant, seq: i64) -> Result<Poll, ChatError> {
        self.chat.poll(&who.token, who.uid, seq, PollKind::Channel, self.now)
    }

    fn wakes(&mut self) -> Vec<u64> {
        std::iter::from_fn(|| self.chat.poll_output())
            .map(|output| match output {
                Output::Wake { uid } => uid,
                other => panic!("unexpected {other:?}"),
            })
            .collect()
    }

    /// Keeps `who` online with a held poll.
    fn hold(&mut self, who: &Grant) {
        self.chat.begin_hold(who.uid, self.now);
    }
}

fn texts(poll: &Poll) -> Vec<String> {
    match poll {
        Poll::Events { events, .. } => events
            .iter()
            .filter_map(|e| match e {
                ChatEvent::Message(m) => Some(m.text.clone()),
                ChatEvent::Typing { .. } | ChatEvent::Read { .. } | ChatEvent::Delivered { .. } => None,
            })
            .collect(),
        other => panic!("expected events, got {other:?}"),
    }
}

#[test]
fn presence_follows_holds_the_online_window_and_idleness() {
    let config = ChatConfig {
        online_window: Duration::from_secs(120),
        idle_after: Duration::from_secs(600),
        ..ChatConfig::default()
    };
    let mut sim = Sim::new(config);
    let alice = sim.login("alice");
    let bob = sim.login("bob");
    assert!(!sim.chat.is_online(BOB, sim.now), "a login alone is not presence until a request");

    sim.hold(&bob);
    sim.advance(Duration::from_secs(1000));
    assert!(sim.chat.is_online(BOB, sim.now), "online while a poll is held, however long");
    assert!(sim.chat.is_idle(BOB, sim.now), "neither logged in, typed nor sent for long: idle");

    sim.chat.end_hold(BOB, sim.now);
    sim.advance(Duration::from_secs(120));
    assert!(sim.chat.is_online(BOB, sim.now), "online for the window after the last poll");
    sim.advance(Duration::from_millis(1));
    assert!(!sim.chat.is_online(BOB, sim.now), "offline after it");

    sim.hold(&bob);
    sim.hold(&alice);
    sim.send(&bob, ALICE, "back", "1").expect("send");
    assert!(!sim.chat.is_idle(BOB, sim.now), "sending makes active");
    sim.advance(Duration::from_secs(601));
    assert!(sim.chat.is_idle(BOB, sim.now), "idle after idle_after without activity");

    // Alice's buddy list shows Bob online and idle, and who went offline.
    let list = sim.chat.buddy_list(ALICE, sim.now);
    let bob_entry = list.friends.iter().find(|b| b.uid == BOB).expect("Bob listed");
    assert!(bob_entry.online && bob_entry.idle);
    assert!(list.changed);
    sim.chat.end_hold(BOB, sim.now);
    sim.advance(Duration::from_secs(121));
    let list = sim.chat.buddy_list(ALICE, sim.now);
    assert_eq!(list.went_offline, vec![BOB]);

    sim.chat.set_visible(ALICE, false);
    assert!(!sim.chat.is_online(ALICE, sim.now), "invisible while held");
}

#[test]
fn a_seq_below_the_window_is_sent_to_the_oldest_event_kept() {
    let mut sim = Sim::new(ChatConfig { window: 5, ..ChatConfig::default() });
    let alice = sim.login("alice");
    let bob = sim.login("bob");
    sim.hold(&bob);
    for n in 0..8 {
        sim.send(&alice, BOB, &format!("m{n}"), &n.to_string()).expect("send");
    }
    // Bob polled seq 1 last; events 0 to 2 have left the window.
    assert_eq!(sim.poll(&bob, 1), Ok(Poll::Refresh { seq: 3 }));
    assert_eq!(texts(&sim.poll(&bob, 3).unwrap()), ["m3", "m4", "m5", "m6", "m7"]);
    assert_eq!(sim.poll(&bob, -1), Ok(Poll::Refresh { seq: 8 }), "-1 starts at the end");
    assert_eq!(sim.poll(&bob, 99), Ok(Poll::Refresh { seq: 8 }), "past the end: the end");
    assert!(matches!(sim.poll(&bob, 8), Ok(Poll::Hold { .. })));
}

#[test]
fn a_resent_msg_id_is_taken_once_and_ids_are_per_sender() {
    let mut sim = Sim::new(ChatConfig::default());
    let alice = sim.login("alice");
    let bob = sim.login("bob");
    let carol = sim.login("carol");
    sim.hold(&alice);
    assert_eq!(sim.send(&bob, ALICE, "once", "42"), Ok(true));
    assert_eq!(sim.send(&bob, ALICE, "once", "42"), Ok(false), "a retry of the same message");
    assert_eq!(sim.send(&carol, ALICE, "mine too", "42"), Ok(true), "Carol's id 42 is not Bob's");
    assert_eq!(texts(&sim.poll(&alice, 0).unwrap()), ["once", "mine too"]);
    let stats = sim.chat.stats();
    assert_eq!((stats.messages, stats.duplicate_sends), (2, 1));
}

#[test]
fn sends_are_refused_where_the_service_refused_them() {
    let mut sim = Sim::new(ChatConfig { max_message_chars: 5, ..ChatConfig::default() });
    let alice = sim.login("alice");
    let bob = sim.login("bob");
    assert_eq!(sim.send(&alice, BOB, "hi", "1"), Err(ChatError::DestinationNotOnline), "Bob never polled");
    sim.hold(&bob);
    assert_eq!(sim.send(&alice, BOB, "", "2"), Err(ChatError::Validation));
    assert_eq!(
        sim.send(&alice, BOB, "\u{1F600}\u{1F600}\u{1F600}\u{1F600}\u{1F600}", "3"),
        Ok(true),
        "characters, not bytes"
    );
    assert_eq!(sim.send(&alice, BOB, "123456", "4"), Err(ChatError::Validation));
    assert_eq!(sim.send(&alice, 4242, "hi", "5"), Err(ChatError::DestinationNotOnline), "not a friend");
    let err = sim.chat.authorize_post(&alice.token, Some("stale"), sim.now);
    assert_eq!(err, Err(ChatError::CsrfFailed));
    assert_eq!(sim.chat.authorize_post("nobody", Some(&alice.post_form_id), sim.now), Err(ChatError::NotLoggedIn));
    assert_eq!(sim.chat.login("alice@example.com", "bob", None, sim.now), Err(LoginError::WrongCredentials));
    assert_eq!(sim.chat.poll(&alice.token, BOB, 0, PollKind::Channel, sim.now), Err(ChatError::LoginChanged));
}

#[test]
fn history_keeps_the_last_messages_of_each_pair() {
    let mut sim = Sim::new(ChatConfig { conversation_history: 3, ..ChatConfig::default() });
    let alice = sim.login("alice");
    let bob = sim.login("bob");
    sim.hold(&alice);
    sim.hold(&bob);
    for n in 0..5 {
        let (from, to) = if n % 2 == 0 { (&alice, BOB) } else { (&bob, ALICE) };
        sim.send(from, to, &format!("m{n}"), &n.to_string()).expect("send");
    }
    let history: Vec<String> = sim.chat.history(ALICE, BOB).iter().map(|m| m.text.clone()).collect();
    assert_eq!(history, ["m2", "m3", "m4"]);
    assert_eq!(sim.chat.history(BOB, ALICE), sim.chat.history(ALICE, BOB), "one conversation, seen from both");
    assert!(sim.chat.history(ALICE, CAROL).is_empty());
}

#[test]
fn pull_checks_the_sticky_token_and_the_partition() {
    let mut sim = Sim::new(ChatConfig::default());
    let bob = sim.login("bob");
    let pull = |sticky, partition| PollKind::Pull { sticky, partition };
    let Ok(Poll::Handshake { sticky, pool }) = sim.chat.poll(&bob.token, BOB, 0, pull(None, Some(-2)), sim.now) else {
        panic!("a pull without a sticky token gets the handshake");
    };
    assert_eq!(pool, fbcomet_chat::PULL_POOL);
    let held = sim.chat.poll(&bob.token, BOB, 0, pull(Some(&sticky), Some(-2)), sim.now);
    assert!(matches!(held, Ok(Poll::Hold { .. })), "{held:?}");
    let wrong = sim.chat.poll(&bob.token, BOB, 0, pull(Some("999999"), Some(-2)), sim.now);
    let Ok(Poll::Handshake { sticky: second, .. }) = wrong else { panic!("a wrong sticky token: handshake again") };
    let old = sim.chat.poll(&bob.token, BOB, 0, pull(Some(&sticky), None), sim.now);
    assert_ne!(sticky, second);
    assert!(matches!(old, Ok(Poll::Handshake { .. })), "the old token is stale now");
    assert_eq!(
        sim.chat.poll(&bob.token, BOB, 0, pull(Some(&second), Some(5)), sim.now),
        Err(ChatError::BadParameter("partition"))
    );
}

#[test]
fn two_pollers_of_one_user_both_get_each_event() {
    let mut sim = Sim::new(ChatConfig::default());
    let alice = sim.login("alice");
    let bob_tab1 = sim.login("bob");
    let bob_tab2 = sim.login("bob");
    sim.hold(&bob_tab1);
    sim.hold(&bob_tab2);
    assert!(matches!(sim.poll(&bob_tab1, 0), Ok(Poll::Hold { .. })));
    assert!(matches!(sim.poll(&bob_tab2, 0), Ok(Poll::Hold { .. })));
    sim.send(&alice, BOB, "to both tabs", "1").expect("send");
    assert!(sim.wakes().contains(&BOB));
    assert_eq!(texts(&sim.chat.read(BOB, 0, sim.now)), ["to both tabs"]);
    assert_eq!(texts(&sim.chat.read(BOB, 0, sim.now)), ["to both tabs"], "reading does not consume");
    sim.chat.end_hold(BOB, sim.now);
    assert!(sim.chat.is_online(BOB, sim.now), "the other tab still holds");
    assert_eq!(sim.chat.stats().held, 1);
}

#[test]
fn a_login_unused_for_too_long_expires_and_wakes_its_polls() {
    let mut sim = Sim::new(ChatConfig { login_idle: Duration::from_secs(60), ..ChatConfig::default() });
    let bob = sim.login("bob");
    sim.wakes();
    sim.advance(Duration::from_secs(59));
    sim.poll(&bob, -1).expect("still logged in: and used now");
    sim.advance(Duration::from_secs(59));
    assert!(sim.chat.still_logged_in(&bob.token, BOB));
    sim.advance(Duration::from_secs(120));
    assert!(!sim.chat.still_logged_in(&bob.token, BOB));
    assert_eq!(sim.wakes(), [BOB], "held polls learn of it");
    assert_eq!(sim.poll(&bob, 0), Err(ChatError::NotLoggedIn));
    assert_eq!(sim.chat.stats().expired_logins, 1);
}

#[test]
fn logins_per_user_are_capped_least_recently_used_first() {
    let mut sim = Sim::new(ChatConfig { logins_per_user: 2, ..ChatConfig::default() });
    let first = sim.login("bob");
    sim.advance(Duration::from_secs(1));
    let second = sim.login("bob");
    sim.advance(Duration::from_secs(1));
    sim.poll(&first, -1).expect("first used again");
    sim.advance(Duration::from_secs(1));
    let third = sim.login("bob");
    assert!(sim.chat.still_logged_in(&first.token, BOB));
    assert!(!sim.chat.still_logged_in(&second.token, BOB), "the least recently used went");
    assert!(sim.chat.still_logged_in(&third.token, BOB));
}

#[test]
fn logout_ends_presence_and_wakes_held_polls() {
    let mut sim = Sim::new(ChatConfig::default());
    let alice = sim.login("alice");
    let bob = sim.login("bob");
    sim.hold(&alice);
    sim.poll(&alice, 0).expect("held");
    sim.wakes();
    assert_eq!(sim.chat.logout(&alice.token, sim.now), Some(ALICE));
    assert_eq!(sim.wakes(), [ALICE]);
    assert!(!sim.chat.still_logged_in(&alice.token, ALICE), "the woken poll finds the login gone");
    sim.chat.end_hold(ALICE, sim.now);
    assert!(!sim.chat.is_online(ALICE, sim.now), "offline at once, not after the window");
    assert_eq!(sim.send(&bob, ALICE, "anyone?", "1"), Err(ChatError::DestinationNotOnline));
}

#[test]
fn typing_reaches_the_friend_and_makes_active() {
    let mut sim = Sim::new(ChatConfig::default());
    let alice = sim.login("alice");
    let bob = sim.login("bob");
    sim.hold(&bob);
    let uid = sim.chat.authorize_post(&alice.token, Some(&alice.post_form_id), sim.now).unwrap();
    sim.chat.typing(uid, BOB, true, sim.now).expect("typing");
    assert_eq!(
        sim.poll(&bob, 0),
        Ok(Poll::Events { from: 0, events: vec![ChatEvent::Typing { from: ALICE, to: BOB, typing: true }], next: 1 })
    );
    assert!(!sim.chat.is_idle(ALICE, sim.now));
    assert_eq!(sim.chat.typing(uid, 4242, true, sim.now), Err(ChatError::DestinationNotOnline));
}

#[test]
fn message_times_follow_the_given_clock() {
    let mut sim = Sim::new(ChatConfig::default());
    let alice = sim.login("alice");
    let bob = sim.login("bob");
    sim.hold(&bob);
    sim.advance(Duration::from_millis(1500));
    sim.send(&alice, BOB, "when?", "1").unwrap();
    assert_eq!(sim.chat.history(ALICE, BOB)[0].time_ms, 1_210_000_001_500);
}

#[test]
fn wrong_passwords_slow_their_address_down_but_not_the_real_user_elsewhere() {
    let mut sim = Sim::new(ChatConfig::default());
    let attacker = Some(std::net::IpAddr::from([127, 0, 0, 9]));
    let user = Some(std::net::IpAddr::from([127, 0, 0, 1]));
    for guess in 0..5 {
        let refused = sim.chat.login("alice@example.com", &format!("guess{guess}"), attacker, sim.now);
        assert_eq!(refused, Err(LoginError::WrongCredentials));
    }
    // Even the right password is not looked at now, from that address.
    let throttled = sim.chat.login("alice@example.com", "alice", attacker, sim.now);
    assert!(matches!(throttled, Err(LoginError::Throttled { retry_after }) if retry_after == Duration::from_secs(1)));
    // Alice, elsewhere, logs in.
    assert!(sim.chat.login("alice@example.com", "alice", user, sim.now).is_ok());
    // The attacker, after waiting, may try once more, and waits longer.
    sim.advance(Duration::from_secs(1));
    assert_eq!(sim.chat.login("alice@example.com", "nope", attacker, sim.now), Err(LoginError::WrongCredentials));
    let throttled = sim.chat.login("alice@example.com", "nope", attacker, sim.now);
    assert!(matches!(throttled, Err(LoginError::Throttled { retry_after }) if retry_after == Duration::from_secs(2)));
    let stats = sim.chat.stats();
    assert_eq!((stats.failed_logins, stats.throttled_logins), (6, 2));
}

#[test]
fn a_pull_starting_at_seq_0_starts_from_now_and_is_held_for_the_pull_hold() {
    let config =
        ChatConfig { hold: Duration::from_secs(55), pull_hold: Duration::from_secs(25), ..ChatConfig::default() };
    let mut sim = Sim::new(config);
    let (alice, bob) = (sim.login("alice"), sim.login("bob"));
    sim.hold(&bob);
    for n in 0..3 {
        sim.send(&alice, BOB, &format!("old {n}"), &n.to_string()).expect("send");
    }
    let pull = |sticky| PollKind::Pull { sticky, partition: Some(-2) };
    let Ok(Poll::Handshake { sticky, .. }) = sim.chat.poll(&bob.token, BOB, 0, pull(None), sim.now) else {
        panic!("handshake first");
    };
    // fbchat's first pull is seq=0: it starts from now, not with old messages.
    assert_eq!(sim.chat.poll(&bob.token, BOB, 0, pull(Some(&sticky)), sim.now), Ok(Poll::Refresh { seq: 3 }));
    assert_eq!(
        sim.chat.poll(&bob.token, BOB, 3, pull(Some(&sticky)), sim.now),
        Ok(Poll::Hold { deadline: sim.now + Duration::from_secs(25) })
    );
    // Once under way, seq 0 means seq 0 (the oldest event kept).
    let again = sim.chat.poll(&bob.token, BOB, 0, pull(Some(&sticky)), sim.now);
    assert_eq!(texts(&again.expect("events")), ["old 0", "old 1", "old 2"]);
    assert_eq!(
        sim.poll(&bob, 3),
        Ok(Poll::Hold { deadline: sim.now + Duration::from_secs(55) }),
        "the 2008 channel keeps its own hold"
    );
}

#[test]
fn read_receipts_reach_the_partner_and_count_unread() {
    let mut sim = Sim::new(ChatConfig::default());
    let (alice, bob) = (sim.login("alice"), sim.login("bob"));
    sim.hold(&alice);
    sim.hold(&bob);
    sim.send(&alice, BOB, "one", "1").expect("send");
    sim.advance(Duration::from_millis(5));
    sim.send(&alice, BOB, "two", "2").expect("send");
    sim.send(&bob, ALICE, "back", "3").expect("send");
    let threads = sim.chat.threads(BOB);
    assert_eq!(threads.len(), 1);
    assert_eq!((threads[0].partner, threads[0].messages, threads[0].unread), (ALICE, 3, 2));
    assert_eq!(threads[0].last.text, "back");
    sim.wakes();
    sim.advance(Duration::from_millis(5));
    sim.chat.mark_read(BOB, ALICE, None, sim.now);
    assert_eq!(sim.wakes(), [ALICE], "the partner is told");
    assert_eq!(sim.chat.threads(BOB)[0].unread, 0);
    let Ok(Poll::Events { events, .. }) = sim.poll(&alice, 3) else { panic!("a receipt") };
    assert!(matches!(events[..], [ChatEvent::Read { reader: BOB, .. }]), "{events:?}");
    sim.chat.mark_read(BOB, ALICE, None, sim.now);
    assert!(sim.wakes().is_empty(), "reading again up to the same time says nothing");
}

#[test]
fn offline_recipients_get_messages_where_the_dialect_allows() {
    let mut sim = Sim::new(ChatConfig::default());
    let alice = sim.login("alice");
    let uid = sim.chat.authorize_post(&alice.token, Some(&alice.post_form_id), sim.now).expect("auth");
    let to_carol = |offline_ok| Outgoing { offline_ok, ..Outgoing::new(CAROL, "are you there?") };
    assert_eq!(sim.chat.send(uid, to_carol(false), sim.now).map(|_| ()), Err(ChatError::DestinationNotOnline));
    assert!(sim.chat.send(uid, to_carol(true), sim.now).is_ok());
    assert_eq!(sim.chat.history(CAROL, ALICE).len(), 1, "waiting in Carol's inbox");
}

#[test]
fn a_pull_starting_out_misses_nothing_sent_after_its_handshake() {
    let mut sim = Sim::new(ChatConfig::default());
    let (alice, bob) = (sim.login("alice"), sim.login("bob"));
    sim.hold(&bob);
    sim.send(&alice, BOB, "before", "1").expect("send");
    let pull = |sticky| PollKind::Pull { sticky, partition: None };
    let Ok(Poll::Handshake { sticky, .. }) = sim.chat.poll(&bob.token, BOB, -1, pull(None), sim.now) else {
        panic!("handshake first");
    };
    sim.send(&alice, BOB, "after the handshake", "2").expect("send");
    // fbcomet's receiver asks -1 (fbchat 0): where the log stood at the handshake.
    assert_eq!(sim.chat.poll(&bob.token, BOB, -1, pull(Some(&sticky)), sim.now), Ok(Poll::Refresh { seq: 1 }));
    let read = sim.chat.poll(&bob.token, BOB, 1, pull(Some(&sticky)), sim.now).expect("events");
    assert_eq!(texts(&read), ["after the handshake"]);
}

#[test]
fn any_user_messages_a_page_and_the_page_answers_only_those_who_wrote() {
    let world = World {
        pages: vec![fbcomet_chat::Page {
            id: 2001,
            name: "Roger Bot".into(),
            access_token: "T".into(),
            webhook: None,
            verify_token: None,
            app_secret: None,
        }],
        ..World::default()
    };
    let now = Instant::now();
    let mut chat = ChatService::new(&world, ChatConfig { seed: Some(1), ..ChatConfig::default() }, now, 0);
    assert_eq!(chat.page_by_token("T").map(|p| p.id), Some(2001));
    // The page is no one's friend, is never online, and takes messages anyway.
    assert!(chat.send(ALICE, Outgoing::new(2001, "hi page"), now).is_ok());
    assert_eq!(chat.poll_output(), Some(Output::Wake { uid: 2001 }));
    // It answers Alice (offline or not) and types to her; not Carol.
    assert!(chat.send(2001, Outgoing::new(ALICE, "hi Alice"), now).is_ok());
    assert!(chat.typing(2001, ALICE, true, now).is_ok());
    assert_eq!(chat.send(2001, Outgoing::new(CAROL, "spam"), now).map(|_| ()), Err(ChatError::DestinationNotOnline));
    assert_eq!(chat.typing(2001, CAROL, true, now), Err(ChatError::DestinationNotOnline));
    // Deliveries reach pages only.
    chat.mark_delivered(ALICE, 2001, None, now);
    chat.mark_delivered(ALICE, BOB, None, now);
    let outputs: Vec<_> = std::iter::from_fn(|| chat.poll_output()).collect();
    assert!(
        outputs.contains(&Output::Wake { uid: 2001 }) && !outputs.contains(&Output::Wake { uid: BOB }),
        "{outputs:?}"
    );
    assert_eq!(chat.threads(ALICE)[0].partner, 2001, "the page is a thread of Alice's");
}
