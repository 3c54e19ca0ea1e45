//! Any bytes, as an HTTP request (method, target, headers and body, split at
//! newlines): the server's request parsing (forms, URLs, cookies, the proxy
//! form), the emulator's routing and sessions, and the replay's matching.
//! No panic, whatever arrives.

#![no_main]

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use fbcomet_chat::ChatConfig;
use fbcomet_mock::{Emulator, EmulatorConfig, Handler, Request, RequestSpec, World, differences};
use libfuzzer_sys::fuzz_target;

fn emulator() -> &'static Arc<Emulator> {
    static EMULATOR: OnceLock<Arc<Emulator>> = OnceLock::new();
    EMULATOR.get_or_init(|| {
        let chat = ChatConfig { hold: Duration::ZERO, seed: Some(1), ..ChatConfig::default() };
        Emulator::new(&World::default(), EmulatorConfig { chat, faults: None })
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let method = lines.next().unwrap_or("GET").trim();
    let target = lines.next().unwrap_or("/").trim();
    let mut builder = hyper::Request::builder().method(method).uri(target);
    let mut body = Vec::new();
    let mut in_body = false;
    for line in lines {
        if in_body {
            body.extend_from_slice(line.as_bytes());
            body.push(b'\n');
        } else if line.is_empty() {
            in_body = true;
        } else if let Some((name, value)) = line.split_once(':') {
            builder = builder.header(name.trim(), value.trim());
        }
    }
    let Ok(request) = builder.body(()) else { return };
    let (parts, ()) = request.into_parts();
    let request = Request::from_http(&parts, Bytes::from(body), None);

    let spec = RequestSpec {
        method: "POST".into(),
        host: Some("{ANY}.channel07.facebook.com".into()),
        path: "/x/{ANY}/false/p_1001=5?seq={ANY}&a=1".into(),
        headers: Vec::new(),
        form: vec![("msg_text".into(), "{ANY}".into()), ("to".into(), "1002".into())],
    };
    let _ = differences(&spec, &request, &["msg_id".to_owned()]);
    let _ = request.target();

    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("a runtime");
    let reply = runtime.block_on(emulator().handle(request));
    // A held answer's wait too (its hold is zero: it ends at once).
    if let Some(wait) = reply.wait {
        let _ = runtime.block_on(wait);
    }
});
