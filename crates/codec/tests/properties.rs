//! Property tests: `decode(encode(x)) == x` for every kind of value, and any
//! chunking of a valid stream decodes to the same bodies.

use std::borrow::Cow;

use fbcomet_codec::{
    Availability, Body, BuddyList, Encoder, Envelope, Escaping, Event, Extra, Frame, FrameKind, History, Message,
    Notifications, Payload, Prefix, Presence, RawJson, Reconnect, StreamDecoder, Typing, UidMap, UnknownEvent,
    UserInfo, decode,
};
use proptest::collection::vec;
use proptest::option::of;
use proptest::prelude::*;
use serde_json::json;

type S = Cow<'static, str>;

fn text() -> impl Strategy<Value = S> {
    prop_oneof![
        any::<String>(),
        "[a-z &=+%/\\\\\"'<>\n\u{e9}\u{5341}\u{1F600}]{0,12}",
        Just("&amp; &quot; &#039;".to_owned()),
    ]
    .prop_map(Cow::Owned)
}

fn raw_value() -> impl Strategy<Value = RawJson<'static>> {
    prop_oneof![
        any::<i64>().prop_map(|n| json!(n)),
        any::<bool>().prop_map(|b| json!(b)),
        Just(json!(null)),
        any::<String>().prop_map(|s| json!(s)),
        vec(any::<u32>(), 0..4).prop_map(|v| json!(v)),
        (any::<String>(), any::<i32>()).prop_map(|(k, v)| json!({ k: v, "nested": [1, {"a": null}] })),
    ]
    .prop_map(|v| RawJson::from_string(v.to_string()).expect("valid json"))
}

/// Extra keys never collide with the keys the codec knows.
fn extra() -> impl Strategy<Value = Extra<'static>> {
    vec(("x_[a-z0-9_]{1,8}", raw_value()), 0..3)
        .prop_map(|kv| Extra(kv.into_iter().map(|(k, v)| (Cow::Owned(k), v)).collect()))
}

fn message() -> impl Strategy<Value = Message<'static>> {
    (
        (any::<u64>(), any::<u64>(), text()),
        (of(text()), of(text()), of(text()), of(text())),
        (of(any::<i64>()), of(any::<i64>()), of("-?[0-9]{1,10}".prop_map(Cow::Owned))),
        (extra(), extra()),
    )
        .prop_map(
            |((from, to, text), (fname, tname, ffirst, tfirst), (time, client_time, msg_id), (msg_extra, extra))| {
                Message {
                    from,
                    to,
                    from_name: fname,
                    to_name: tname,
                    from_first_name: ffirst,
                    to_first_name: tfirst,
                    text,
                    time,
                    client_time,
                    msg_id,
                    msg_extra,
                    extra,
                }
            },
        )
}

fn event() -> impl Strategy<Value = Event<'static>> {
    prop_oneof![
        4 => message().prop_map(Event::Msg),
        2 => (any::<u64>(), any::<u64>(), any::<bool>(), extra())
            .prop_map(|(from, to, typing, extra)| Event::Typ(Typing { from, to, typing, extra })),
        1 => ("[a-z_]{1,12}".prop_filter("known", |k| k != "msg" && k != "typ"), any::<i64>()).prop_map(|(kind, n)| {
            let raw = json!({"type": kind, "n": n, "l": [1, "two"]}).to_string();
            Event::Unknown(UnknownEvent {
                kind: Cow::Owned(kind),
                raw: RawJson::from_string(raw).expect("valid json"),
            })
        }),
    ]
}

fn leaf_frame() -> impl Strategy<Value = Frame<'static>> {
    let kind = prop_oneof![
        (of("p_[0-9]{1,15}".prop_map(Cow::Owned)), vec(event(), 0..5))
            .prop_map(|(channel, events)| FrameKind::Msg { channel, events }),
        Just(FrameKind::Continue),
        of(any::<i64>()).prop_map(|reason| FrameKind::Refresh { reason }),
        Just(FrameKind::Heartbeat),
        (text(), of(text()), extra()).prop_map(|(sticky, pool, info_extra)| FrameKind::Lb { sticky, pool, info_extra }),
        Just(FrameKind::FullReload),
        Just(FrameKind::Backoff),
    ];
    (kind, of(any::<i64>()), extra()).prop_map(|(kind, seq, extra)| Frame { kind, seq, extra })
}

fn unknown_frame() -> impl Strategy<Value = Frame<'static>> {
    ("[a-zA-Z]{1,10}", of(any::<i64>())).prop_filter_map("known kind", |(kind, seq)| {
        let known = ["msg", "continue", "refresh", "heartbeat", "lb", "fullReload", "backoff", "batched"];
        if known.contains(&kind.as_str()) {
            return None;
        }
        let mut raw = json!({"t": kind, "data": {"x": [true]}});
        if let Some(seq) = seq {
            raw["seq"] = json!(seq);
        }
        Some(Frame {
            kind: FrameKind::Unknown {
                kind: Cow::Owned(kind),
                raw: RawJson::from_string(raw.to_string()).expect("valid json"),
            },
            seq,
            extra: Extra::new(),
        })
    })
}

fn frame() -> impl Strategy<Value = Frame<'static>> {
    let leaf = prop_oneof![8 => leaf_frame(), 1 => unknown_frame()];
    leaf.prop_recursive(2, 12, 4, |inner| {
        (vec(inner, 0..4), of(any::<i64>()), extra()).prop_map(|(frames, seq, extra)| Frame {
            kind: FrameKind::Batched { frames },
            seq,
            extra,
        })
    })
}

fn buddy_list() -> impl Strategy<Value = BuddyList<'static>> {
    let user = (of(text()), of(text()), of(text()), of(text()), of(any::<i64>()), of(text())).prop_map(
        |(name, first_name, thumb_src, status, status_time, status_time_rel)| UserInfo {
            name,
            first_name,
            thumb_src,
            status,
            status_time,
            status_time_rel,
        },
    );
    (
        (of(any::<bool>()), of(any::<i64>()), of(any::<bool>()), of(any::<bool>())),
        vec(("[0-9]{1,15}".prop_map(Cow::Owned), any::<bool>()), 0..6),
        vec(any::<u64>(), 0..4),
        vec(("[0-9A-Z]{1,15}".prop_map(Cow::Owned), user), 0..6),
        // `"flData":null` decodes as no flData, so it is never `Some(null)`.
        of(raw_value().prop_filter("null", |r| r.get() != "null")),
    )
        .prop_map(|((list_changed, available_count, forced_render, fl_mode), online, gone, users, fl_data)| {
            BuddyList {
                list_changed,
                available_count,
                now_available: UidMap(online.into_iter().map(|(k, idle)| (k, Availability { idle })).collect()),
                was_available: gone,
                user_infos: UidMap(users),
                forced_render,
                fl_mode,
                fl_data,
            }
        })
}

fn notifications() -> impl Strategy<Value = Notifications<'static>> {
    (
        (of(any::<i64>()), of(any::<i64>()), of(any::<i64>()), of(any::<i64>()), of(any::<i64>())),
        vec(("[0-9]{1,12}".prop_map(Cow::Owned), text()), 0..3),
        of(text()),
    )
        .prop_map(|((count_new, count, latest_notif, latest_read_notif, inbox_count), apps, markup)| {
            Notifications {
                count_new,
                count,
                app_names: UidMap(apps),
                latest_notif,
                latest_read_notif,
                markup,
                inbox_count,
            }
        })
}

fn payload() -> impl Strategy<Value = Payload<'static>> {
    prop_oneof![
        Just(Payload::Absent),
        Just(Payload::Null),
        Just(Payload::Empty),
        (of(any::<i64>()), of(buddy_list()), of(notifications()), extra())
            .prop_filter("presence needs a list or notifications", |p| p.1.is_some() || p.2.is_some())
            .prop_map(|(time, buddy_list, notifications, extra)| Payload::Presence(Box::new(Presence {
                time,
                buddy_list,
                notifications,
                extra,
            }))),
        (text(), of(any::<i64>()), extra()).prop_map(|(host, seq, extra)| Payload::Reconnect(Reconnect {
            host,
            seq,
            extra
        })),
        (vec(event(), 0..4), extra()).prop_map(|(events, extra)| Payload::History(History { events, extra })),
        prop_oneof![Just("[1,2]"), Just("{\"x_ok\":true}"), Just("\"text\""), Just("7"), Just("{}")]
            .prop_map(|raw| Payload::Other(RawJson::from_string(raw.to_owned()).expect("valid json"))),
    ]
}

fn envelope() -> impl Strategy<Value = Envelope<'static>> {
    (
        (any::<i64>(), text(), text(), of(any::<bool>())),
        payload(),
        of(Just(RawJson::from_string("[{\"name\":\"js\\/common.js.pkg.php\"}]".to_owned()).expect("valid json"))),
        extra(),
    )
        .prop_map(|((error, summary, description, is_warning), payload, bootload, extra)| Envelope {
            error,
            summary,
            description,
            is_warning,
            payload,
            bootload,
            extra,
        })
}

fn body() -> impl Strategy<Value = Body<'static>> {
    prop_oneof![frame().prop_map(Body::Frame), envelope().prop_map(Body::Envelope)]
}

fn encoder() -> impl Strategy<Value = Encoder> {
    (
        prop_oneof![Just(Prefix::Classic), Just(Prefix::Spaced), Just(Prefix::Compact), Just(Prefix::None)],
        prop_oneof![Just(Escaping::Php), Just(Escaping::Minimal)],
    )
        .prop_map(|(prefix, escaping)| Encoder::new().prefix(prefix).escaping(escaping))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn frames_round_trip(frame in frame(), encoder in encoder()) {
        let wire = encoder.frame(&frame);
        prop_assert_eq!(fbcomet_codec::decode_frame(&wire)?, frame);
    }

    #[test]
    fn envelopes_round_trip(envelope in envelope(), encoder in encoder()) {
        let wire = encoder.envelope(&envelope);
        prop_assert_eq!(fbcomet_codec::decode_envelope(&wire)?, envelope);
    }

    #[test]
    fn events_round_trip(event in event()) {
        let frame = Frame::msg(1001, vec![event.clone()]);
        let wire = frame.encode();
        let decoded = fbcomet_codec::decode_frame(&wire)?;
        prop_assert_eq!(decoded.events(), &[event][..]);
    }

    #[test]
    fn any_chunking_decodes_the_same(
        bodies in vec((body(), encoder(), prop_oneof![Just(""), Just(" "), Just("\r\n"), Just("\n\n")]), 1..6),
        cuts in vec(any::<prop::sample::Index>(), 0..12),
    ) {
        let mut stream = Vec::new();
        for (body, encoder, sep) in &bodies {
            let mut wire = encoder.body(body);
            if wire.first() != Some(&b'{') || stream.is_empty() || !sep.is_empty() {
                stream.extend_from_slice(sep.as_bytes());
            } else {
                // Two unprefixed objects need nothing between them either.
            }
            stream.append(&mut wire);
        }
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(stream.len() + 1)).collect();
        points.push(0);
        points.push(stream.len());
        points.sort_unstable();
        points.dedup();

        let mut decoder = StreamDecoder::new();
        let mut got = Vec::new();
        for pair in points.windows(2) {
            decoder.push(&stream[pair[0]..pair[1]]);
            while let Some(body) = decoder.next_body()? {
                got.push(body.into_owned());
            }
        }
        prop_assert!(decoder.finish().is_ok());
        let want: Vec<Body<'static>> = bodies.into_iter().map(|(b, _, _)| b).collect();
        prop_assert_eq!(got, want);
    }

    /// The fast path and the general decoder agree on every body the
    /// encoder writes, and on those bodies mangled: the same value, or the
    /// same error.
    #[test]
    fn the_fast_path_agrees_with_the_general_decoder(
        body in body(),
        encoder in encoder(),
        edits in vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 0..3),
    ) {
        let mut wire = encoder.body(&body);
        prop_assert_eq!(decode(&wire), fbcomet_codec::decode_general(&wire));
        for (at, byte, how) in edits {
            let i = at.index(wire.len() + 1);
            match how {
                0 => wire.insert(i, byte),
                1 if i < wire.len() => { wire.remove(i); }
                _ if i < wire.len() => wire[i] = byte,
                _ => {}
            }
            prop_assert_eq!(decode(&wire), fbcomet_codec::decode_general(&wire));
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..256), split in any::<prop::sample::Index>()) {
        let _ = decode(&bytes);
        let mut decoder = StreamDecoder::new();
        let at = split.index(bytes.len() + 1);
        decoder.push(&bytes[..at]);
        while let Ok(Some(_)) | Err(_) = decoder.next_body() {
            if decoder.buffered() == 0 { break; }
        }
        decoder.push(&bytes[at..]);
        for _ in 0..bytes.len() + 2 {
            if let Ok(None) = decoder.next_body() { break; }
        }
        let _ = decoder.finish();
    }
}

fn poll_target() -> impl Strategy<Value = fbcomet_codec::PollTarget> {
    use fbcomet_codec::PollTarget;
    prop_oneof![
        ("[A-Za-z0-9_-]{1,12}", vec("[a-z0-9]{1,6}", 0..3), any::<u64>(), -1i64..i64::MAX)
            .prop_map(|(buster, segments, uid, seq)| PollTarget::Channel { buster, segments, uid, seq }),
        vec(("[a-z_]{1,12}", any::<String>()), 0..8).prop_map(|query| PollTarget::Pull { query }),
    ]
}

fn chat_host() -> impl Strategy<Value = fbcomet_codec::ChatHost> {
    use fbcomet_codec::ChatHost;
    prop_oneof![
        Just(ChatHost::Www),
        Just(ChatHost::Mobile),
        Just(ChatHost::Graph),
        ("[a-z0-9]{1,10}", 0u32..100, any::<bool>()).prop_map(|(label, number, dotted)| ChatHost::Channel {
            label,
            number,
            dotted
        }),
        (0u32..1000).prop_map(|n| ChatHost::EdgeChat { n }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// The poll URL grammar: what is formatted parses back to the same
    /// target, and what parses formats back to the same text.
    #[test]
    fn poll_targets_round_trip(target in poll_target()) {
        let text = target.to_string();
        let parsed = fbcomet_codec::PollTarget::parse(&text).expect("parses");
        prop_assert_eq!(&parsed, &target);
        prop_assert_eq!(parsed.to_string(), text);
    }

    #[test]
    fn chat_hosts_round_trip(host in chat_host()) {
        let text = host.to_string();
        prop_assert_eq!(fbcomet_codec::ChatHost::parse(&text), Some(host.clone()));
        prop_assert_eq!(fbcomet_codec::ChatHost::parse(&text.to_uppercase()), Some(host));
    }
}
