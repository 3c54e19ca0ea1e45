//! A whole body: a channel frame or an ajax envelope.

use std::fmt;

use crate::envelope::Envelope;
use crate::frame::Frame;

/// What one JSON object from the protocol decodes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body<'a> {
    /// An object with a `t`: what the channel hosts send.
    Frame(Frame<'a>),
    /// An object with `error` or `payload`: what the ajax endpoints send.
    Envelope(Envelope<'a>),
}

impl Body<'_> {
    /// The body with its prefix, as the 2008 service sent it.
    pub fn encode(&self) -> Vec<u8> {
        crate::Encoder::default().body(self)
    }

    /// Detaches the body from the input it borrows from.
    pub fn into_owned(self) -> Body<'static> {
        match self {
            Body::Frame(f) => Body::Frame(f.into_owned()),
            Body::Envelope(e) => Body::Envelope(e.into_owned()),
        }
    }
}

impl<'a> From<Frame<'a>> for Body<'a> {
    fn from(frame: Frame<'a>) -> Self {
        Body::Frame(frame)
    }
}

impl<'a> From<Envelope<'a>> for Body<'a> {
    fn from(envelope: Envelope<'a>) -> Self {
        Body::Envelope(envelope)
    }
}

impl fmt::Display for Body<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Body::Frame(frame) => write!(f, "frame {}", frame.kind_name()),
            Body::Envelope(e) if e.error != 0 => write!(f, "envelope error {}", e.error),
            Body::Envelope(_) => f.write_str("envelope"),
        }
    }
}
