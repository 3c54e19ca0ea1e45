//! `fbcomet decode`: what bodies decode to.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use fbcomet_codec::{Body, Event, FrameKind, Payload, describe};

use crate::cmd::text::printable;
use serde_json::{Value, json};

/// Decode bodies and print what they hold.
///
/// Each FILE holds one body, as a channel host or an ajax endpoint sent it
/// (the `for (;;);` prefix is optional); `-` or no FILE reads standard
/// input. For each body, one JSON object is printed on a line of its own:
/// its kind (`msg`, `continue`, `refresh`, `lb`, ..., `envelope`, `error`),
/// seq and the other fields, each event with its type and fields, and the
/// code and texts of a server error.
///
/// With --lines, FILE is a capture dump with one body per line, and a
/// summary is printed instead: bodies by kind, events by type, buddy-list
/// entries, server errors, and the first undecodable lines with the reason.
///
/// Exit status: 0 when everything decoded, 1 when some input did not (each
/// named on standard error with its byte offset), 2 for usage errors.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  fbcomet decode fixtures/bodies/coderrr-msg.body
  printf 'for (;;);{\"t\":\"refresh\",\"seq\":3}' | fbcomet decode
  fbcomet decode --lines fixtures/dumps/capture.txt
  fbcomet decode --lines fixtures/dumps/capture.txt --json")]
pub(crate) struct Args {
    /// Files holding one body each ('-' for standard input).
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,

    /// Read FILE as one body per line and print a summary.
    #[arg(long, value_name = "FILE", conflicts_with = "files")]
    lines: Option<PathBuf>,

    /// Print the --lines summary as JSON.
    #[arg(long, requires = "lines")]
    json: bool,

    /// Pretty-print the JSON of each body.
    #[arg(long, conflicts_with = "lines")]
    pretty: bool,

    /// With --lines, how many undecodable lines to show.
    #[arg(long, value_name = "N", default_value_t = 5, requires = "lines")]
    show_errors: usize,
}

pub(crate) fn run(args: Args) -> super::Result {
    match &args.lines {
        Some(path) => Ok(run_lines(path, &args)?),
        None => Ok(run_files(&args)?),
    }
}

fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

fn read_all(path: &Path) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    if is_stdin(path) {
        io::stdin().lock().read_to_end(&mut bytes)?;
    } else {
        File::open(path)?.read_to_end(&mut bytes)?;
    }
    Ok(bytes)
}

fn run_files(args: &Args) -> io::Result<ExitCode> {
    let stdin = [PathBuf::from("-")];
    let files: &[PathBuf] = if args.files.is_empty() { &stdin } else { &args.files };
    let mut out = BufWriter::new(io::stdout().lock());
    let mut failed = false;
    for path in files {
        let name = if is_stdin(path) { "<stdin>".to_owned() } else { path.display().to_string() };
        let bytes = match read_all(path) {
            Ok(bytes) => bytes,
            Err(err) => {
                eprintln!("fbcomet: {name}: {err}");
                failed = true;
                continue;
            }
        };
        match fbcomet_codec::decode(&bytes) {
            Ok(body) => {
                let mut value = describe(&body);
                if files.len() > 1 {
                    value["file"] = json!(name);
                }
                if args.pretty {
                    serde_json::to_writer_pretty(&mut out, &value)?;
                } else {
                    serde_json::to_writer(&mut out, &value)?;
                }
                writeln!(out)?;
            }
            Err(err) => {
                out.flush()?;
                eprintln!("fbcomet: {name}: {err}");
                failed = true;
            }
        }
    }
    out.flush()?;
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// What a capture dump holds.
#[derive(Default)]
struct Summary {
    lines: usize,
    bodies: usize,
    kinds: BTreeMap<String, usize>,
    events: BTreeMap<String, usize>,
    buddy_entries: usize,
    buddies_online: usize,
    server_errors: BTreeMap<i64, (String, usize)>,
    undecodable: usize,
    first_errors: Vec<(usize, usize, String)>,
}

/// Counts `key`, allocating its name only the first time it is seen.
fn count(map: &mut BTreeMap<String, usize>, key: &str) {
    match map.get_mut(key) {
        Some(n) => *n += 1,
        None => {
            map.insert(key.to_owned(), 1);
        }
    }
}

impl Summary {
    fn add(&mut self, body: &Body<'_>) {
        self.bodies += 1;
        match body {
            Body::Frame(frame) => self.add_frame(frame),
            Body::Envelope(e) => {
                count(&mut self.kinds, if e.is_error() { "error" } else { "envelope" });
                if e.error != 0 {
                    let entry = self.server_errors.entry(e.error).or_insert_with(|| (e.summary.to_string(), 0));
                    entry.1 += 1;
                }
                match &e.payload {
                    Payload::Presence(p) => {
                        if let Some(list) = &p.buddy_list {
                            self.buddy_entries += list.user_infos.len();
                            self.buddies_online += list.now_available.len();
                        }
                    }
                    Payload::History(h) => self.add_events(&h.events),
                    _ => {}
                }
            }
        }
    }

    fn add_frame(&mut self, frame: &fbcomet_codec::Frame<'_>) {
        count(&mut self.kinds, frame.kind_name());
        match &frame.kind {
            FrameKind::Msg { events, .. } => self.add_events(events),
            FrameKind::Batched { frames } => frames.iter().for_each(|f| self.add_frame(f)),
            _ => {}
        }
    }

    fn add_events(&mut self, events: &[Event<'_>]) {
        for event in events {
            count(&mut self.events, event.kind());
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "lines": self.lines,
            "bodies": self.bodies,
            "kinds": self.kinds,
            "events": self.events,
            "buddy_list_entries": self.buddy_entries,
            "buddies_online": self.buddies_online,
            "server_errors": self.server_errors.iter().map(|(code, (summary, n))| {
                json!({"code": code, "summary": summary, "count": n})
            }).collect::<Vec<_>>(),
            "undecodable": self.undecodable,
            "first_undecodable": self.first_errors.iter().map(|(line, offset, reason)| {
                json!({"line": line, "offset": offset, "reason": reason})
            }).collect::<Vec<_>>(),
        })
    }

    fn write_text(&self, out: &mut impl Write) -> io::Result<()> {
        let events: usize = self.events.values().sum();
        writeln!(out, "{} lines, {} bodies decoded, {} undecodable", self.lines, self.bodies, self.undecodable)?;
        writeln!(out, "bodies by kind:")?;
        for (kind, n) in &self.kinds {
            writeln!(out, "  {:<20} {n:>9}", printable(kind))?;
        }
        writeln!(out, "events by type: {events}")?;
        for (kind, n) in &self.events {
            writeln!(out, "  {:<20} {n:>9}", printable(kind))?;
        }
        writeln!(out, "buddy-list entries: {} ({} online)", self.buddy_entries, self.buddies_online)?;
        if !self.server_errors.is_empty() {
            writeln!(out, "server errors:")?;
            for (code, (summary, n)) in &self.server_errors {
                writeln!(out, "  {code} {:<28} {n:>9}", printable(summary))?;
            }
        }
        if !self.first_errors.is_empty() {
            writeln!(out, "undecodable lines (first {}):", self.first_errors.len())?;
            for (line, _offset, reason) in &self.first_errors {
                writeln!(out, "  line {line}: {}", printable(reason))?;
            }
        }
        Ok(())
    }
}

/// Calls `f` with each line of `reader` (without its `\n`) and the bytes
/// read so far: straight from the reader's buffer where a line lies whole
/// in it, copied only when it straddles a refill.
fn each_line(mut reader: impl BufRead, mut f: impl FnMut(&[u8], u64)) -> io::Result<()> {
    let mut read_bytes = 0u64;
    let mut straddling = Vec::new();
    loop {
        let buf = match reader.fill_buf() {
            Ok(buf) => buf,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        if buf.is_empty() {
            if !straddling.is_empty() {
                f(&straddling, read_bytes);
            }
            return Ok(());
        }
        let len = buf.len();
        let mut at = 0;
        while let Some(end) = memchr::memchr(b'\n', &buf[at..]) {
            read_bytes += end as u64 + 1;
            if straddling.is_empty() {
                f(&buf[at..at + end], read_bytes);
            } else {
                straddling.extend_from_slice(&buf[at..at + end]);
                f(&straddling, read_bytes);
                straddling.clear();
            }
            at += end + 1;
        }
        straddling.extend_from_slice(&buf[at..]);
        read_bytes += (len - at) as u64;
        reader.consume(len);
    }
}

fn run_lines(path: &Path, args: &Args) -> io::Result<ExitCode> {
    let name = path.display().to_string();
    let (reader, size): (Box<dyn Read>, u64) = if is_stdin(path) {
        (Box::new(io::stdin().lock()), 0)
    } else {
        match File::open(path) {
            Ok(file) => {
                let size = file.metadata().map_or(0, |m| m.len());
                (Box::new(file), size)
            }
            Err(err) => return Err(io::Error::new(err.kind(), format!("{name}: {err}"))),
        }
    };
    // Progress by bytes on a terminal, for a large dump; nothing when piped.
    let progress = crate::cmd::util::progress_bar(size, "bytes");
    let reader = BufReader::with_capacity(1 << 20, reader);
    let mut summary = Summary::default();
    let mut number = 0;
    each_line(reader, |line, read_bytes| {
        if number % 4096 == 0 {
            progress.set_position(read_bytes);
        }
        number += 1;
        let body = line.strip_suffix(b"\r").unwrap_or(line);
        if body.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        summary.lines += 1;
        match fbcomet_codec::decode(body) {
            Ok(decoded) => summary.add(&decoded),
            Err(err) => {
                summary.undecodable += 1;
                if summary.first_errors.len() < args.show_errors {
                    summary.first_errors.push((number, err.offset(), err.to_string()));
                }
            }
        }
    })?;
    progress.finish_and_clear();
    let mut out = BufWriter::new(io::stdout().lock());
    if args.json {
        serde_json::to_writer_pretty(&mut out, &summary.to_json())?;
        writeln!(out)?;
    } else {
        summary.write_text(&mut out)?;
    }
    out.flush()?;
    if summary.undecodable > 0 {
        if let Some((line, _offset, reason)) = summary.first_errors.first() {
            eprintln!(
                "fbcomet: {name}: {} undecodable lines; the first, line {line}: {}",
                summary.undecodable,
                printable(reason)
            );
        }
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::each_line;

    /// Lines come out whole and in order whatever the buffer's size: within
    /// one fill, straddling two or several, the last one without `\n`.
    #[test]
    fn lines_straddling_the_buffer_come_out_whole() {
        let text = b"first\n\nthe third line, longer than the buffer\nx\nlast without newline";
        let expected: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
        for capacity in [1, 2, 3, 7, 64, 1 << 20] {
            let reader = std::io::BufReader::with_capacity(capacity, &text[..]);
            let mut lines = Vec::new();
            let mut positions = Vec::new();
            each_line(reader, |line, read| {
                lines.push(line.to_vec());
                positions.push(read);
            })
            .expect("reads");
            assert_eq!(lines, expected, "capacity {capacity}");
            assert_eq!(positions.last().copied(), Some(text.len() as u64), "capacity {capacity}");
            assert_eq!(positions[0], 6, "capacity {capacity}");
        }
    }
}
