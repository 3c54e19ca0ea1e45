//! The fast path against the general decoder, on any bytes: they must
//! agree, value for value and error for error (path and byte offset
//! included).

#![no_main]

use fbcomet_codec::{decode, decode_general};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    assert_eq!(decode(data), decode_general(data), "the fast path and the general decoder disagree");
});
