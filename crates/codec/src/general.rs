//! The general decoder: every shape the protocol had, with a path and an
//! offset for every error.

use crate::body::Body;
use crate::ctx::Ctx;
use crate::envelope::build_envelope;
use crate::fields::BodyVisitor;
use crate::frame::build_frame;
use crate::loose::{Shaped, shaped};
use crate::{Error, Result};

/// The general decoder: one serde pass into tolerant slots, then the typed
/// values built from them, with a path and an offset for every error.
pub(crate) fn decode_object_general(text: &str, base: usize) -> Result<Body<'_>> {
    let mut de = serde_json::Deserializer::from_str(text);
    let fields = match shaped(&mut de, BodyVisitor) {
        Ok(Shaped::Ok(fields)) => fields,
        Ok(Shaped::Not(found)) => {
            return Err(Error::NotAnObject { offset: base, found });
        }
        Err(err) => return Err(Error::from_json(&err, text).shifted(base)),
    };
    de.end().map_err(|err| Error::from_json(&err, text).shifted(base))?;
    let mut ctx = Ctx::new(text, base);
    if fields.t.is_some() {
        build_frame(fields, &mut ctx).map(Body::Frame)
    } else if fields.envelope.error.is_some() || fields.envelope.payload.is_some() {
        build_envelope(fields, &mut ctx).map(Body::Envelope)
    } else {
        Err(ctx.shape(None, "neither a channel frame (no `t`) nor an ajax envelope (no `error` or `payload`)".into()))
    }
}
