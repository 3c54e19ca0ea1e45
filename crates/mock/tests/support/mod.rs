//! A plain hyper client for the tests: one connection per request, plain or
//! proxy form, every body frame timestamped, every failure kept.

#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use bytes::Bytes;
use fbcomet_mock::Recording;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;

/// What came back.
#[derive(Debug)]
pub struct Answer {
    pub status: Option<u16>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Each body frame and when it arrived, from when the request was sent.
    pub frames: Vec<(Duration, Bytes)>,
    /// The error that ended the exchange, if one did.
    pub error: Option<String>,
    pub elapsed: Duration,
}

impl Answer {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// How to address the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// `GET /path` with `Host: host`.
    Plain,
    /// `GET http://host/path`, as to a proxy.
    Proxy,
}

pub async fn send(
    addr: SocketAddr,
    form: Form,
    method: &str,
    host: &str,
    target: &str,
    fields: &[(String, String)],
) -> Answer {
    let started = Instant::now();
    let mut answer = Answer {
        status: None,
        headers: Vec::new(),
        body: Vec::new(),
        frames: Vec::new(),
        error: None,
        elapsed: Duration::ZERO,
    };
    let stream = match tokio::net::TcpStream::connect(addr).await {
        Ok(s) => s,
        Err(e) => {
            answer.error = Some(e.to_string());
            return answer;
        }
    };
    let (mut sender, conn) = match hyper::client::conn::http1::handshake(TokioIo::new(stream)).await {
        Ok(pair) => pair,
        Err(e) => {
            answer.error = Some(e.to_string());
            return answer;
        }
    };
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let uri = match form {
        Form::Plain => target.to_owned(),
        Form::Proxy => format!("http://{host}{target}"),
    };
    let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
    let mut request = hyper::Request::builder().method(method).uri(uri).header("host", host);
    if !fields.is_empty() {
        request = request.header("content-type", "application/x-www-form-urlencoded");
    }
    let request = request.body(Full::new(Bytes::from(body))).expect("a request");
    let response = match sender.send_request(request).await {
        Ok(r) => r,
        Err(e) => {
            answer.error = Some(format!("{e:?}"));
            answer.elapsed = started.elapsed();
            return answer;
        }
    };
    answer.status = Some(response.status().as_u16());
    answer.headers = response
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let mut body = response.into_body();
    loop {
        match body.frame().await {
            None => break,
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    answer.body.extend_from_slice(&data);
                    answer.frames.push((started.elapsed(), data));
                }
            }
            Some(Err(e)) => {
                answer.error = Some(format!("{e:?}"));
                break;
            }
        }
    }
    answer.elapsed = started.elapsed();
    answer
}

pub fn session_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/sessions").join(format!("{name}.json"))
}

pub fn load(name: &str) -> Recording {
    Recording::load(session_path(name)).expect("a bundled session")
}

pub const SESSIONS: &[&str] = &["2008-login-chat", "2008-multi-event-frame", "2008-error-relogin", "pull-lb-sticky"];

/// The exchange's request as a client would send it: `{ANY}` filled in.
pub fn instantiate(spec: &fbcomet_mock::RequestSpec, n: usize) -> (String, String, Vec<(String, String)>) {
    let fill = |s: &str| s.replace(fbcomet_mock::ANY, &format!("{}", 1_209_557_000 + n));
    let host = spec.host.clone().unwrap_or_else(|| "www.facebook.com".to_owned());
    let form = spec.form.iter().map(|(k, v)| (k.clone(), fill(v))).collect();
    (host, fill(&spec.path), form)
}
