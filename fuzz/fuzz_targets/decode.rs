//! Any bytes, as one body and as a stream cut at a point the input chooses:
//! no panic, and whatever decodes re-encodes to a body that decodes to the
//! same value.

#![no_main]

use fbcomet_codec::{Body, StreamDecoder, decode, describe};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(body) = decode(data) {
        let _ = describe(&body);
        let wire = body.encode();
        let again = decode(&wire).expect("an encoded body decodes");
        assert_eq!(again, body, "decode(encode(x)) != x");
    }

    // The same bytes as a stream, cut where the first byte says.
    let cut = data.first().map_or(0, |&b| usize::from(b) % (data.len() + 1));
    let mut decoder = StreamDecoder::with_max_frame(1 << 16);
    let mut whole = Vec::new();
    for chunk in [&data[..cut], &data[cut..]] {
        decoder.push(chunk);
        for _ in 0..=data.len() {
            match decoder.next_body() {
                Ok(Some(body)) => whole.push(body.into_owned()),
                Ok(None) => break,
                Err(_) => {}
            }
        }
    }
    let _ = decoder.finish();
    for body in &whole {
        let wire = body.encode();
        let again: Body<'_> = decode(&wire).expect("an encoded body decodes");
        assert_eq!(&again, body);
    }
});
