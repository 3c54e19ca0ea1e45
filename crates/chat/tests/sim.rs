//! The service's rules in simulated time: no sockets, no sleeps, no tokio.
//! Every test runs twice: over [`MemoryStore`], and over a store that
//! passes every record through bytes ([`support::BytesStore`]).

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use fbcomet_chat::{
    Answer, Change, ChatConfig, ChatError, ChatEvent, ChatService, End, Grant, HoldId, LoginError, Outgoing, Output,
    Poll, Pull, Read, Seen, Store, World, presence,
};

const ALICE: u64 = 1001;
const BOB: u64 = 1002;
const CAROL: u64 = 1003;
const PAGE: u64 = 2001;

/// The service and a clock that tests move by hand.
struct Sim<S: Store> {
    chat: ChatService<S>,
    now: Instant,
}

impl<S: Store + Default> Sim<S> {
    fn new(config: ChatConfig) -> Self {
        Self::with_world(&World::default(), config)
    }

    fn with_world(world: &World, config: ChatConfig) -> Self {
        let now = Instant::now();
        let config = ChatConfig { seed: Some(7), ..config };
        Self { chat: ChatService::with_store(world, config, S::default(), now, 1_210_000_000_000), now }
    }
}

impl<S: Store> Sim<S> {
    /// Moves the clock, meeting every timeout on the way as a shell's
    /// timer would.
    fn advance(&mut self, by: Duration) {
        let end = self.now + by;
        loop {
            let at = self.chat.poll_timeout();
            if at > end {
                break;
            }
            self.now = self.now.max(at);
            self.chat.handle_timeout(self.now);
        }
        self.now = end;
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

    /// A poll of the 2008 channel.
    fn poll(&mut self, who: &Grant, seq: i64) -> Result<Poll, ChatError> {
        self.chat.poll(&who.token, who.uid, seq, self.now)
    }

    fn pull(&mut self, who: &Grant, seq: i64, sticky: Option<&str>, partition: Option<i64>) -> Result<Pull, ChatError> {
        self.chat.pull(&who.token, who.uid, seq, sticky, partition, self.now)
    }

    /// A poll that must be held.
    fn held(&mut self, who: &Grant, seq: i64) -> HoldId {
        match self.poll(who, seq) {
            Ok(Poll::Held(id)) => id,
            other => panic!("expected a hold, got {other:?}"),
        }
    }

    /// Every answer the service gave since the last call.
    fn answers(&mut self) -> Vec<(HoldId, Answer)> {
        std::iter::from_fn(|| self.chat.poll_output())
            .map(|output| match output {
                Output::Answer { hold, answer, .. } => (hold, answer),
                other => panic!("unexpected {other:?}"),
            })
            .collect()
    }

    /// Keeps `who` online as an XMPP session does: a subscription with the
    /// login, present.
    fn stay(&mut self, who: &Grant) -> HoldId {
        let id = self.chat.subscribe(who.uid, Some(&who.token), None, self.now).expect("subscribe");
        self.chat.set_present(id, true, self.now);
        id
    }
}

fn texts_of(read: &Read) -> Vec<String> {
    match read {
        Read::Events { events, .. } => events
            .iter()
            .filter_map(|e| match e {
                ChatEvent::Message(m) => Some(m.text.clone()),
                ChatEvent::Typing { .. } | ChatEvent::Read { .. } | ChatEvent::Delivered { .. } => None,
            })
            .collect(),
        other => panic!("expected events, got {other:?}"),
    }
}

fn texts(poll: &Poll) -> Vec<String> {
    match poll {
        Poll::Read(read) => texts_of(read),
        other => panic!("expected events, got {other:?}"),
    }
}

fn refresh(seq: i64) -> Result<Poll, ChatError> {
    Ok(Poll::Read(Read::Refresh { seq }))
}

/// Runs each test over both stores.
macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $( #[test] fn $name() { super::$name::<fbcomet_chat::MemoryStore>() } )*
        }
        mod bytes {
            $( #[test] fn $name() { super::$name::<crate::support::BytesStore>() } )*
        }
    };
}

on_both_stores!(
    presence_follows_holds_the_online_window_and_idleness,
    a_seq_below_the_window_is_sent_to_the_oldest_event_kept,
    a_resent_msg_id_is_taken_once_and_ids_are_per_sender,
    sends_are_refused_where_the_service_refused_them,
    history_keeps_the_last_messages_of_each_pair,
    pull_checks_the_sticky_token_and_the_partition,
    two_pollers_of_one_user_both_get_each_event,
    a_login_unused_for_too_long_expires_and_ends_its_polls,
    logins_per_user_are_capped_least_recently_used_first,
    logout_ends_presence_and_held_polls,
    typing_reaches_the_friend_and_makes_active,
    message_times_follow_the_given_clock,
    wrong_passwords_slow_their_address_down_but_not_the_real_user_elsewhere,
    a_pull_starting_at_seq_0_starts_from_now_and_is_held_for_the_pull_hold,
    read_receipts_reach_the_partner_and_count_unread,
    offline_recipients_get_messages_where_the_dialect_allows,
    a_pull_starting_out_misses_nothing_sent_after_its_handshake,
    any_user_messages_a_page_and_the_page_answers_only_those_who_wrote,
    a_held_poll_meets_its_deadline_through_poll_timeout,
    one_conversation_across_a_held_poll_an_xmpp_session_and_a_webhook_cursor,
    a_login_holds_a_bounded_number_of_polls,
    a_process_that_dies_leaves_no_one_online_past_the_lease,
    one_answer_carries_a_bounded_batch,
    ids_and_accounts_past_their_limits_are_refused_uncounted,
    the_web_doors_and_a_session_see_one_buddy_list_diff,
    a_subscription_is_not_counted_as_a_poll,
);

fn presence_follows_holds_the_online_window_and_idleness<S: Store + Default>() {
    let config = ChatConfig {
        online_window: Duration::from_secs(120),
        idle_after: Duration::from_secs(600),
        ..ChatConfig::default()
    };
    let mut sim = Sim::<S>::new(config);
    let alice = sim.login("alice");
    let bob = sim.login("bob");
    assert!(!sim.chat.is_online(BOB, sim.now), "a login alone is not presence until a request");

    let session = sim.stay(&bob);
    sim.advance(Duration::from_secs(1000));
    assert!(sim.chat.is_online(BOB, sim.now), "online while a session is there, however long");
    assert!(sim.chat.is_idle(BOB, sim.now), "neither logged in, typed nor sent for long: idle");

    sim.chat.cancel(session, sim.now);
    sim.advance(Duration::from_secs(120));
    assert!(sim.chat.is_online(BOB, sim.now), "online for the window after the last poll");
    sim.advance(Duration::from_millis(1));
    assert!(!sim.chat.is_online(BOB, sim.now), "offline after it");

    let session = sim.stay(&bob);
    sim.stay(&alice);
    sim.send(&bob, ALICE, "back", "1").expect("send");
    assert!(!sim.chat.is_idle(BOB, sim.now), "sending makes active");
    sim.advance(Duration::from_secs(601));
    assert!(sim.chat.is_idle(BOB, sim.now), "idle after idle_after without activity");

    // Alice's buddy list shows Bob online and idle, and who went offline.
    let list = sim.chat.buddy_list(ALICE, sim.now);
    let bob_entry = list.friends.iter().find(|b| b.uid == BOB).expect("Bob listed");
    assert!(bob_entry.online && bob_entry.idle);
    assert!(list.changed);
    sim.chat.cancel(session, sim.now);
    sim.advance(Duration::from_secs(121));
    let list = sim.chat.buddy_list(ALICE, sim.now);
    assert_eq!(list.went_offline, vec![BOB]);

    sim.chat.set_visible(ALICE, false);
    assert!(!sim.chat.is_online(ALICE, sim.now), "invisible while there");
}

fn the_web_doors_and_a_session_see_one_buddy_list_diff<S: Store + Default>() {
    let mut sim = Sim::<S>::new(ChatConfig::default());
    let alice = sim.login("alice");
    let bob = sim.login("bob");
    let carol = sim.login("carol");
    // An XMPP session keeps what it told its client; the web doors keep it
    // in the store. Both come from the same diff.
    let mut told = BTreeMap::new();
    let first = sim.chat.buddy_list(ALICE, sim.now);
    assert!(first.changed, "the first list is news");
    let bob_session = sim.stay(&bob);
    sim.stay(&carol);
    let now = sim.chat.online_friends(ALICE, sim.now);
    assert_eq!(now, BTreeMap::from([(BOB, Seen::Active), (CAROL, Seen::Active)]));
    assert_eq!(
        presence::changes(&told, &now),
        [Change { uid: BOB, now: Some(Seen::Active) }, Change { uid: CAROL, now: Some(Seen::Active) }]
    );
    told = now;
    assert!(sim.chat.buddy_list(ALICE, sim.now).changed, "Bob and Carol came online");
    assert!(!sim.chat.buddy_list(ALICE, sim.now).changed, "nothing since");

    // Carol stays active by typing; Bob goes idle, then away.
    sim.advance(Duration::from_secs(601));
    sim.chat.typing(CAROL, ALICE, true, sim.now).expect("typing");
    let now = sim.chat.online_friends(ALICE, sim.now);
    assert_eq!(presence::changes(&told, &now), [Change { uid: BOB, now: Some(Seen::Idle) }]);
    told = now;
    let list = sim.chat.buddy_list(ALICE, sim.now);
    assert!(list.changed && list.went_offline.is_empty(), "going idle changes the list");

    sim.chat.cancel(bob_session, sim.now);
    sim.advance(Duration::from_secs(121));
    let now = sim.chat.online_friends(ALICE, sim.now);
    assert_eq!(presence::changes(&told, &now), [Change { uid: BOB, now: None }]);
    assert_eq!(sim.chat.buddy_list(ALICE, sim.now).went_offline, [BOB]);
    let _ = alice;
}

fn a_subscription_is_not_counted_as_a_poll<S: Store + Default>() {
    let mut sim = Sim::<S>::new(ChatConfig::default());
    let bob = sim.login("bob");
    sim.stay(&bob);
    assert_eq!(sim.chat.stats().polls, 0, "an XMPP session is not a poll");
    sim.held(&bob, 0);
    assert_eq!(sim.chat.stats().polls, 1);
}

fn a_seq_below_the_window_is_sent_to_the_oldest_event_kept<S: Store + Default>() {
    let mut sim = Sim::<S>::new(ChatConfig { window: 5, ..ChatConfig::default() });
    let alice = sim.login("alice");
    let bob = sim.login("bob");
    sim.stay(&bob);
    for n in 0..8 {
        sim.send(&alice, BOB, &format!("m{n}"), &n.to_string()).expect("send");
    }
    // Bob polled seq 1 last; events 0 to 2 have left the window.
    assert_eq!(sim.poll(&bob, 1), refresh(3));
    assert_eq!(texts(&sim.poll(&bob, 3).unwrap()), ["m3", "m4", "m5", "m6", "m7"]);
    assert_eq!(sim.poll(&bob, -1), refresh(8), "-1 starts at the end");
    assert_eq!(sim.poll(&bob, 99), refresh(8), "past the end: the end");
    assert!(matches!(sim.poll(&bob, 8), Ok(Poll::Held(_))));
}

fn a_resent_msg_id_is_taken_once_and_ids_are_per_sender<S: Store + Default>() {
    let mut sim = Sim::<S>::new(ChatConfig::default());
    let alice = sim.login("alice");
    let bob = sim.login("bob");
    let carol = sim.login("carol");
    sim.stay(&alice);
    assert_eq!(sim.send(&bob, ALICE, "once", "42"), Ok(true));
    assert_eq!(sim.send(&bob, ALICE, "once", "42"), Ok(false), "a retry of the same message");
    assert_eq!(sim.send(&carol, ALICE, "mine too", "42"), Ok(true), "Carol's id 42 is not Bob's");
    assert_eq!(texts(&sim.poll(&alice, 0).unwrap()), ["once", "mine too"]);
    let stats = sim.chat.stats();
    assert_eq!((stats.messages, stats.duplicate_sends), (2, 1));
}

fn sends_are_refused_where_the_service_refused_them<S: Store + Default>() {
    let mut sim = Sim::<S>::new(ChatConfig { max_message_chars: 5, ..ChatConfig::default() });
    let alice = sim.login("alice");
    let bob = sim.login("bob");
    assert_eq!(sim.send(&alice, BOB, "hi", "1"), Err(ChatError::DestinationNotOnline), "Bob never polled");
    sim.stay(&bob);
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
    assert_eq!(sim.chat.poll(&alice.token, BOB, 0, sim.now), Err(ChatError::LoginChanged));
}

fn history_keeps_the_last_messages_of_each_pair<S: Store + Default>() {
    let mut sim = Sim::<S>::new(ChatConfig { conversation_history: 3, ..ChatConfig::default() });
    let alice = sim.login("alice");
    let bob = sim.login("bob");
    sim.stay(&alice);
    sim.stay(&bob);
    for n in 0..5 {
        let (from, to) = if n % 2 == 0 { (&alice, BOB) } else { (&bob, ALICE) };
        sim.send(from, to, &format!("m{n}"), &n.to_string()).expect("send");
    }
    let history: Vec<String> = sim.chat.history(ALICE, BOB, 100).iter().map(|m| m.text.clone()).collect();
    assert_eq!(history, ["m2", "m3", "m4"]);
    assert_eq!(
        sim.chat.history(BOB, ALICE, 100),
        sim.chat.history(ALICE, BOB, 100),
        "one conversation, seen from both"
    );
    assert_eq!(sim.chat.history(ALICE, BOB, 1)[0].text, "m4", "the newest, when fewer are asked for");
    assert!(sim.chat.history(ALICE, CAROL, 100).is_empty());
}

fn pull_checks_the_sticky_token_and_the_partition<S: Store + Default>() {
    let mut sim = Sim::<S>::new(ChatConfig::default());
    let bob = sim.login("bob");
    let Ok(Pull::Handshake { sticky, pool }) = sim.pull(&bob, 0, None, Some(-2)) else {
        panic!("a pull without a sticky token gets the handshake");
    };
    assert_eq!(pool, fbcomet_chat::PULL_POOL);
    let held = sim.pull(&bob, 0, Some(&sticky), Some(-2));
    assert!(matches!(held, Ok(Pull::Poll(Poll::Held(_)))), "{held:?}");
    let Ok(Pull::Handshake { sticky: second, .. }) = sim.pull(&bob, 0, Some("999999"), Some(-2)) else {
        panic!("a wrong sticky token: handshake again")
    };
    let old = sim.pull(&bob, 0, Some(&sticky), None);
    assert_ne!(sticky, second);
    assert!(matches!(old, Ok(Pull::Handshake { .. })), "the old token is stale now");
    assert_eq!(sim.pull(&bob, 0, Some(&second), Some(5)), Err(ChatError::BadParameter("partition")));
}

fn two_pollers_of_one_user_both_get_each_event<S: Store + Default>() {
    let mut sim = Sim::<S>::new(ChatConfig { hold: Duration::from_secs(1000), ..ChatConfig::default() });
    let alice = sim.login("alice");
    let bob_tab1 = sim.login("bob");
    let bob_tab2 = sim.login("bob");
    let (h1, h2) = (sim.held(&bob_tab1, 0), sim.held(&bob_tab2, 0));
    assert_eq!(sim.chat.stats().held, 2);
    sim.send(&alice, BOB, "to both tabs", "1").expect("send");
    let answers = sim.answers();
    let of = |id| answers.iter().find(|(h, _)| *h == id).map(|(_, a)| a.clone()).expect("answered");
    let Answer::Read(first) = of(h1) else { panic!("events") };
    let Answer::Read(second) = of(h2) else { panic!("events") };
    assert_eq!(texts_of(&first), ["to both tabs"]);
    assert_eq!(texts_of(&second), ["to both tabs"], "reading does not consume");

    let h3 = sim.held(&bob_tab1, 1);
    sim.held(&bob_tab2, 1);
    sim.chat.cancel(h3, sim.now);
    sim.advance(Duration::from_secs(200));
    assert!(sim.chat.is_online(BOB, sim.now), "the other tab still holds");
    assert_eq!(sim.chat.stats().held, 1);
}

fn a_login_unused_for_too_long_expires_and_ends_its_polls<S: Store + Default>() {
    let config =
        ChatConfig { login_idle: Duration::from_secs(60), hold: Duration::from_secs(1000), ..ChatConfig::default() };
    let mut sim = Sim::<S>::new(config);
    let bob = sim.login("bob");
    sim.advance(Duration::from_secs(59));
    sim.poll(&bob, -1).expect("still logged in: and used now");
    sim.advance(Duration::from_secs(59));
    assert!(sim.chat.is_logged_in(&bob.token, BOB));
    let held = sim.held(&bob, 0);
    sim.advance(Duration::from_secs(120));
    assert!(!sim.chat.is_logged_in(&bob.token, BOB));
    assert_eq!(sim.answers(), [(held, Answer::Ended(End::LoggedOut))], "held polls learn of it");
    assert_eq!(sim.poll(&bob, 0), Err(ChatError::NotLoggedIn));
    assert_eq!(sim.chat.stats().expired_logins, 1);
}

fn logins_per_user_are_capped_least_recently_used_first<S: Store + Default>() {
    let mut sim = Sim::<S>::new(ChatConfig { logins_per_user: 2, ..ChatConfig::default() });
    let first = sim.login("bob");
    sim.advance(Duration::from_secs(1));
    let second = sim.login("bob");
    sim.advance(Duration::from_secs(1));
    sim.poll(&first, -1).expect("first used again");
    sim.advance(Duration::from_secs(1));
    let third = sim.login("bob");
    assert!(sim.chat.is_logged_in(&first.token, BOB));
    assert!(!sim.chat.is_logged_in(&second.token, BOB), "the least recently used went");
    assert!(sim.chat.is_logged_in(&third.token, BOB));
}

fn logout_ends_presence_and_held_polls<S: Store + Default>() {
    let mut sim = Sim::<S>::new(ChatConfig::default());
    let alice = sim.login("alice");
    let bob = sim.login("bob");
    let held = sim.held(&alice, 0);
    let session = sim.stay(&alice);
    assert_eq!(sim.chat.logout(&alice.token, sim.now), Some(ALICE));
    let mut answers = sim.answers();
    answers.sort_by_key(|(id, _)| *id);
    assert_eq!(answers, [(held, Answer::Ended(End::LoggedOut)), (session, Answer::Ended(End::LoggedOut))]);
    assert!(!sim.chat.is_logged_in(&alice.token, ALICE));
    assert!(!sim.chat.is_online(ALICE, sim.now), "offline at once, not after the window");
    assert_eq!(sim.send(&bob, ALICE, "anyone?", "1"), Err(ChatError::DestinationNotOnline));
    assert_eq!(sim.chat.stats().held, 0);
}

fn typing_reaches_the_friend_and_makes_active<S: Store + Default>() {
    let mut sim = Sim::<S>::new(ChatConfig::default());
    let alice = sim.login("alice");
    let bob = sim.login("bob");
    sim.stay(&bob);
    let uid = sim.chat.authorize_post(&alice.token, Some(&alice.post_form_id), sim.now).unwrap();
    sim.chat.typing(uid, BOB, true, sim.now).expect("typing");
    assert_eq!(
        sim.poll(&bob, 0),
        Ok(Poll::Read(Read::Events {
            from: 0,
            events: vec![ChatEvent::Typing { from: ALICE, to: BOB, typing: true }],
            next: 1
        }))
    );
    assert!(!sim.chat.is_idle(ALICE, sim.now));
    assert_eq!(sim.chat.typing(uid, 4242, true, sim.now), Err(ChatError::DestinationNotOnline));
}

fn message_times_follow_the_given_clock<S: Store + Default>() {
    let mut sim = Sim::<S>::new(ChatConfig::default());
    let alice = sim.login("alice");
    let bob = sim.login("bob");
    sim.stay(&bob);
    sim.advance(Duration::from_millis(1500));
    sim.send(&alice, BOB, "when?", "1").unwrap();
    assert_eq!(sim.chat.history(ALICE, BOB, 10)[0].time_ms, 1_210_000_001_500);
}

fn wrong_passwords_slow_their_address_down_but_not_the_real_user_elsewhere<S: Store + Default>() {
    let mut sim = Sim::<S>::new(ChatConfig::default());
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

fn a_pull_starting_at_seq_0_starts_from_now_and_is_held_for_the_pull_hold<S: Store + Default>() {
    let config =
        ChatConfig { hold: Duration::from_secs(55), pull_hold: Duration::from_secs(25), ..ChatConfig::default() };
    let mut sim = Sim::<S>::new(config);
    let (alice, bob) = (sim.login("alice"), sim.login("bob"));
    let session = sim.stay(&bob);
    for n in 0..3 {
        sim.send(&alice, BOB, &format!("old {n}"), &n.to_string()).expect("send");
    }
    let Ok(Pull::Handshake { sticky, .. }) = sim.pull(&bob, 0, None, Some(-2)) else {
        panic!("handshake first");
    };
    // fbchat's first pull is seq=0: it starts from now, not with old messages.
    assert_eq!(sim.pull(&bob, 0, Some(&sticky), Some(-2)), Ok(Pull::Poll(Poll::Read(Read::Refresh { seq: 3 }))));
    let Ok(Pull::Poll(Poll::Held(pulled))) = sim.pull(&bob, 3, Some(&sticky), Some(-2)) else { panic!("held") };
    // Once under way, seq 0 means seq 0 (the oldest event kept).
    let Ok(Pull::Poll(again)) = sim.pull(&bob, 0, Some(&sticky), Some(-2)) else { panic!("events") };
    assert_eq!(texts(&again), ["old 0", "old 1", "old 2"]);
    let polled = sim.held(&bob, 3);
    sim.chat.cancel(session, sim.now);
    sim.answers();
    sim.advance(Duration::from_secs(25) - Duration::from_millis(1));
    assert_eq!(sim.answers(), []);
    sim.advance(Duration::from_millis(1));
    assert_eq!(sim.answers(), [(pulled, Answer::Ended(End::Deadline))], "the pull hold");
    sim.advance(Duration::from_secs(30) - Duration::from_millis(1));
    assert_eq!(sim.answers(), [], "the 2008 channel keeps its own hold");
    sim.advance(Duration::from_millis(1));
    assert_eq!(sim.answers(), [(polled, Answer::Ended(End::Deadline))]);
}

fn read_receipts_reach_the_partner_and_count_unread<S: Store + Default>() {
    let mut sim = Sim::<S>::new(ChatConfig::default());
    let (alice, bob) = (sim.login("alice"), sim.login("bob"));
    sim.stay(&alice);
    sim.stay(&bob);
    sim.send(&alice, BOB, "one", "1").expect("send");
    sim.advance(Duration::from_millis(5));
    sim.send(&alice, BOB, "two", "2").expect("send");
    sim.send(&bob, ALICE, "back", "3").expect("send");
    let threads = sim.chat.threads(BOB);
    assert_eq!(threads.len(), 1);
    assert_eq!((threads[0].partner, threads[0].messages, threads[0].unread), (ALICE, 3, 2));
    assert_eq!(threads[0].last.text, "back");
    let held = sim.held(&alice, 3);
    sim.answers();
    sim.advance(Duration::from_millis(5));
    sim.chat.mark_read(BOB, ALICE, None, sim.now);
    let answers = sim.answers();
    assert_eq!(answers.len(), 1, "the partner is told: {answers:?}");
    let (id, Answer::Read(Read::Events { events, .. })) = &answers[0] else { panic!("a receipt") };
    assert_eq!(*id, held);
    assert!(matches!(events[..], [ChatEvent::Read { reader: BOB, .. }]), "{events:?}");
    assert_eq!(sim.chat.threads(BOB)[0].unread, 0);
    sim.held(&alice, 4);
    sim.chat.mark_read(BOB, ALICE, None, sim.now);
    assert!(sim.answers().is_empty(), "reading again up to the same time says nothing");
}

fn offline_recipients_get_messages_where_the_dialect_allows<S: Store + Default>() {
    let mut sim = Sim::<S>::new(ChatConfig::default());
    let alice = sim.login("alice");
    let uid = sim.chat.authorize_post(&alice.token, Some(&alice.post_form_id), sim.now).expect("auth");
    let to_carol = |offline_ok| Outgoing { offline_ok, ..Outgoing::new(CAROL, "are you there?") };
    assert_eq!(sim.chat.send(uid, to_carol(false), sim.now).map(|_| ()), Err(ChatError::DestinationNotOnline));
    assert!(sim.chat.send(uid, to_carol(true), sim.now).is_ok());
    assert_eq!(sim.chat.history(CAROL, ALICE, 10).len(), 1, "waiting in Carol's inbox");
}

fn a_pull_starting_out_misses_nothing_sent_after_its_handshake<S: Store + Default>() {
    let mut sim = Sim::<S>::new(ChatConfig::default());
    let (alice, bob) = (sim.login("alice"), sim.login("bob"));
    sim.stay(&bob);
    sim.send(&alice, BOB, "before", "1").expect("send");
    let Ok(Pull::Handshake { sticky, .. }) = sim.pull(&bob, -1, None, None) else {
        panic!("handshake first");
    };
    sim.send(&alice, BOB, "after the handshake", "2").expect("send");
    // fbcomet's receiver asks -1 (fbchat 0): where the log stood at the handshake.
    assert_eq!(sim.pull(&bob, -1, Some(&sticky), None), Ok(Pull::Poll(Poll::Read(Read::Refresh { seq: 1 }))));
    let Ok(Pull::Poll(read)) = sim.pull(&bob, 1, Some(&sticky), None) else { panic!("events") };
    assert_eq!(texts(&read), ["after the handshake"]);
}

fn page_world() -> World {
    World {
        pages: vec![fbcomet_chat::Page {
            id: PAGE,
            name: "Roger Bot".into(),
            access_token: "T".into(),
            webhook: None,
            verify_token: None,
            app_secret: None,
        }],
        ..World::default()
    }
}

fn any_user_messages_a_page_and_the_page_answers_only_those_who_wrote<S: Store + Default>() {
    let mut sim = Sim::<S>::with_world(&page_world(), ChatConfig::default());
    let now = sim.now;
    let chat = &mut sim.chat;
    assert_eq!(chat.page_by_token("T").map(|p| p.id), Some(PAGE));
    let hook = chat.subscribe(PAGE, None, Some("webhook:2001"), now).expect("a page's subscription");
    let bob = chat.subscribe(BOB, None, None, now).expect("Bob's");
    // The page is no one's friend, is never online, and takes messages anyway.
    assert!(chat.send(ALICE, Outgoing::new(PAGE, "hi page"), now).is_ok());
    assert!(matches!(chat.poll_output(), Some(Output::Answer { hold, done: false, .. }) if hold == hook));
    assert!(chat.resume(hook, now));
    // It answers Alice (offline or not) and types to her; not Carol.
    assert!(chat.send(PAGE, Outgoing::new(ALICE, "hi Alice"), now).is_ok());
    assert!(chat.typing(PAGE, ALICE, true, now).is_ok());
    assert_eq!(chat.send(PAGE, Outgoing::new(CAROL, "spam"), now).map(|_| ()), Err(ChatError::DestinationNotOnline));
    assert_eq!(chat.typing(PAGE, CAROL, true, now), Err(ChatError::DestinationNotOnline));
    // One rule per sender: a page may send what the Send API took.
    assert!(chat.send(PAGE, Outgoing::new(ALICE, "x".repeat(1500)), now).is_ok(), "a bot's long answer");
    let too_long = chat.send(ALICE, Outgoing::new(PAGE, "x".repeat(1000)), now).map(|_| ());
    assert_eq!(too_long, Err(ChatError::Validation), "a user's limit is the 2008 one");
    // Deliveries reach pages only.
    while chat.poll_output().is_some() {}
    assert!(chat.resume(hook, now));
    chat.mark_delivered(ALICE, PAGE, None, now);
    chat.mark_delivered(ALICE, BOB, None, now);
    let answered: Vec<HoldId> = std::iter::from_fn(|| chat.poll_output())
        .map(|o| match o {
            Output::Answer { hold, .. } => hold,
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert!(answered.contains(&hook) && !answered.contains(&bob), "{answered:?}");
    assert_eq!(chat.threads(ALICE)[0].partner, PAGE, "the page is a thread of Alice's");
}

fn a_held_poll_meets_its_deadline_through_poll_timeout<S: Store + Default>() {
    let mut sim = Sim::<S>::new(ChatConfig { hold: Duration::from_secs(55), ..ChatConfig::default() });
    let bob = sim.login("bob");
    let t0 = sim.now;
    let held = sim.held(&bob, 0);
    assert!(sim.chat.is_online(BOB, t0), "a held poll is presence");
    assert_eq!(sim.chat.stats().held, 1);
    // The shell's one timer: sleep until poll_timeout, then handle it.
    let at = sim.chat.poll_timeout();
    assert_eq!(at, t0 + Duration::from_secs(55), "the hold's deadline is the next timeout");
    sim.chat.handle_timeout(at - Duration::from_millis(1));
    assert_eq!(sim.chat.poll_output(), None, "not before its deadline");
    sim.chat.handle_timeout(at);
    assert_eq!(
        sim.chat.poll_output(),
        Some(Output::Answer { hold: held, answer: Answer::Ended(End::Deadline), done: true })
    );
    assert_eq!(sim.chat.stats().held, 0);
    assert!(sim.chat.poll_timeout() > at, "nothing more due then");
    sim.now = at;
    sim.advance(ChatConfig::default().online_window);
    assert!(sim.chat.is_online(BOB, sim.now), "seen at the hold's end, online for the window");
    sim.advance(Duration::from_millis(1));
    assert!(!sim.chat.is_online(BOB, sim.now));
    // Cancelled (the client went away), a hold says nothing more.
    let held = sim.held(&bob, 0);
    sim.chat.cancel(held, sim.now);
    sim.advance(Duration::from_secs(60));
    assert_eq!(sim.answers(), []);
}

/// One conversation, three doors' worth of subscribers: Alice on the 2008
/// channel (a held poll after each answer), Bob in an XMPP session, and a
/// page's webhook reading its log through a durable cursor.
fn one_conversation_across_a_held_poll_an_xmpp_session_and_a_webhook_cursor<S: Store + Default>() {
    let mut sim =
        Sim::<S>::with_world(&page_world(), ChatConfig { hold: Duration::from_secs(55), ..ChatConfig::default() });
    let (alice, bob) = (sim.login("alice"), sim.login("bob"));
    let mut alice_seq = match sim.poll(&alice, -1) {
        Ok(Poll::Read(Read::Refresh { seq })) => seq,
        other => panic!("{other:?}"),
    };
    let alice_hold = sim.held(&alice, alice_seq);
    let session = sim.stay(&bob);
    let hook = sim.chat.subscribe(PAGE, None, Some("webhook:2001"), sim.now).expect("hook");

    // Alice to Bob: her hold gets the echo, his session the message.
    sim.send(&alice, BOB, "hi Bob", "a1").expect("Bob is there");
    let answers = sim.answers();
    assert_eq!(answers.len(), 2, "{answers:?}");
    for (id, answer) in answers {
        let Answer::Read(read) = answer else { panic!("{answer:?}") };
        assert_eq!(texts_of(&read), ["hi Bob"]);
        if id == alice_hold {
            let Read::Events { next, .. } = read else { unreachable!() };
            alice_seq = next;
        } else {
            assert_eq!(id, session);
        }
    }
    // Bob writes back before resuming: his session waits for the resume.
    sim.advance(Duration::from_secs(30));
    assert!(sim.chat.is_online(ALICE, sim.now), "between polls, within the window");
    sim.send(&bob, ALICE, "hi Alice", "b1").expect("Alice is there");
    assert_eq!(sim.answers(), [], "Alice has no poll held; Bob's session has not resumed");
    assert!(sim.chat.resume(session, sim.now));
    let answers = sim.answers();
    assert!(matches!(&answers[..], [(id, Answer::Read(r))] if *id == session && texts_of(r) == ["hi Alice"]));
    assert!(sim.chat.resume(session, sim.now));
    // Bob's answer waited in Alice's log: her next poll gets it at once.
    let Ok(Poll::Read(read)) = sim.poll(&alice, alice_seq) else { panic!("at once") };
    assert_eq!(texts_of(&read), ["hi Alice"]);
    let Read::Events { next, .. } = read else { unreachable!() };
    let alice_hold = sim.held(&alice, next);

    // Bob asks the page; the webhook reads it and records its cursor.
    sim.send(&bob, PAGE, "help", "b2").expect("pages take messages");
    let answers = sim.answers();
    let of_hook: Vec<_> = answers.iter().filter(|(id, _)| *id == hook).collect();
    assert!(matches!(&of_hook[..], [(_, Answer::Read(r))] if texts_of(r) == ["help"]), "{answers:?}");
    assert!(answers.iter().all(|(id, _)| [hook, session].contains(id)), "and the echo in Bob's session");
    assert!(sim.chat.resume(hook, sim.now));
    assert!(sim.chat.resume(session, sim.now));
    // The webhook's process stops; Bob writes again; a new one starts
    // where the last resumed and gets what came in between.
    sim.chat.cancel(hook, sim.now);
    sim.send(&bob, PAGE, "anyone?", "b3").expect("send");
    let answers = sim.answers();
    assert!(answers.iter().all(|(id, _)| *id == session), "only Bob's session: {answers:?}");
    sim.chat.resume(session, sim.now);
    let hook = sim.chat.subscribe(PAGE, None, Some("webhook:2001"), sim.now).expect("hook again");
    let answers = sim.answers();
    assert!(
        matches!(&answers[..], [(id, Answer::Read(r))] if *id == hook && texts_of(r) == ["anyone?"]),
        "{answers:?}"
    );
    // The page answers Bob.
    sim.chat.send(PAGE, Outgoing::new(BOB, "here"), sim.now).expect("the page answers who wrote");
    let answers = sim.answers();
    assert!(answers.iter().any(|(id, a)| *id == session && matches!(a, Answer::Read(r) if texts_of(r) == ["here"])));

    // The service stops: every hold and subscription ends, and says so.
    sim.chat.shutdown(sim.now);
    let mut ended: Vec<(HoldId, Answer)> = sim.answers();
    ended.sort_by_key(|(id, _)| *id);
    assert!(ended.iter().all(|(_, a)| *a == Answer::Ended(End::Shutdown)), "{ended:?}");
    let ids: Vec<HoldId> = ended.iter().map(|(id, _)| *id).collect();
    let mut expected = [alice_hold, session, hook];
    expected.sort();
    assert_eq!(ids, expected);
    assert_eq!(sim.chat.stats().held, 0);
}

fn a_login_holds_a_bounded_number_of_polls<S: Store + Default>() {
    let mut sim = Sim::<S>::new(ChatConfig { holds_per_login: 2, ..ChatConfig::default() });
    let bob = sim.login("bob");
    let other = sim.login("bob");
    let first = sim.held(&bob, 0);
    let second = sim.held(&bob, 0);
    sim.held(&other, 0);
    assert_eq!(sim.answers(), []);
    sim.held(&bob, 0);
    assert_eq!(sim.answers(), [(first, Answer::Ended(End::Replaced))], "the oldest of that login gives way");
    sim.held(&bob, 0);
    assert_eq!(sim.answers(), [(second, Answer::Ended(End::Replaced))]);
    assert_eq!(sim.chat.stats().held, 3);
}

fn a_process_that_dies_leaves_no_one_online_past_the_lease<S: Store + Default>() {
    let hold = Duration::from_secs(55);
    let config = ChatConfig { hold, online_window: Duration::from_secs(1), ..ChatConfig::default() };
    let mut sim = Sim::<S>::new(config.clone());
    let bob = sim.login("bob");
    sim.stay(&bob);
    sim.advance(Duration::from_secs(600));
    assert!(sim.chat.is_online(BOB, sim.now), "renewed while the process lives");
    // The process dies: nothing is cancelled, nothing renewed. Another
    // process on the same store sees Bob online until the lease lapses.
    let Sim { chat, now: died } = sim;
    let store = chat.into_store();
    let later = ChatService::with_store(&World::default(), config, store, died, 1_210_000_000_000 + 600_000);
    assert!(later.is_online(BOB, died));
    assert!(!later.is_online(BOB, died + 2 * hold + Duration::from_secs(2)), "at most twice the hold");
}

fn one_answer_carries_a_bounded_batch<S: Store + Default>() {
    let mut sim = Sim::<S>::new(ChatConfig { poll_batch: 3, ..ChatConfig::default() });
    let (alice, bob) = (sim.login("alice"), sim.login("bob"));
    sim.stay(&bob);
    for n in 0..7 {
        sim.send(&alice, BOB, &format!("m{n}"), &n.to_string()).expect("send");
    }
    let Ok(Poll::Read(Read::Events { events, next, .. })) = sim.poll(&bob, 0) else { panic!("events") };
    assert_eq!((events.len(), next), (3, 3), "a client behind polls on from where the answer ended");
    assert_eq!(texts(&sim.poll(&bob, 6).unwrap()), ["m6"]);
}

fn ids_and_accounts_past_their_limits_are_refused_uncounted<S: Store + Default>() {
    let mut sim = Sim::<S>::new(ChatConfig::default());
    let (alice, bob) = (sim.login("alice"), sim.login("bob"));
    sim.stay(&bob);
    let long = "x".repeat(sim.chat.config().max_msg_id_bytes + 1);
    assert_eq!(sim.send(&alice, BOB, "hi", &long), Err(ChatError::BadParameter("msg_id")));
    let before = sim.chat.stats().failed_logins;
    let huge = format!("{}@example.com", "a".repeat(100_000));
    assert_eq!(sim.chat.login(&huge, "x", None, sim.now), Err(LoginError::WrongCredentials));
    assert_eq!(sim.chat.stats().failed_logins, before, "not counted: not kept");
}
