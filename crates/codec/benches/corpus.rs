//! The realistic mix of bodies the benchmarks decode, from a seed: about
//! half data frames with 1-4 events (escaped and non-ASCII text), a quarter
//! `continue`, the rest refresh, typing, send replies, error envelopes and
//! buddy lists of 5-60 entries. Shared by the criterion bench and the
//! `corpus` example (which writes it out for the whole-process comparison).

#![allow(dead_code)]

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

const WORDS: &[&str] = &[
    "hey",
    "are",
    "you",
    "there",
    "lol",
    "ok",
    "see",
    "you",
    "at",
    "8",
    "Tom & Jerry",
    "\"quoted\"",
    "caf\u{e9}",
    "\u{5341}\u{4e00}",
    "\u{1F600}",
    "http://x.y/z",
    "<b>",
    "it's",
];

fn sentence(rng: &mut SmallRng) -> String {
    let n = rng.random_range(1..12);
    (0..n).map(|_| WORDS[rng.random_range(0..WORDS.len())]).collect::<Vec<_>>().join(" ")
}

fn json_str(s: &str) -> String {
    // PHP-style, as the service wrote it: `\/` and `\uXXXX`.
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' => out.push_str("\\/"),
            c if c.is_ascii() && !c.is_ascii_control() => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{u:04x}"));
                }
            }
        }
    }
    out.push('"');
    out
}

/// The realistic mix: about half data frames with 1-4 events, a quarter
/// `continue`, the rest refresh, typing, send replies, error envelopes and
/// buddy lists of 5-60 entries.
pub(crate) fn corpus(n: usize, seed: u64) -> Vec<Vec<u8>> {
    let mut rng = SmallRng::seed_from_u64(seed);
    let me = 100000123456789u64;
    (0..n)
        .map(|_| {
            let roll = rng.random_range(0..100);
            let body = if roll < 50 {
                let events: Vec<String> = (0..rng.random_range(1..=4))
                    .map(|_| {
                        let from = rng.random_range(100000000000000u64..100000999999999);
                        if rng.random_bool(0.2) {
                            format!(r#"{{"type":"typ","st":{},"from":{from},"to":{me}}}"#, rng.random_range(0..2))
                        } else {
                            let t = 1211177326689u64 + rng.random_range(0..1_000_000_000);
                            format!(
                                r#"{{"type":"msg","msg":{{"text":{},"time":{t},"clientTime":{},"msgID":"{}"}},"from":{from},"to":{me},"from_name":"Jamie Lane","to_name":"Erin Ross","from_first_name":"Jamie","to_first_name":"Erin"}}"#,
                                json_str(&sentence(&mut rng)),
                                t - 1500,
                                rng.random::<i32>()
                            )
                        }
                    })
                    .collect();
                format!(r#"for (;;);{{"t":"msg","c":"p_{me}","ms":[{}]}}"#, events.join(","))
            } else if roll < 75 {
                r#"for (;;);{"t":"continue"}"#.to_owned()
            } else if roll < 80 {
                format!(r#"for (;;);{{"t":"refresh","seq":{}}}"#, rng.random_range(0..5000))
            } else if roll < 85 {
                format!(
                    r#"for (;;);{{"t":"msg","c":"p_{me}","ms":[{{"type":"typ","st":1,"from":{},"to":{me}}}]}}"#,
                    rng.random_range(1000000u64..9999999)
                )
            } else if roll < 90 {
                r#"for (;;);{"error":0,"errorSummary":"","errorDescription":"No error.","payload":[]}"#.to_owned()
            } else if roll < 93 {
                r#"for (;;);{"error":1357001,"errorSummary":"Not Logged In","errorDescription":"You must be logged in to do that.","payload":null,"bootload":[{"name":"js\/common.js.pkg.php","type":"js","src":"http:\/\/static.ak.fbcdn.net\/rsrc.php\/pkg\/59\/98561\/js\/common.js.pkg.php"}]}"#.to_owned()
            } else {
                let n = rng.random_range(5..=60);
                let uids: Vec<u64> = (0..n).map(|_| rng.random_range(500000000u64..1500000000)).collect();
                let mut online = Vec::new();
                for u in &uids {
                    if rng.random_bool(0.4) {
                        online.push(format!(r#""{u}":{{"i":{}}}"#, rng.random_bool(0.3)));
                    }
                }
                let infos: Vec<String> = uids
                    .iter()
                    .map(|u| {
                        let name = sentence(&mut rng);
                        format!(
                            r#""{u}":{{"name":{},"firstName":{},"thumbSrc":"http:\/\/static.ak.fbcdn.net\/pics\/q_default.gif","status":null,"statusTime":0,"statusTimeRel":""}}"#,
                            json_str(&name),
                            json_str(name.split(' ').next().unwrap_or("")),
                        )
                    })
                    .collect();
                format!(
                    r#"for (;;);{{"error":0,"errorSummary":"","errorDescription":"No error.","payload":{{"buddy_list":{{"listChanged":true,"availableCount":{},"nowAvailableList":{{{}}},"wasAvailableIDs":[],"userInfos":{{{}}},"forcedRender":true}},"time":1209560380000}}}}"#,
                    online.len(),
                    online.join(","),
                    infos.join(",")
                )
            };
            body.into_bytes()
        })
        .collect()
}
