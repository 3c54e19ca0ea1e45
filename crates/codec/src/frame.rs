//! Channel frames: what a long poll answers.

use std::borrow::Cow;

use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::Result;
use crate::ctx::Ctx;
use crate::event::{Event, build_events};
use crate::fields::BodyFields;
use crate::loose::{Scalar, Shaped};
use crate::raw::{Extra, RawJson, own, own_opt};
use crate::scan::Seg;

/// One frame from a channel host: the answer to a long poll, or one of the
/// objects a kept-open connection carries.
///
/// docs/protocol.md: from about 2011 (and always in the `/pull` era) a frame
/// carries its own `seq` (sometimes spelled `s`); 2008-2010 frames carry none.
/// Whichever frame kind carries it, it is in [`Frame::seq`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame<'a> {
    /// What the frame says.
    pub kind: FrameKind<'a>,
    /// The frame's `seq` (or `s`), where it has one.
    pub seq: Option<i64>,
    /// Keys the frame kind has no field for, in wire order.
    pub extra: Extra<'a>,
}

/// The kinds of frame, by their `t`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameKind<'a> {
    /// `msg`: events for the channel. The next seq to poll is the frame's
    /// `seq` where it has one, else the polled seq plus `events.len()`
    /// (seq counts events, not responses).
    Msg {
        /// `c`, the channel, such as `p_1001`.
        channel: Option<Cow<'a, str>>,
        /// `ms`, the events in order.
        events: Vec<Event<'a>>,
    },
    /// `continue`: the hold ended with nothing to deliver; poll the same seq.
    Continue,
    /// `refresh`: with a seq, poll from there; bare, the session's form token
    /// or channel went stale and must be renewed (reconnect.php).
    Refresh {
        /// `reason` (the `/pull` era sends 110).
        reason: Option<i64>,
    },
    /// `heartbeat`: a sign of life, nothing more.
    Heartbeat,
    /// `lb`: the load balancer's sticky token and pool, to be sent back as
    /// `sticky_token` and `sticky_pool` on every later pull.
    Lb {
        /// `lb_info.sticky`.
        sticky: Cow<'a, str>,
        /// `lb_info.pool`.
        pool: Option<Cow<'a, str>>,
        /// Unknown keys of `lb_info`.
        info_extra: Extra<'a>,
    },
    /// `fullReload`: reset seq to the frame's seq, drop sticky, re-sync.
    FullReload,
    /// `backoff`: wait before polling again (docs/protocol.md gives the schedule).
    Backoff,
    /// `batched`: several frames, to be handled in order.
    Batched {
        /// `batches`.
        frames: Vec<Frame<'a>>,
    },
    /// Any other `t`, with the whole frame as received; encoding writes it
    /// back verbatim.
    Unknown {
        /// The frame's `t`.
        kind: Cow<'a, str>,
        /// The whole frame object.
        raw: RawJson<'a>,
    },
}

impl<'a> Frame<'a> {
    /// A frame of `kind` with no seq and no extra keys.
    pub fn new(kind: FrameKind<'a>) -> Self {
        Self { kind, seq: None, extra: Extra::new() }
    }

    /// A `msg` frame for channel `p_{uid}`.
    pub fn msg(uid: u64, events: Vec<Event<'a>>) -> Self {
        Self::new(FrameKind::Msg { channel: Some(Cow::Owned(format!("p_{uid}"))), events })
    }

    /// `{"t":"continue"}`.
    pub fn continue_() -> Self {
        Self::new(FrameKind::Continue)
    }

    /// `{"t":"refresh","seq":N}`, or a bare refresh when `seq` is `None`.
    pub fn refresh(seq: Option<i64>) -> Self {
        Self { seq, ..Self::new(FrameKind::Refresh { reason: None }) }
    }

    /// The same frame with `seq` set.
    pub fn with_seq(mut self, seq: i64) -> Self {
        self.seq = Some(seq);
        self
    }

    /// The frame's `t` as on the wire.
    pub fn kind_name(&self) -> &str {
        match &self.kind {
            FrameKind::Msg { .. } => "msg",
            FrameKind::Continue => "continue",
            FrameKind::Refresh { .. } => "refresh",
            FrameKind::Heartbeat => "heartbeat",
            FrameKind::Lb { .. } => "lb",
            FrameKind::FullReload => "fullReload",
            FrameKind::Backoff => "backoff",
            FrameKind::Batched { .. } => "batched",
            FrameKind::Unknown { kind, .. } => kind,
        }
    }

    /// The events of a `msg` frame (none for other kinds).
    pub fn events(&self) -> &[Event<'a>] {
        match &self.kind {
            FrameKind::Msg { events, .. } => events,
            _ => &[],
        }
    }

    /// The frame with its prefix, as the 2008 service sent it.
    pub fn encode(&self) -> Vec<u8> {
        crate::Encoder::default().frame(self)
    }

    /// Detaches the frame from the input it borrows from.
    pub fn into_owned(self) -> Frame<'static> {
        let kind = match self.kind {
            FrameKind::Msg { channel, events } => FrameKind::Msg {
                channel: own_opt(channel),
                events: events.into_iter().map(Event::into_owned).collect(),
            },
            FrameKind::Continue => FrameKind::Continue,
            FrameKind::Refresh { reason } => FrameKind::Refresh { reason },
            FrameKind::Heartbeat => FrameKind::Heartbeat,
            FrameKind::Lb { sticky, pool, info_extra } => {
                FrameKind::Lb { sticky: own(sticky), pool: own_opt(pool), info_extra: info_extra.into_owned() }
            }
            FrameKind::FullReload => FrameKind::FullReload,
            FrameKind::Backoff => FrameKind::Backoff,
            FrameKind::Batched { frames } => {
                FrameKind::Batched { frames: frames.into_iter().map(Frame::into_owned).collect() }
            }
            FrameKind::Unknown { kind, raw } => FrameKind::Unknown { kind: own(kind), raw: raw.into_owned() },
        };
        Frame { kind, seq: self.seq, extra: self.extra.into_owned() }
    }
}

impl Serialize for Frame<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if let FrameKind::Unknown { raw, .. } = &self.kind {
            return raw.serialize(serializer);
        }
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("t", self.kind_name())?;
        match &self.kind {
            FrameKind::Msg { channel, events } => {
                if let Some(c) = channel {
                    map.serialize_entry("c", c)?;
                }
                if let Some(seq) = self.seq {
                    map.serialize_entry("seq", &seq)?;
                }
                map.serialize_entry("ms", events)?;
            }
            FrameKind::Refresh { reason } => {
                if let Some(reason) = reason {
                    map.serialize_entry("reason", reason)?;
                }
                if let Some(seq) = self.seq {
                    map.serialize_entry("seq", &seq)?;
                }
            }
            FrameKind::Lb { sticky, pool, info_extra } => {
                map.serialize_entry("lb_info", &LbInfo(sticky, pool, info_extra))?;
                if let Some(seq) = self.seq {
                    map.serialize_entry("seq", &seq)?;
                }
            }
            FrameKind::Batched { frames } => {
                if let Some(seq) = self.seq {
                    map.serialize_entry("seq", &seq)?;
                }
                map.serialize_entry("batches", frames)?;
            }
            _ => {
                if let Some(seq) = self.seq {
                    map.serialize_entry("seq", &seq)?;
                }
            }
        }
        self.extra.serialize_into(&mut map)?;
        map.end()
    }
}

struct LbInfo<'r, 'a>(&'r Cow<'a, str>, &'r Option<Cow<'a, str>>, &'r Extra<'a>);

impl Serialize for LbInfo<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("sticky", self.0)?;
        if let Some(pool) = self.1 {
            map.serialize_entry("pool", pool)?;
        }
        self.2.serialize_into(&mut map)?;
        map.end()
    }
}

/// Builds a frame from an object with a `t`; `ctx` stands at the object.
pub(crate) fn build_frame<'a>(f: BodyFields<'a>, ctx: &mut Ctx<'a>) -> Result<Frame<'a>> {
    let BodyFields { t, c, seq, s, reason, ms, lb_info, batches, mut extra, envelope } = f;
    let kind = match t.map(Scalar::into_str) {
        Some(Some(kind)) => kind,
        _ => return Err(ctx.shape(Some("t"), "a frame's `t` must be a string".into())),
    };
    let unknown = !matches!(
        kind.as_ref(),
        "msg" | "continue" | "refresh" | "heartbeat" | "lb" | "fullReload" | "backoff" | "batched"
    );
    if unknown {
        return Ok(Frame {
            // An unknown frame's seq is a hint; its raw text is what counts.
            seq: seq.as_ref().and_then(Scalar::as_i64).or_else(|| s.as_ref().and_then(Scalar::as_i64)),
            extra: Extra::new(),
            kind: FrameKind::Unknown { raw: ctx.raw_here()?, kind },
        });
    }
    // `seq` wins over `s`; an `s` beside a `seq` is kept as an extra key.
    let seq = match (ctx.int("seq", seq)?, s) {
        (Some(seq), s) => {
            ctx.keep_if(&mut extra, "s", s.is_some());
            Some(seq)
        }
        (None, s) => ctx.int("s", s)?,
    };
    let kind = match kind.as_ref() {
        "msg" => {
            ctx.keep_if(&mut extra, "reason", reason.is_some());
            ctx.keep_if(&mut extra, "lb_info", lb_info.is_some());
            ctx.keep_if(&mut extra, "batches", batches.is_some());
            let channel = ctx.string("c", c)?;
            let events = match ms {
                Some(Shaped::Ok(slots)) => {
                    ctx.enter_key("ms");
                    let events = build_events(slots, ctx);
                    ctx.leave();
                    events?
                }
                Some(Shaped::Not(found)) => {
                    return Err(ctx.shape(Some("ms"), format!("expected an array of events, found {found}")));
                }
                None => return Err(ctx.shape(None, "a msg frame needs an `ms` array".into())),
            };
            FrameKind::Msg { channel, events }
        }
        "lb" => {
            ctx.keep_if(&mut extra, "c", c.is_some());
            ctx.keep_if(&mut extra, "reason", reason.is_some());
            ctx.keep_if(&mut extra, "ms", ms.is_some());
            ctx.keep_if(&mut extra, "batches", batches.is_some());
            match lb_info {
                Some(Shaped::Ok(info)) => {
                    ctx.enter_key("lb_info");
                    let sticky = ctx.text("sticky", info.sticky);
                    let pool = ctx.text("pool", info.pool);
                    let sticky = sticky.and_then(|s| ctx.required("sticky", s));
                    ctx.leave();
                    FrameKind::Lb { sticky: sticky?, pool: pool?, info_extra: info.extra }
                }
                Some(Shaped::Not(found)) => {
                    return Err(ctx.shape(Some("lb_info"), format!("expected an object, found {found}")));
                }
                None => return Err(ctx.shape(None, "an lb frame needs `lb_info`".into())),
            }
        }
        "batched" => {
            ctx.keep_if(&mut extra, "c", c.is_some());
            ctx.keep_if(&mut extra, "reason", reason.is_some());
            ctx.keep_if(&mut extra, "ms", ms.is_some());
            ctx.keep_if(&mut extra, "lb_info", lb_info.is_some());
            match batches {
                Some(Shaped::Ok(slots)) => {
                    ctx.enter_key("batches");
                    let frames = build_batches(slots, ctx);
                    ctx.leave();
                    FrameKind::Batched { frames: frames? }
                }
                Some(Shaped::Not(found)) => {
                    return Err(ctx.shape(Some("batches"), format!("expected an array of frames, found {found}")));
                }
                None => return Err(ctx.shape(None, "a batched frame needs `batches`".into())),
            }
        }
        other => {
            ctx.keep_if(&mut extra, "c", c.is_some());
            ctx.keep_if(&mut extra, "ms", ms.is_some());
            ctx.keep_if(&mut extra, "lb_info", lb_info.is_some());
            ctx.keep_if(&mut extra, "batches", batches.is_some());
            match other {
                "refresh" => FrameKind::Refresh { reason: ctx.int("reason", reason)? },
                _ => {
                    ctx.keep_if(&mut extra, "reason", reason.is_some());
                    match other {
                        "continue" => FrameKind::Continue,
                        "heartbeat" => FrameKind::Heartbeat,
                        "fullReload" => FrameKind::FullReload,
                        _ => FrameKind::Backoff,
                    }
                }
            }
        }
    };
    for key in envelope.present_keys() {
        ctx.keep_if(&mut extra, key, true);
    }
    Ok(Frame { kind, seq, extra })
}

fn build_batches<'a>(slots: Vec<Shaped<BodyFields<'a>>>, ctx: &mut Ctx<'a>) -> Result<Vec<Frame<'a>>> {
    let mut frames = Vec::with_capacity(slots.len());
    for (i, slot) in slots.into_iter().enumerate() {
        ctx.enter(Seg::Index(i));
        let frame = match slot {
            Shaped::Ok(fields) if fields.t.is_some() => build_frame(fields, ctx),
            Shaped::Ok(_) => Err(ctx.shape(None, "a batched frame needs a `t`".into())),
            Shaped::Not(found) => Err(ctx.shape(None, format!("expected a frame object, found {found}"))),
        };
        ctx.leave();
        frames.push(frame?);
    }
    Ok(frames)
}
