//! Chaos: the emulator fails a fifth of all channel polls in random ways
//! (resets, cut bodies, 5xx, empty answers, dribbles, delays past the
//! client's deadline) while several users message each other. Every
//! message must arrive exactly once, in order.
//!
//! CI runs 1,000 messages; `FBCOMET_CHAOS_MESSAGES=10000 cargo test -p
//! fbcomet-e2e --release --test chaos -- --nocapture` runs the full size.

use std::collections::BTreeMap;
use std::time::Duration;

use fbcomet_chat::ChatConfig;
use fbcomet_http::{HttpClient, HttpConfig};
use fbcomet_mock::{EmulatorConfig, EmulatorServer, RandomFaults, User, World};
use fbcomet_receiver::{Backoff, Config, Endpoint, Listener, Output};
use fbcomet_sender::{Sender, SenderConfig, login};

const USERS: u64 = 4;

fn world() -> World {
    let users: Vec<User> = (1..=USERS)
        .map(|i| User {
            uid: 5000 + i,
            name: format!("User {i}"),
            first_name: format!("U{i}"),
            email: format!("u{i}@example.com"),
            password: format!("p{i}"),
            channel: i as u32,
            status: None,
            access_token: None,
        })
        .collect();
    let friendships = (1..=USERS).flat_map(|a| (a + 1..=USERS).map(move |b| (5000 + a, 5000 + b))).collect();
    World { users, friendships, pages: Vec::new(), apps: Vec::new() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_message_once_in_order_through_failing_polls() {
    let total: usize = std::env::var("FBCOMET_CHAOS_MESSAGES").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
    let mut faults = RandomFaults::new(0.2, 2008);
    // Delays up to 1.5 s: past the client's 0.6 s deadline more often than not.
    faults.delay = (Duration::from_millis(300), Duration::from_millis(1500));
    let config = EmulatorConfig {
        chat: ChatConfig { hold: Duration::from_millis(300), window: 100_000, ..ChatConfig::default() },
        faults: Some(faults),
    };
    let server = EmulatorServer::start(&world(), config).await.expect("emulator");
    let www: url::Url = server.url().parse().expect("url");

    // Everyone logs in and listens.
    let mut senders = Vec::new();
    let mut listeners = Vec::new();
    for i in 1..=USERS {
        let http = HttpClient::new(HttpConfig::default());
        let session = login(&http, &www, &format!("u{i}@example.com"), &format!("p{i}")).await.expect("login");
        let mut config = Config::new(session.uid, Endpoint::channel(session.channel).with_base(server.url()));
        config.hold = Duration::from_millis(300);
        config.hold_margin = Duration::from_millis(300);
        config.backoff = Backoff { initial: Duration::from_millis(2), max: Duration::from_millis(40) };
        // The channels are new: start at seq 0, not at -1. A first poll at
        // -1 is answered with "from now on" (refresh to the current seq),
        // and with faults delaying it, "now" could come after the first
        // messages were sent.
        config.start_seq = Some(0);
        config.rng_seed = Some(i);
        listeners.push((session.uid, Listener::new(config, http.clone()).expect("config")));
        senders.push(Sender::new(http, SenderConfig { rng_seed: Some(i), ..SenderConfig::new(www.clone()) }, session));
    }
    let uids: Vec<u64> = listeners.iter().map(|(uid, _)| *uid).collect();
    let per_receiver: BTreeMap<u64, usize> = uids.iter().map(|uid| (*uid, 0)).collect();

    // Each user sends to the others in turn: message k of the run goes from
    // uids[k % n] to the next one, numbered per pair.
    let mut expected: BTreeMap<u64, usize> = per_receiver.clone();
    let mut plan: Vec<Vec<(u64, String)>> = vec![Vec::new(); uids.len()];
    let mut pair_count: BTreeMap<(u64, u64), usize> = BTreeMap::new();
    for k in 0..total {
        let from = k % uids.len();
        let to = uids[(from + 1 + (k / uids.len()) % (uids.len() - 1)) % uids.len()];
        let n = pair_count.entry((uids[from], to)).or_default();
        plan[from].push((to, format!("{}>{}#{}", uids[from], to, n)));
        *n += 1;
        *expected.get_mut(&to).expect("a receiver") += 1;
    }

    let receive = listeners.into_iter().map(|(uid, mut listener)| {
        let want = expected[&uid];
        tokio::spawn(async move {
            let mut got = Vec::new();
            let mut failures = Vec::new();
            let mut last_seq = None::<i64>;
            let mut log: Vec<String> = Vec::new();
            while got.len() < want {
                match tokio::time::timeout(Duration::from_secs(20), listener.next()).await {
                    Ok(Some(Output::Event(d))) => {
                        // Every event of the channel, each once, in order.
                        if let Some(prev) = last_seq
                            && d.seq != prev + 1
                        {
                            panic!(
                                "{uid}: delivered seq jumped from {prev} to {}; recent: {:?}",
                                d.seq,
                                &log[log.len().saturating_sub(12)..]
                            );
                        }
                        last_seq = Some(d.seq);
                        if let Some(m) = d.event.as_message()
                            && !d.own_echo
                        {
                            got.push(m.text.to_string());
                            failures.clear();
                        }
                    }
                    Ok(Some(Output::Lost { last })) => panic!("{uid} lost its session: {last}"),
                    Ok(Some(Output::RenewNeeded { reason, error })) => {
                        panic!("{uid}: renewal asked: {reason:?} {error:?}")
                    }
                    Ok(Some(Output::PollFailed { failure, .. })) => {
                        log.push(format!("failed at seq {}: {failure}", listener.receiver().seq()));
                        failures.push(failure.to_string());
                        if failures.len() > 200 {
                            panic!(
                                "{uid}: {} of {want} messages, seq {}, failing: {:?}",
                                got.len(),
                                listener.receiver().seq(),
                                &failures[failures.len() - 5..]
                            );
                        }
                    }
                    Ok(Some(_)) => {}
                    Ok(None) => panic!("{uid}: the listener ended"),
                    Err(_) => {
                        panic!("{uid}: only {} of {want} messages, nothing for 20 s: {:?}", got.len(), listener.stats())
                    }
                }
            }
            (uid, got, listener.stats().clone())
        })
    });
    let receivers: Vec<_> = receive.collect();

    // Wait until everyone's first poll is held, then send.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !uids.iter().all(|uid| server.emulator().is_online(*uid)) {
        if tokio::time::Instant::now() > deadline {
            let offline: Vec<u64> = uids.iter().copied().filter(|u| !server.emulator().is_online(*u)).collect();
            let finished: Vec<bool> = receivers.iter().map(|r| r.is_finished()).collect();
            panic!("never online: {offline:?}; receivers finished: {finished:?}; {:?}", server.emulator().stats());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let sending: Vec<_> = senders
        .into_iter()
        .zip(plan)
        .map(|(sender, plan)| {
            tokio::spawn(async move {
                for (to, text) in plan {
                    match tokio::time::timeout(Duration::from_secs(20), sender.send(to, &text)).await {
                        Ok(result) => result.unwrap_or_else(|e| panic!("send {text}: {e}")),
                        Err(_) => panic!("send {text}: no answer in 20 s"),
                    };
                    // Paced, so that polls carry a message or two each and
                    // meet many faults (unpaced, messages queue into few frames).
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
            })
        })
        .collect();
    for s in sending {
        s.await.expect("sender");
    }

    let (mut polls, mut retries, mut duplicates) = (0, 0, 0);
    for r in receivers {
        let (uid, got, stats) = r.await.expect("receiver");
        // Per sender, the numbers run 0, 1, 2, ... with no gap and no repeat.
        let mut next: BTreeMap<String, usize> = BTreeMap::new();
        for text in &got {
            let (pair, n) = text.split_once('#').expect("numbered");
            let n: usize = n.parse().expect("a number");
            let want = next.entry(pair.to_owned()).or_default();
            assert_eq!(n, *want, "{uid}: {pair} out of order or doubled");
            *want += 1;
        }
        assert_eq!(got.len(), expected[&uid]);
        polls += stats.polls;
        retries += stats.retries;
        duplicates += stats.duplicates;
    }
    let emulated = server.emulator().stats();
    println!(
        "chaos: {total} messages among {USERS} users, each delivered once and in order; {polls} polls, {} faults injected, {retries} retried, {duplicates} duplicates dropped",
        emulated.faults
    );
    assert_eq!(emulated.messages, total as u64);
    assert!(emulated.faults > 0 && retries > 0);
    server.shutdown().await;
}
