//! Reading an XMPP stream as it arrives, one stanza at a time, within
//! bounds; and writing elements.
//!
//! The stream is one XML document that never ends while the session lasts:
//! `<stream:stream>` opens it and each child is a stanza. quick-xml reads
//! the events; this module assembles each stanza into an [`Element`] and
//! refuses what XMPP forbids or what would cost too much: a stanza over
//! [`Limits::max_stanza`] bytes, deeper than [`Limits::max_depth`], a DTD
//! (and so any entity declaration), a processing instruction, an entity
//! other than XML's five, or a stanza not finished within
//! [`Limits::stanza_timeout`].

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use quick_xml::events::Event;
use quick_xml::reader::Reader;
use tokio::io::{AsyncRead, BufReader, ReadBuf};
use tokio::time::Instant;

/// The bounds of a stream.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The largest stanza, in bytes.
    pub max_stanza: usize,
    /// The deepest nesting inside a stanza.
    pub max_depth: usize,
    /// How long a stanza may take from its first byte to its last.
    pub stanza_timeout: Duration,
    /// How long a stream may be silent between stanzas (clients send a
    /// space or a ping now and then).
    pub idle_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_stanza: 64 * 1024,
            max_depth: 24,
            stanza_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(600),
        }
    }
}

/// An element of a stanza: its qualified name, attributes, text and
/// children.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    /// The name as written (`message`, `stream:features`).
    pub name: String,
    /// The attributes, values unescaped.
    pub attrs: Vec<(String, String)>,
    /// The text directly inside, unescaped.
    pub text: String,
    /// The child elements.
    pub children: Vec<Element>,
}

impl Element {
    /// An element named `name`.
    pub fn new(name: &str) -> Self {
        Self { name: name.to_owned(), ..Self::default() }
    }

    /// With an attribute.
    pub fn attr(mut self, name: &str, value: impl Into<String>) -> Self {
        self.attrs.push((name.to_owned(), value.into()));
        self
    }

    /// With a child.
    pub fn child(mut self, child: Element) -> Self {
        self.children.push(child);
        self
    }

    /// With text.
    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.text = text.into();
        self
    }

    /// The value of attribute `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The name without its prefix.
    pub fn local(&self) -> &str {
        self.name.rsplit(':').next().unwrap_or(&self.name)
    }

    /// The first child whose local name is `local`.
    pub fn find(&self, local: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.local() == local)
    }

    /// The element as XML text, escaped.
    pub fn to_xml(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        out.push('<');
        out.push_str(&self.name);
        for (k, v) in &self.attrs {
            out.push(' ');
            out.push_str(k);
            out.push_str("=\"");
            out.push_str(&escape(v));
            out.push('"');
        }
        if self.text.is_empty() && self.children.is_empty() {
            out.push_str("/>");
            return;
        }
        out.push('>');
        out.push_str(&escape(&self.text));
        for c in &self.children {
            c.write(out);
        }
        out.push_str("</");
        out.push_str(&self.name);
        out.push('>');
    }
}

/// Text for XML content or a quoted attribute. Characters XML 1.0 cannot
/// carry at all (controls other than tab and line ends) are dropped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

/// What the stream brought.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A stream header (`<stream:stream ...>`), first or after a restart.
    Open(Element),
    /// A whole stanza.
    Stanza(Element),
    /// `</stream:stream>`.
    Close,
}

/// Why a stream cannot go on: the condition of the stream error to send
/// (RFC 6120, 4.9.3), and what happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamError {
    /// `not-well-formed`, `policy-violation`, `restricted-xml`,
    /// `connection-timeout`, ...; `None` when the client is gone.
    pub condition: Option<&'static str>,
    /// What happened.
    pub text: String,
}

impl StreamError {
    fn new(condition: &'static str, text: impl Into<String>) -> Self {
        Self { condition: Some(condition), text: text.into() }
    }

    fn gone(text: impl Into<String>) -> Self {
        Self { condition: None, text: text.into() }
    }
}

/// Counts the bytes read since the last [`Budget::reset`] and fails a read
/// once they pass the limit: a stanza cannot grow past it in memory.
struct Budget<R> {
    inner: R,
    used: Arc<AtomicUsize>,
    limit: usize,
}

impl<R: AsyncRead + Unpin> AsyncRead for Budget<R> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        if self.used.load(Ordering::Relaxed) > self.limit {
            return Poll::Ready(Err(std::io::Error::other(OVER_BUDGET)));
        }
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        let read = buf.filled().len() - before;
        self.used.fetch_add(read, Ordering::Relaxed);
        poll
    }
}

const OVER_BUDGET: &str = "stanza over the size limit";

/// Reads stanzas from `R`.
pub struct StanzaReader<R> {
    reader: Reader<BufReader<Budget<R>>>,
    used: Arc<AtomicUsize>,
    buf: Vec<u8>,
    limits: Limits,
}

impl<R: AsyncRead + Unpin> StanzaReader<R> {
    /// A reader of `inner` within `limits`.
    pub fn new(inner: R, limits: Limits) -> Self {
        let used = Arc::new(AtomicUsize::new(0));
        // The read-ahead counts against the budget too: allow it on top.
        let budget = Budget { inner, used: used.clone(), limit: limits.max_stanza + READ_AHEAD };
        let mut reader = Reader::from_reader(BufReader::with_capacity(READ_AHEAD, budget));
        let config = reader.config_mut();
        config.check_end_names = false;
        config.expand_empty_elements = false;
        Self { reader, used, buf: Vec::new(), limits }
    }

    /// The reader underneath (for STARTTLS: nothing is buffered then, as
    /// the client waits for `<proceed/>`).
    pub fn into_inner(self) -> R {
        self.reader.into_inner().into_inner().inner
    }

    /// The next stream header, stanza or the stream's end.
    pub async fn next(&mut self) -> Result<Item, StreamError> {
        self.used.store(0, Ordering::Relaxed);
        let idle_deadline = Instant::now() + self.limits.idle_timeout;
        let mut stanza_deadline = None;
        let mut stack: Vec<Element> = Vec::new();
        loop {
            let deadline = stanza_deadline.unwrap_or(idle_deadline);
            self.buf.clear();
            let event = match tokio::time::timeout_at(deadline, self.reader.read_event_into_async(&mut self.buf)).await
            {
                Err(_) if stanza_deadline.is_some() => {
                    return Err(StreamError::new("connection-timeout", "a stanza was not finished in time"));
                }
                Err(_) => return Err(StreamError::new("connection-timeout", "the stream was idle too long")),
                Ok(Err(err)) => return Err(xml_error(&err)),
                Ok(Ok(event)) => event,
            };
            if stanza_deadline.is_none() && !stack.is_empty() {
                stanza_deadline = Some(Instant::now() + self.limits.stanza_timeout);
            }
            match event {
                Event::Start(start) => {
                    let element = element_of(&start)?;
                    if stack.is_empty() && element.local() == "stream" {
                        return Ok(Item::Open(element));
                    }
                    if stack.len() >= self.limits.max_depth {
                        return Err(StreamError::new("policy-violation", "elements nested too deep"));
                    }
                    if stack.is_empty() {
                        stanza_deadline = Some(Instant::now() + self.limits.stanza_timeout);
                    }
                    stack.push(element);
                }
                Event::Empty(start) => {
                    let element = element_of(&start)?;
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(element),
                        None => return Ok(Item::Stanza(element)),
                    }
                }
                Event::End(end) => match stack.pop() {
                    None if end.local_name().as_ref() == "stream" => return Ok(Item::Close),
                    None => return Err(StreamError::new("not-well-formed", "an end tag that closes nothing")),
                    Some(done) => match stack.last_mut() {
                        Some(parent) => parent.children.push(done),
                        None => return Ok(Item::Stanza(done)),
                    },
                },
                Event::Text(text) => {
                    let content = text.xml_content(quick_xml::XmlVersion::Implicit1_0);
                    match stack.last_mut() {
                        Some(top) => top.text.push_str(&content),
                        // Between stanzas only spaces (keepalives) may stand.
                        None if content.trim().is_empty() => {}
                        None => return Err(StreamError::new("not-well-formed", "text outside a stanza")),
                    }
                }
                Event::CData(data) => {
                    let content = data.xml_content(quick_xml::XmlVersion::Implicit1_0);
                    match stack.last_mut() {
                        Some(top) => top.text.push_str(&content),
                        None => return Err(StreamError::new("not-well-formed", "character data outside a stanza")),
                    }
                }
                Event::GeneralRef(reference) => {
                    let name = reference.into_inner();
                    let written = format!("&{name};");
                    let resolved = quick_xml::escape::unescape(&written).map_err(|_| {
                        StreamError::new("restricted-xml", format!("the entity &{name}; is not XML's own"))
                    })?;
                    match stack.last_mut() {
                        Some(top) => top.text.push_str(&resolved),
                        None => return Err(StreamError::new("not-well-formed", "text outside a stanza")),
                    }
                }
                Event::Decl(_) => {}
                Event::DocType(_) => return Err(StreamError::new("restricted-xml", "a DTD (XMPP allows none)")),
                Event::PI(_) => {
                    return Err(StreamError::new("restricted-xml", "a processing instruction (XMPP allows none)"));
                }
                Event::Comment(_) => return Err(StreamError::new("restricted-xml", "a comment (XMPP allows none)")),
                Event::Eof => return Err(StreamError::gone("the client closed the connection")),
            }
        }
    }
}

/// How far the reader reads ahead.
const READ_AHEAD: usize = 8 * 1024;

fn xml_error(err: &quick_xml::Error) -> StreamError {
    match err {
        quick_xml::Error::Io(io) if io.to_string().contains(OVER_BUDGET) => {
            StreamError::new("policy-violation", format!("a stanza over the size limit: {io}"))
        }
        quick_xml::Error::Io(io) => StreamError::gone(format!("the connection failed: {io}")),
        other => StreamError::new("not-well-formed", other.to_string()),
    }
}

fn element_of(start: &quick_xml::events::BytesStart<'_>) -> Result<Element, StreamError> {
    let name = start.name().as_ref().to_owned();
    let mut attrs = Vec::new();
    for attr in start.attributes() {
        let attr = attr.map_err(|e| StreamError::new("not-well-formed", e.to_string()))?;
        let key = attr.key.as_ref().to_owned();
        let value = attr
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| StreamError::new("restricted-xml", format!("attribute {key}: {e}")))?;
        attrs.push((key, value.into_owned()));
    }
    Ok(Element { name, attrs, text: String::new(), children: Vec::new() })
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn items(input: &str, limits: Limits) -> Vec<Result<Item, StreamError>> {
        let mut reader = StanzaReader::new(input.as_bytes(), limits);
        let mut out = Vec::new();
        loop {
            let item = reader.next().await;
            let end = item.is_err() || item == Ok(Item::Close);
            out.push(item);
            if end {
                return out;
            }
        }
    }

    #[tokio::test]
    async fn stanzas_come_whole_with_text_and_entities_resolved() {
        let got = items(
            "<?xml version='1.0'?><stream:stream to='chat.facebook.com' xmlns:stream='http://etherx.jabber.org/streams'> \
             <message to='-1002@chat.facebook.com'><body>a &amp; b &lt;c&gt; &#x1F600;</body><active/></message>\n\
             <presence/></stream:stream>",
            Limits::default(),
        )
        .await;
        assert!(matches!(&got[0], Ok(Item::Open(e)) if e.get("to") == Some("chat.facebook.com")));
        let Ok(Item::Stanza(message)) = &got[1] else { panic!("{got:?}") };
        assert_eq!(message.find("body").map(|b| b.text.as_str()), Some("a & b <c> \u{1F600}"));
        assert!(message.find("active").is_some());
        assert_eq!(got[2], Ok(Item::Stanza(Element::new("presence"))));
        assert_eq!(got[3], Ok(Item::Close));
        let xml = message.to_xml();
        assert!(xml.contains("a &amp; b &lt;c&gt; \u{1F600}"), "{xml}");
    }

    #[tokio::test]
    async fn what_xmpp_forbids_or_costs_too_much_is_a_stream_error() {
        let open = "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'>";
        let cases = [
            (format!("<!DOCTYPE x [<!ENTITY a 'aaaa'>]>{open}"), "restricted-xml"),
            (format!("{open}<message><body>&a;</body></message>"), "restricted-xml"),
            (format!("{open}<message><body>{}</body></message>", "x".repeat(200_000)), "policy-violation"),
            (format!("{open}{}", "<a>".repeat(100)), "policy-violation"),
            (format!("{open}<message><body>x</bod></message><"), "not-well-formed"),
            (format!("{open}<?pi x?>"), "restricted-xml"),
        ];
        for (input, condition) in cases {
            let got = items(&input, Limits::default()).await;
            let err = got.last().and_then(|r| r.clone().err()).unwrap_or_else(|| panic!("{input:.80}: {got:?}"));
            assert_eq!(err.condition, Some(condition), "{input:.80}: {err:?}");
        }
    }

    #[tokio::test]
    async fn an_unfinished_stanza_times_out() {
        let (client, server) = tokio::io::duplex(1024);
        let limits = Limits { stanza_timeout: Duration::from_millis(50), ..Limits::default() };
        let mut reader = StanzaReader::new(server, limits);
        let mut client = client;
        tokio::io::AsyncWriteExt::write_all(&mut client, b"<stream:stream><message><body>never").await.unwrap();
        assert!(matches!(reader.next().await, Ok(Item::Open(_))));
        let err = reader.next().await.unwrap_err();
        assert_eq!(err.condition, Some("connection-timeout"));
        drop(client);
    }
}
