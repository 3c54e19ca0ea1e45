//! `fbcomet har import` and `har export`: captures from a browser's
//! developer tools become replayable sessions, and sessions open in any HAR
//! viewer (HAR 1.2).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use base64::Engine;
use fbcomet_codec::{ChatHost, PollTarget};
use fbcomet_mock::{Dialect, Exchange, Fault, Recording, RequestSpec, ResponseSpec};
use serde::{Deserialize, Serialize};
use url::Url;

/// Convert between HAR captures and session fixtures.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// A HAR capture (browser developer tools: "Save all as HAR") to a session.
    ///
    /// Each entry becomes an exchange: its hold from `timings.wait`, its body
    /// from `content.text` (base64 decoded where marked so), form fields from
    /// `postData`. A failed entry (status 0) becomes a reset.
    #[command(after_help = "Example:\n  fbcomet har import capture.har --out fixtures/sessions/my-capture.json")]
    Import {
        /// The HAR file.
        har: PathBuf,
        /// Where to write the session.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Keep only the chat's requests (channel polls, /pull, /ajax/, login.php, home.php).
        #[arg(long)]
        chat_only: bool,
    },
    /// A session to a HAR file, for any HAR viewer.
    #[command(
        after_help = "Example:\n  fbcomet har export fixtures/sessions/2008-login-chat.json --out login-chat.har"
    )]
    Export {
        /// The session fixture.
        session: PathBuf,
        /// Where to write the HAR.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

#[derive(Debug, Serialize, Deserialize)]
struct Har {
    log: Log,
}

#[derive(Debug, Serialize, Deserialize)]
struct Log {
    version: String,
    creator: Creator,
    entries: Vec<Entry>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Creator {
    name: String,
    version: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    started_date_time: String,
    time: f64,
    request: HarRequest,
    response: HarResponse,
    #[serde(default)]
    cache: serde_json::Value,
    timings: Timings,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct HarRequest {
    method: String,
    url: String,
    #[serde(default = "http11")]
    http_version: String,
    #[serde(default)]
    headers: Vec<NameValue>,
    #[serde(default)]
    query_string: Vec<NameValue>,
    #[serde(default)]
    cookies: Vec<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    post_data: Option<PostData>,
    #[serde(default = "minus_one")]
    headers_size: i64,
    #[serde(default = "minus_one")]
    body_size: i64,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct HarResponse {
    status: u16,
    #[serde(default)]
    status_text: String,
    #[serde(default = "http11")]
    http_version: String,
    #[serde(default)]
    headers: Vec<NameValue>,
    #[serde(default)]
    cookies: Vec<serde_json::Value>,
    content: Content,
    #[serde(default, rename = "redirectURL")]
    redirect_url: String,
    #[serde(default = "minus_one")]
    headers_size: i64,
    #[serde(default = "minus_one")]
    body_size: i64,
}

#[derive(Debug, Serialize, Deserialize)]
struct NameValue {
    name: String,
    #[serde(default)]
    value: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostData {
    #[serde(default)]
    mime_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    text: Option<String>,
    #[serde(default)]
    params: Vec<Param>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Param {
    name: String,
    #[serde(default)]
    value: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Content {
    #[serde(default)]
    size: i64,
    #[serde(default)]
    mime_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    encoding: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Timings {
    #[serde(default)]
    send: f64,
    #[serde(default)]
    wait: f64,
    #[serde(default)]
    receive: f64,
}

fn http11() -> String {
    "HTTP/1.1".to_owned()
}

fn minus_one() -> i64 {
    -1
}

const KEPT_HEADERS: &[&str] = &["content-type", "set-cookie", "location", "cookie", "user-agent"];

pub(crate) fn run(args: Args) -> super::Result {
    let result = match args.command {
        Command::Import { har, out, chat_only } => import(&har, &out, chat_only),
        Command::Export { session, out } => export(&session, &out),
    };
    println!("{}", result?);
    Ok(ExitCode::SUCCESS)
}

fn is_chat(path: &str) -> bool {
    PollTarget::parse(path).is_some()
        || path.starts_with("/ajax/")
        || path.starts_with("/login.php")
        || path.starts_with("/home.php")
}

fn import(har_path: &Path, out: &Path, chat_only: bool) -> super::Result<String> {
    let text = std::fs::read_to_string(har_path).map_err(|e| format!("{}: {e}", har_path.display()))?;
    let har: Har = serde_json::from_str(&text).map_err(|e| format!("{}: not a HAR file: {e}", har_path.display()))?;
    let mut exchanges = Vec::new();
    let progress = crate::cmd::util::progress_bar(har.log.entries.len() as u64, "entries");
    for (i, entry) in har.log.entries.iter().enumerate() {
        progress.inc(1);
        let url =
            Url::parse(&entry.request.url).map_err(|e| format!("entry {i}: bad URL {:?}: {e}", entry.request.url))?;
        let path = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        };
        // A session exported by fbcomet keeps its wildcards.
        let path = path.replace(HAR_ANY, fbcomet_mock::ANY).replace("%7BANY%7D", fbcomet_mock::ANY);
        if chat_only && !is_chat(&path) {
            continue;
        }
        let form = match &entry.request.post_data {
            Some(p) if !p.params.is_empty() => {
                p.params.iter().map(|p| (p.name.clone(), p.value.clone().unwrap_or_default())).collect()
            }
            Some(p) if p.mime_type.starts_with("application/x-www-form-urlencoded") => {
                url::form_urlencoded::parse(p.text.as_deref().unwrap_or_default().as_bytes()).into_owned().collect()
            }
            _ => Vec::new(),
        };
        let content = &entry.response.content;
        let body = match (&content.text, content.encoding.as_deref()) {
            (Some(text), Some("base64")) => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(text.trim())
                    .map_err(|e| format!("entry {i}: bad base64 body: {e}"))?;
                String::from_utf8_lossy(&bytes).into_owned()
            }
            (Some(text), _) => text.clone(),
            (None, _) => String::new(),
        };
        let kept = |headers: &[NameValue]| -> Vec<(String, String)> {
            headers
                .iter()
                .filter(|h| KEPT_HEADERS.contains(&h.name.to_ascii_lowercase().as_str()))
                .map(|h| (h.name.clone(), h.value.clone()))
                .collect()
        };
        let failed = entry.response.status == 0;
        exchanges.push(Exchange {
            note: entry.comment.clone().unwrap_or_default(),
            request: RequestSpec {
                method: entry.request.method.to_ascii_uppercase(),
                host: url.host_str().map(|h| h.replace(HAR_ANY, fbcomet_mock::ANY)),
                path,
                headers: kept(&entry.request.headers),
                form,
            },
            response: ResponseSpec {
                status: if failed { 200 } else { entry.response.status },
                headers: kept(&entry.response.headers),
                body,
                hold_ms: entry.timings.wait.max(0.0).round() as u64,
                chunks: Vec::new(),
                fault: failed.then_some(Fault::ResetBeforeAnswer),
            },
        });
    }
    progress.finish_and_clear();
    let name = out.file_stem().map_or("imported".into(), |s| s.to_string_lossy().into_owned());
    let (uid, channel) = who(&exchanges);
    let session = Recording {
        name,
        description: format!("imported from {}", har_path.display()),
        provenance: format!(
            "imported from the HAR capture {} (made by {} {})",
            har_path.display(),
            har.log.creator.name,
            har.log.creator.version
        ),
        dialect: if exchanges.iter().any(|e| e.request.path.starts_with("/pull")) {
            Dialect::Pull
        } else {
            Dialect::Channel
        },
        uid,
        channel,
        exchanges,
    };
    let json = session.to_json();
    Recording::parse(&json, "the imported session")?;
    std::fs::write(out, json).map_err(|e| format!("{}: {e}", out.display()))?;
    Ok(format!("imported {} exchanges into {}", session.exchanges.len(), out.display()))
}

/// The user and channel, from home.php or from the channel polls.
fn who(exchanges: &[Exchange]) -> (u64, Option<u32>) {
    if let Some(s) = exchanges
        .iter()
        .filter(|e| e.request.path.starts_with("/home.php"))
        .find_map(|e| fbcomet_sender::scrape_session(&e.response.body, None).ok())
    {
        return (s.uid, Some(s.channel));
    }
    for e in exchanges {
        if let Some(target) = PollTarget::parse(&e.request.path)
            && let Some(uid) = target.uid()
        {
            let channel = match (&target, e.request.host.as_deref().and_then(ChatHost::parse)) {
                (PollTarget::Channel { .. }, Some(ChatHost::Channel { number, .. })) => Some(number),
                _ => None,
            };
            return (uid, channel);
        }
    }
    (0, None)
}

/// What stands for the fixtures' `{ANY}` in exported URLs (braces are not
/// URL characters).
const HAR_ANY: &str = "fbcomet-any";

fn export(session_path: &Path, out: &Path) -> super::Result<String> {
    let session = Recording::load(session_path)?;
    // 2008-05-19 12:00:00 UTC, the day of the pidgin captures.
    let mut clock_ms: u64 = 1_211_198_400_000;
    let entries: Vec<Entry> = session
        .exchanges
        .iter()
        .map(|e| {
            // The authority as the client sent it (its Host header keeps
            // the port), and the fixture's wildcards as a stand-in that URL
            // parsers and HAR viewers take and import turns back.
            let host = e.request.host.clone().unwrap_or_else(|| "www.facebook.com".to_owned());
            let authority = e
                .request
                .headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("host"))
                .map(|(_, v)| v.clone())
                .filter(|v| v.split(':').next() == Some(host.as_str()))
                .unwrap_or(host);
            let url = format!("http://{authority}{}", e.request.path).replace(fbcomet_mock::ANY, HAR_ANY);
            let query_string = Url::parse(&url)
                .map(|u| {
                    u.query_pairs().map(|(k, v)| NameValue { name: k.into_owned(), value: v.into_owned() }).collect()
                })
                .unwrap_or_default();
            let post_data = (!e.request.form.is_empty()).then(|| PostData {
                mime_type: "application/x-www-form-urlencoded".to_owned(),
                text: Some(url::form_urlencoded::Serializer::new(String::new()).extend_pairs(&e.request.form).finish()),
                params: e.request.form.iter().map(|(k, v)| Param { name: k.clone(), value: Some(v.clone()) }).collect(),
            });
            let body = e.response.full_body();
            let receive: u64 = e.response.chunks.iter().map(|c| c.delay_ms).sum();
            let status = match &e.response.fault {
                Some(Fault::ResetBeforeAnswer) => 0,
                Some(Fault::Status { status }) => *status,
                _ => e.response.status,
            };
            let header = |name: &str| {
                e.response.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone())
            };
            let entry = Entry {
                started_date_time: iso8601(clock_ms),
                time: (e.response.hold_ms + receive) as f64,
                request: HarRequest {
                    method: e.request.method.clone(),
                    url,
                    http_version: http11(),
                    headers: e
                        .request
                        .headers
                        .iter()
                        .map(|(k, v)| NameValue { name: k.clone(), value: v.clone() })
                        .collect(),
                    query_string,
                    cookies: Vec::new(),
                    post_data,
                    headers_size: -1,
                    body_size: -1,
                },
                response: HarResponse {
                    status,
                    status_text: String::new(),
                    http_version: http11(),
                    headers: e
                        .response
                        .headers
                        .iter()
                        .map(|(k, v)| NameValue { name: k.clone(), value: v.clone() })
                        .collect(),
                    cookies: Vec::new(),
                    content: Content {
                        size: body.len() as i64,
                        mime_type: header("content-type").unwrap_or_else(|| "text/javascript".to_owned()),
                        text: Some(body),
                        encoding: None,
                    },
                    redirect_url: header("location").unwrap_or_default(),
                    headers_size: -1,
                    body_size: -1,
                },
                cache: serde_json::json!({}),
                timings: Timings { send: 0.0, wait: e.response.hold_ms as f64, receive: receive as f64 },
                comment: match (&e.response.fault, e.note.is_empty()) {
                    (Some(fault), _) => {
                        Some(format!("fbcomet fault: {}", serde_json::to_string(fault).unwrap_or_default()))
                    }
                    (None, false) => Some(e.note.clone()),
                    (None, true) => None,
                },
            };
            clock_ms += e.response.hold_ms + receive + 1;
            entry
        })
        .collect();
    let har = Har {
        log: Log {
            version: "1.2".to_owned(),
            creator: Creator { name: "fbcomet".to_owned(), version: env!("CARGO_PKG_VERSION").to_owned() },
            entries,
        },
    };
    let json = serde_json::to_string_pretty(&har)?;
    std::fs::write(out, json + "\n").map_err(|e| format!("{}: {e}", out.display()))?;
    Ok(format!("exported {} entries to {}", har.log.entries.len(), out.display()))
}

/// Milliseconds since 1970 as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
fn iso8601(ms: u64) -> String {
    let (days, rest) = ((ms / 86_400_000) as i64, ms % 86_400_000);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s, milli) = (rest / 3_600_000, rest / 60_000 % 60, rest / 1000 % 60, rest % 1000);
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{milli:03}Z")
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates() {
        assert_eq!(super::iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(super::iso8601(1_211_198_400_000), "2008-05-19T12:00:00.000Z");
        assert_eq!(super::iso8601(951_782_400_123), "2000-02-29T00:00:00.123Z");
    }
}
