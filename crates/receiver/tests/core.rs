//! The receiver's state machine on simulated time: every frame kind and
//! every failure, deterministic and instant.

use std::time::{Duration, Instant};

use fbcomet_codec::Event;
use fbcomet_receiver::{Backoff, Config, Delivery, Endpoint, Failure, Output, PollRequest, Receiver, SeqPolicy};

/// A receiver and a clock it is driven on.
struct Sim {
    rx: Receiver,
    now: Instant,
    events: Vec<Delivery>,
    other: Vec<Output>,
    /// The seq of the `Ready` output, once it came.
    ready: Option<i64>,
}

impl Sim {
    fn new(config: Config) -> Self {
        let now = Instant::now();
        Sim { rx: Receiver::new(config, now).expect("config"), now, events: Vec::new(), other: Vec::new(), ready: None }
    }

    fn channel() -> Self {
        Self::new(config(Endpoint::channel(7)))
    }

    /// The next poll, waiting (on the simulated clock) until it is due.
    fn poll(&mut self) -> PollRequest {
        if let Some(request) = self.rx.poll_transmit(self.now) {
            return request;
        }
        let due = self.rx.poll_timeout().expect("a poll is due some time");
        assert!(due > self.now, "due now, yet nothing to send");
        self.now = due;
        self.rx.poll_transmit(self.now).expect("a poll once due")
    }

    /// Polls, and answers with `body` in one piece.
    fn answer(&mut self, body: &str) -> PollRequest {
        let request = self.poll();
        self.rx.handle_status(request.id, self.now, 200);
        self.rx.handle_data(request.id, self.now, body.as_bytes());
        self.rx.handle_end(request.id, self.now);
        self.drain();
        request
    }

    fn drain(&mut self) {
        while let Some(output) = self.rx.poll_output() {
            match output {
                Output::Event(d) => self.events.push(d),
                Output::Ready { seq } => {
                    assert_eq!(self.ready, None, "ready once");
                    self.ready = Some(seq);
                }
                other => self.other.push(other),
            }
        }
    }

    fn advance(&mut self, by: Duration) {
        self.now += by;
        self.rx.handle_timeout(self.now);
        self.drain();
    }

    fn texts(&self) -> Vec<String> {
        self.events
            .iter()
            .map(|d| match &d.event {
                Event::Msg(m) => format!("{}:{}", d.seq, m.text),
                Event::Typ(t) => format!("{}:typ{}", d.seq, u8::from(t.typing)),
                Event::Delta(delta) => format!("{}:delta {}", d.seq, delta.class()),
                Event::Unknown(u) => format!("{}:{}", d.seq, u.kind),
            })
            .collect()
    }
}

fn config(endpoint: Endpoint) -> Config {
    let mut c = Config::new(1001, endpoint);
    c.rng_seed = Some(2008);
    c.backoff = Backoff { initial: Duration::from_millis(100), max: Duration::from_secs(10) };
    c
}

fn msg(id: &str, text: &str) -> String {
    format!(
        r#"{{"type":"msg","msg":{{"text":"{text}","time":1,"clientTime":1,"msgID":"{id}"}},"from":2002,"to":1001,"from_name":"F","to_name":"M","from_first_name":"F","to_first_name":"M"}}"#
    )
}

fn frame(events: &[String]) -> String {
    format!(r#"for (;;);{{"t":"msg","c":"p_1001","ms":[{}]}}"#, events.join(","))
}

fn seq_of(request: &PollRequest) -> String {
    request.url.path().rsplit('=').next().expect("seq").to_owned()
}

const REFRESH_5: &str = r#"for (;;);{"t":"refresh","seq":5}"#;
const CONTINUE: &str = r#"for (;;);{"t":"continue"}"#;

#[test]
fn starts_at_seq_minus_one_and_takes_the_seq_from_the_refresh() {
    let mut sim = Sim::channel();
    let first = sim.answer(REFRESH_5);
    assert_eq!(first.url.host_str().map(|h| h.ends_with(".channel07.facebook.com")), Some(true), "{}", first.url);
    assert!(first.url.path().starts_with("/x/"), "{}", first.url);
    assert!(first.url.path().ends_with("/false/p_1001=-1"), "{}", first.url);
    assert_eq!(first.deadline, sim.now + Duration::from_secs(70));
    let second = sim.poll();
    assert_eq!(seq_of(&second), "5");
    assert_ne!(first.url.path(), second.url.path(), "the cache buster changes");
}

#[test]
fn continue_polls_the_same_seq_at_once() {
    let mut sim = Sim::channel();
    sim.answer(REFRESH_5);
    let at = sim.now;
    sim.answer(CONTINUE);
    let next = sim.poll();
    assert_eq!((seq_of(&next), sim.now), ("5".to_owned(), at));
    assert_eq!(sim.rx.stats().continues, 1);
}

#[test]
fn seq_counts_events_or_responses_or_takes_the_frames_own() {
    let four = frame(&[
        msg("1", "a"),
        msg("2", "b"),
        r#"{"type":"typ","st":1,"from":2002,"to":1001}"#.to_owned(),
        msg("3", "c"),
    ]);
    let mut sim = Sim::channel();
    sim.answer(REFRESH_5);
    sim.answer(&four);
    assert_eq!(sim.texts(), ["5:a", "6:b", "7:typ1", "8:c"]);
    assert_eq!(seq_of(&sim.poll()), "9");

    let mut c = config(Endpoint::channel(7));
    c.seq_policy = SeqPolicy::CountResponses;
    let mut sim = Sim::new(c);
    sim.answer(REFRESH_5);
    sim.answer(&four);
    assert_eq!(seq_of(&sim.poll()), "6");

    let mut sim = Sim::channel();
    sim.answer(REFRESH_5);
    sim.answer(&four.replace(r#""c":"p_1001","#, r#""c":"p_1001","seq":40,"#));
    assert_eq!(seq_of(&sim.poll()), "40");
}

#[test]
fn the_same_frame_twice_is_delivered_once() {
    let body = frame(&[msg("10", "hello"), msg("11", "again")]);
    let mut sim = Sim::channel();
    sim.answer(REFRESH_5);
    sim.answer(&body);
    // The server re-sends it (a refresh back to an old seq, say).
    sim.answer(r#"for (;;);{"t":"refresh","seq":5}"#);
    sim.answer(&body);
    assert_eq!(sim.texts(), ["5:hello", "6:again"]);
    assert_eq!(sim.rx.stats().duplicates, 2);
    assert_eq!(seq_of(&sim.poll()), "7");
}

#[test]
fn a_reset_in_the_middle_of_a_multi_event_frame_delivers_nothing_of_it() {
    let body = frame(&[msg("1", "one"), msg("2", "two"), msg("3", "three")]);
    let mut sim = Sim::channel();
    sim.answer(REFRESH_5);
    let cut = sim.poll();
    sim.rx.handle_status(cut.id, sim.now, 200);
    sim.rx.handle_data(cut.id, sim.now, &body.as_bytes()[..body.len() / 2]);
    sim.rx.handle_failure(cut.id, sim.now, Failure::Transport("connection reset".into()));
    sim.drain();
    assert!(sim.events.is_empty());
    assert!(matches!(sim.other.last(), Some(Output::PollFailed { failure: Failure::Transport(_), .. })));
    // The retry asks for the same seq and gets all three, once.
    let retry = sim.answer(&body);
    assert_eq!(seq_of(&retry), "5");
    assert_eq!(sim.texts(), ["5:one", "6:two", "7:three"]);
}

#[test]
fn frames_that_came_whole_before_a_cut_count() {
    // A kept-open answer: one whole frame, then a second cut short.
    let first = frame(&[msg("1", "one")]);
    let second = frame(&[msg("2", "two")]);
    let mut sim = Sim::channel();
    sim.answer(REFRESH_5);
    let poll = sim.poll();
    sim.rx.handle_status(poll.id, sim.now, 200);
    sim.rx.handle_data(poll.id, sim.now, format!("{first}\r\n{}", &second[..20]).as_bytes());
    sim.rx.handle_end(poll.id, sim.now);
    sim.drain();
    assert_eq!(sim.texts(), ["5:one"]);
    assert!(matches!(sim.other.last(), Some(Output::PollFailed { failure: Failure::Truncated, .. })));
    let retry = sim.answer(&second);
    assert_eq!(seq_of(&retry), "6");
    assert_eq!(sim.texts(), ["5:one", "6:two"]);
}

#[test]
fn frames_are_handled_as_their_chunks_arrive() {
    let mut sim = Sim::channel();
    sim.answer(REFRESH_5);
    let poll = sim.poll();
    let body = format!("for (;;); {{\"t\":\"heartbeat\"}}{}", frame(&[msg("9", "late")]));
    let (a, b) = body.as_bytes().split_at(40);
    sim.rx.handle_status(poll.id, sim.now, 200);
    sim.rx.handle_data(poll.id, sim.now, a);
    sim.drain();
    assert_eq!(sim.rx.stats().heartbeats, 1);
    assert!(sim.events.is_empty());
    sim.rx.handle_data(poll.id, sim.now, b);
    sim.drain();
    assert_eq!(sim.texts(), ["5:late"]);
    sim.rx.handle_end(poll.id, sim.now);
    assert_eq!(seq_of(&sim.poll()), "6");
}

#[test]
fn refresh_mid_session_jumps_and_a_bare_refresh_waits_for_renewal() {
    let mut sim = Sim::channel();
    sim.answer(REFRESH_5);
    sim.answer(&frame(&[msg("1", "one")]));
    sim.answer(r#"for (;;);{"t":"refresh","seq":17}"#);
    assert_eq!(seq_of(&sim.poll()), "17");
    sim.now += Duration::from_millis(1);
    let mut sim2 = Sim::channel();
    sim2.answer(REFRESH_5);
    sim2.answer(r#"for (;;);{"t":"refresh"}"#);
    assert_eq!(sim2.other.last(), Some(&Output::RenewNeeded { reason: None, error: None }));
    assert!(sim2.rx.is_paused());
    assert_eq!(sim2.rx.poll_timeout(), None);
    sim2.now += Duration::from_secs(3600);
    assert_eq!(sim2.rx.poll_transmit(sim2.now), None, "no polling until renewed");
    // reconnect.php said: host channel03, seq 20.
    sim2.rx.renew(sim2.now, Some(20), Some(3));
    let next = sim2.poll();
    assert_eq!(seq_of(&next), "20");
    assert!(next.url.host_str().is_some_and(|h| h.ends_with(".channel03.facebook.com")), "{}", next.url);
}

#[test]
fn a_poll_held_past_the_deadline_is_abandoned_and_its_late_answer_ignored() {
    let mut sim = Sim::channel();
    sim.answer(REFRESH_5);
    let hung = sim.poll();
    sim.advance(Duration::from_secs(69));
    assert_eq!(sim.rx.in_flight(), Some(hung.id), "still within hold + margin");
    sim.advance(Duration::from_secs(1));
    assert_eq!(sim.rx.in_flight(), None);
    assert!(matches!(sim.other.last(), Some(Output::PollFailed { failure: Failure::Timeout, .. })));
    // The dead connection answers after all: ignored.
    sim.rx.handle_status(hung.id, sim.now, 200);
    sim.rx.handle_data(hung.id, sim.now, frame(&[msg("1", "ghost")]).as_bytes());
    sim.rx.handle_end(hung.id, sim.now);
    sim.drain();
    assert!(sim.events.is_empty());
    let retry = sim.answer(&frame(&[msg("1", "real")]));
    assert_ne!(retry.id, hung.id);
    assert_eq!(sim.texts(), ["5:real"]);
}

#[test]
fn six_failures_in_a_row_back_off_exponentially_with_seeded_jitter() {
    fn delays(seed: u64) -> Vec<Duration> {
        let mut c = config(Endpoint::channel(7));
        c.rng_seed = Some(seed);
        let mut sim = Sim::new(c);
        sim.answer(REFRESH_5);
        let mut delays = Vec::new();
        for _ in 0..6 {
            let poll = sim.poll();
            sim.rx.handle_failure(poll.id, sim.now, Failure::Connect("refused".into()));
            sim.drain();
            match sim.other.last() {
                Some(Output::PollFailed { retry_in, .. }) => delays.push(*retry_in),
                other => panic!("{other:?}"),
            }
        }
        // A success resets the backoff.
        sim.answer(CONTINUE);
        let poll = sim.poll();
        sim.rx.handle_failure(poll.id, sim.now, Failure::Status(500));
        sim.drain();
        match sim.other.last() {
            Some(Output::PollFailed { retry_in, failure: Failure::Status(500) }) => {
                assert!(*retry_in <= Duration::from_millis(100), "reset after success: {retry_in:?}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(sim.rx.stats().retries, 7);
        delays
    }
    let first = delays(2008);
    // Caps: 100, 200, 400, 800, 1600, 3200 ms.
    for (attempt, delay) in first.iter().enumerate() {
        let cap = Duration::from_millis(100 << attempt);
        assert!(*delay <= cap, "attempt {}: {delay:?} over {cap:?}", attempt + 1);
    }
    assert!(first.iter().any(|d| *d > Duration::from_millis(400)), "the caps grow: {first:?}");
    assert_eq!(first, delays(2008), "the same seed, the same delays");
    assert_ne!(first, delays(2009));
}

#[test]
fn too_long_without_success_loses_the_session() {
    let mut c = config(Endpoint::channel(7));
    c.give_up_after = Duration::from_secs(60);
    let mut sim = Sim::new(c);
    sim.answer(REFRESH_5);
    for _ in 0..1000 {
        if sim.rx.is_lost() {
            break;
        }
        let poll = sim.poll();
        sim.now += Duration::from_secs(5);
        sim.rx.handle_failure(poll.id, sim.now, Failure::Status(503));
        sim.drain();
    }
    assert!(sim.rx.is_lost());
    assert_eq!(sim.other.last(), Some(&Output::Lost { last: Failure::Status(503) }));
    assert_eq!(sim.rx.poll_transmit(sim.now + Duration::from_secs(3600)), None);
    assert_eq!(sim.rx.poll_timeout(), None);
}

#[test]
fn lb_sticky_fields_go_on_every_later_pull_and_full_reload_drops_them() {
    let mut sim = Sim::new(config(Endpoint::pull()));
    let first = sim.answer(r#"for (;;); {"t":"lb","lb_info":{"sticky":"446","pool":"frc3c09_chat-proxy"}}"#);
    assert_eq!(first.url.host_str(), Some("0-edge-chat.facebook.com"));
    let q = |r: &PollRequest, k: &str| r.url.query_pairs().find(|(n, _)| n == k).map(|(_, v)| v.into_owned());
    assert_eq!(q(&first, "seq").as_deref(), Some("-1"), "where to start: the service says");
    assert_eq!(q(&first, "sticky_token"), None);
    let second = sim.answer(r#"for (;;); {"t":"heartbeat"}"#);
    assert_eq!(q(&second, "sticky_token").as_deref(), Some("446"));
    assert_eq!(q(&second, "sticky_pool").as_deref(), Some("frc3c09_chat-proxy"));
    assert_eq!(q(&second, "channel").as_deref(), Some("p_1001"));
    sim.answer(r#"for (;;); {"t":"fullReload","seq":42}"#);
    assert_eq!(sim.other.last(), Some(&Output::Resync { seq: 42 }));
    let third = sim.poll();
    assert_eq!(q(&third, "seq").as_deref(), Some("42"));
    assert_eq!(q(&third, "sticky_token"), None);
}

#[test]
fn a_502_moves_the_pull_to_the_next_host() {
    let mut sim = Sim::new(config(Endpoint::pull()));
    let poll = sim.poll();
    sim.rx.handle_status(poll.id, sim.now, 502);
    sim.drain();
    assert!(matches!(sim.other.last(), Some(Output::PollFailed { failure: Failure::Status(502), .. })));
    assert_eq!(sim.poll().url.host_str(), Some("1-edge-chat.facebook.com"));
}

#[test]
fn backoff_waits_on_the_schedule() {
    let mut sim = Sim::new(config(Endpoint::pull()));
    let hold = Duration::from_secs(70);
    let mut expected_at = None;
    for (n, base) in [(1u32, 5u64), (2, 10), (3, 20)] {
        let poll = sim.answer(r#"for (;;); {"t":"backoff"}"#);
        if let Some(at) = expected_at {
            assert_eq!(poll.deadline - hold, at, "backoff {n}: the poll went out when the wait ended");
        }
        let Some(Output::BackingOff { wait }) = sim.other.last().cloned() else { panic!("{:?}", sim.other) };
        let base = Duration::from_secs(base);
        assert!(wait >= base && wait <= base.mul_f64(1.5), "backoff {n}: {wait:?}");
        assert_eq!(sim.rx.poll_transmit(sim.now), None, "not before the wait");
        expected_at = Some(sim.now + wait);
    }
    // Any other frame ends the run of backoffs.
    sim.answer(r#"for (;;); {"t":"heartbeat"}"#);
    sim.answer(r#"for (;;); {"t":"backoff"}"#);
    let Some(Output::BackingOff { wait }) = sim.other.last().cloned() else { panic!() };
    assert!(wait <= Duration::from_millis(7500), "{wait:?}");
}

#[test]
fn batched_frames_are_handled_in_order_and_unknown_frames_reported() {
    let mut sim = Sim::new(config(Endpoint::pull()));
    sim.answer(&format!(
        r#"for (;;); {{"t":"batched","batches":[{{"t":"lb","lb_info":{{"sticky":"7"}}}},{{"t":"msg","seq":3,"ms":[{}]}},{{"t":"heartbeat"}},{{"t":"shutdown","why":"x"}}]}}"#,
        msg("1", "inside")
    ));
    assert_eq!(sim.texts(), ["2:inside"], "numbered by the frame's seq, without a position yet");
    assert_eq!(sim.rx.sticky(), Some(("7", None)));
    assert_eq!(sim.rx.stats().heartbeats, 1);
    assert!(matches!(&sim.other[..], [Output::UnknownFrame { kind, .. }] if kind == "shutdown"));
    assert_eq!(sim.rx.seq(), 3);
    assert!(sim.rx.poll_transmit(sim.now).is_some(), "polling goes on");
}

#[test]
fn bad_answers_fail_the_poll_and_keep_the_seq() {
    for (body, check) in [
        ("for (;;);{\"t\":\"msg\",\"ms\":5}", "undecodable"),
        ("", "empty"),
        ("<html>502</html>", "undecodable-or-empty"),
    ] {
        let mut sim = Sim::channel();
        sim.answer(REFRESH_5);
        sim.answer(body);
        let failure = match sim.other.last() {
            Some(Output::PollFailed { failure, .. }) => failure.clone(),
            other => panic!("{body:?}: {other:?}"),
        };
        match check {
            "undecodable" => assert!(matches!(failure, Failure::Undecodable(_)), "{failure}"),
            "empty" => assert_eq!(failure, Failure::EmptyBody),
            _ => assert!(
                matches!(failure, Failure::EmptyBody | Failure::Undecodable(_) | Failure::Truncated),
                "{failure}"
            ),
        }
        assert_eq!(seq_of(&sim.poll()), "5", "{body:?}");
    }
}

#[test]
fn a_not_logged_in_answer_asks_for_renewal() {
    let mut sim = Sim::channel();
    sim.answer(REFRESH_5);
    sim.answer(r#"for (;;);{"error":1357001,"errorSummary":"Not Logged In","errorDescription":"You must be logged in to do that.","payload":null}"#);
    match sim.other.last() {
        Some(Output::RenewNeeded { error: Some(err), .. }) => assert!(err.is_not_logged_in()),
        other => panic!("{other:?}"),
    }
    assert!(sim.rx.is_paused());
}

#[test]
fn own_echoes_are_flagged_or_dropped() {
    let echo = r#"{"type":"msg","msg":{"text":"mine","msgID":"-5"},"from":1001,"to":2002}"#.to_owned();
    let to_self = r#"{"type":"msg","msg":{"text":"note to self","msgID":"-6"},"from":1001,"to":1001}"#.to_owned();
    let mut sim = Sim::channel();
    sim.answer(REFRESH_5);
    sim.answer(&frame(&[echo.clone(), to_self.clone()]));
    assert_eq!(sim.events.iter().map(|d| d.own_echo).collect::<Vec<_>>(), [true, false]);

    let mut c = config(Endpoint::channel(7));
    c.drop_own_echoes = true;
    let mut sim = Sim::new(c);
    sim.answer(REFRESH_5);
    sim.answer(&frame(&[echo, to_self]));
    assert_eq!(sim.texts(), ["6:note to self"]);
    assert_eq!(sim.rx.stats().own_echoes_dropped, 1);
    assert_eq!(seq_of(&sim.poll()), "7", "dropped echoes still count in seq");
}

#[test]
fn one_poll_at_a_time() {
    let mut sim = Sim::channel();
    let poll = sim.poll();
    assert_eq!(sim.rx.poll_transmit(sim.now), None);
    assert_eq!(sim.rx.poll_transmit(sim.now + Duration::from_secs(10)), None);
    assert_eq!(sim.rx.poll_timeout(), Some(poll.deadline));
}

#[test]
fn a_base_that_makes_no_url_is_refused() {
    let err = Receiver::new(config(Endpoint::channel(7).with_base("not a url")), Instant::now()).unwrap_err();
    assert!(err.to_string().contains("is not a URL"), "{err}");
}

fn msg_from(from: u64, id: &str, text: &str) -> String {
    msg(id, text).replace("\"from\":2002", &format!("\"from\":{from}"))
}

#[test]
fn the_first_answer_makes_the_receiver_ready() {
    let mut sim = Sim::channel();
    let first = sim.poll();
    sim.rx.handle_failure(first.id, sim.now, Failure::Connect("refused".into()));
    sim.drain();
    assert_eq!(sim.ready, None, "a failure is no answer");
    sim.answer(REFRESH_5);
    assert_eq!(sim.ready, Some(5));
    sim.answer(CONTINUE);
    assert_eq!(sim.ready, Some(5), "once");
}

#[test]
fn a_refresh_ahead_of_a_position_is_a_gap_of_known_size() {
    let mut sim = Sim::channel();
    sim.answer(REFRESH_5);
    assert!(sim.other.is_empty(), "the first refresh from -1 is a start, not a gap: {:?}", sim.other);
    sim.answer(&frame(&[msg("1", "a"), msg("2", "b")]));
    // Polling seq 7 now; the server's window moved on to 107.
    sim.answer(r#"for (;;);{"t":"refresh","seq":107}"#);
    assert_eq!(
        sim.other,
        [Output::Gap { from: 7, to: 107, missed: 100 }, Output::GapSettled { missed: 100, recovered: 0, lost: 100 }]
    );
    assert_eq!(seq_of(&sim.answer(CONTINUE)), "107", "polling goes on past the gap");
    assert_eq!(sim.rx.stats().missed, 100);
    // A refresh back (the server restarted its numbering) is no gap.
    sim.other.clear();
    sim.answer(r#"for (;;);{"t":"refresh","seq":3}"#);
    assert!(sim.other.is_empty(), "{:?}", sim.other);
}

#[test]
fn a_pull_frame_whose_seq_jumps_is_a_gap_too() {
    let mut sim = Sim::new(config(Endpoint::pull()));
    sim.answer(r#"for (;;); {"t":"lb","lb_info":{"sticky":"1","pool":"p"}}"#);
    sim.answer(&format!(r#"for (;;); {{"t":"msg","seq":1,"ms":[{}]}}"#, msg("1", "a")));
    assert!(sim.other.is_empty(), "{:?}", sim.other);
    sim.answer(&format!(r#"for (;;); {{"t":"msg","seq":12,"ms":[{}]}}"#, msg("2", "b")));
    assert_eq!(sim.other[0], Output::Gap { from: 2, to: 12, missed: 10 });
}

/// A receiver with `pause_on_gap` that got "a" at seq 5 and then a refresh
/// to 16: a gap of 10, the receiver paused.
fn paused_at_a_gap() -> Sim {
    let mut c = config(Endpoint::channel(7));
    c.pause_on_gap = true;
    let mut sim = Sim::new(c);
    sim.answer(REFRESH_5);
    sim.answer(&frame(&[msg("1", "a")]));
    sim.answer(r#"for (;;);{"t":"refresh","seq":16}"#);
    sim
}

#[test]
fn a_paused_gap_settles_with_what_history_recovered() {
    let mut sim = paused_at_a_gap();
    assert_eq!(sim.other, [Output::Gap { from: 6, to: 16, missed: 10 }]);
    assert!(sim.rx.is_paused(), "waits for the application's recovery");
    assert!(sim.rx.poll_transmit(sim.now + Duration::from_secs(60)).is_none());

    // History gave back 7 messages: 6 from the gap, and one sent after it
    // that the channel will deliver too.
    let recovered: Vec<String> = (10..16).chain([99]).map(|n| format!("2002:{n}")).collect();
    sim.rx.resume_after_gap(sim.now, recovered);
    assert!(sim.rx.was_delivered("2002:12"));
    sim.answer(&frame(&[msg("99", "after the gap"), msg("100", "new")]));
    assert_eq!(sim.texts(), ["5:a", "17:new"], "the channel's copy of a recovered message is dropped");
    assert_eq!(sim.other[1..], [Output::GapSettled { missed: 10, recovered: 6, lost: 4 }]);
}

#[test]
fn duplicates_are_told_by_sender_and_id() {
    let mut sim = Sim::channel();
    sim.answer(REFRESH_5);
    sim.answer(&frame(&[msg_from(2002, "7", "from Bob"), msg_from(2003, "7", "from Carol, same id")]));
    sim.answer(&frame(&[msg_from(2002, "7", "from Bob")]));
    assert_eq!(sim.texts(), ["5:from Bob", "6:from Carol, same id"]);
    assert_eq!(sim.rx.stats().duplicates, 1);
}

#[test]
fn a_gap_during_the_recovery_of_another_joins_it() {
    let mut sim = paused_at_a_gap();
    sim.rx.resume_after_gap(sim.now, (10..16).map(|n| format!("2002:{n}")));
    // The window moved on again before the first answer after the recovery.
    sim.answer(r#"for (;;);{"t":"refresh","seq":30}"#);
    assert_eq!(sim.other, [Output::Gap { from: 6, to: 16, missed: 10 }, Output::Gap { from: 16, to: 30, missed: 14 }]);
    assert!(sim.rx.is_paused());
    sim.rx.resume_after_gap(sim.now, (16..30).map(|n| format!("2002:{n}")));
    sim.answer(CONTINUE);
    assert_eq!(sim.other[2..], [Output::GapSettled { missed: 24, recovered: 20, lost: 4 }]);
}
