//! What `fbcomet chat` reads: lines from a pipe, or keys from a terminal
//! (raw mode, so that it sees a line being written and can say so with
//! typing notices), as one stream of [`Input`].

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::mpsc;

/// Something the user did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Input {
    /// The line being written now reads this (terminals only).
    Edited(String),
    /// A whole line.
    Line(String),
    /// The input ended (end of the pipe, Ctrl-D on an empty line).
    End,
    /// Ctrl-C on the terminal (raw mode takes it from the shell).
    Interrupt,
}

/// Whether the terminal is in raw mode (its lines then end in `\r\n`).
static RAW: AtomicBool = AtomicBool::new(false);

/// The input of chat, and its terminal's raw mode undone when dropped.
pub(crate) struct Reader {
    pub(crate) rx: mpsc::UnboundedReceiver<Input>,
}

impl Reader {
    /// Reads standard input: keys when it and standard output are a
    /// terminal, lines otherwise.
    pub(crate) fn start() -> Reader {
        let (tx, rx) = mpsc::unbounded_channel();
        let terminal = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
        if terminal && crossterm::terminal::enable_raw_mode().is_ok() {
            RAW.store(true, Ordering::SeqCst);
            std::thread::spawn(move || keys(&tx));
        } else {
            tokio::spawn(async move {
                let mut lines = BufReader::new(tokio::io::stdin()).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    if tx.send(Input::Line(line)).is_err() {
                        return;
                    }
                }
                let _ = tx.send(Input::End);
            });
        }
        Reader { rx }
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        if RAW.swap(false, Ordering::SeqCst) {
            let _ = crossterm::terminal::disable_raw_mode();
        }
    }
}

/// Keys to inputs, with a line editor: characters, Backspace, Enter,
/// Ctrl-C, Ctrl-D.
fn keys(tx: &mpsc::UnboundedSender<Input>) {
    use crossterm::event::{Event, KeyCode, KeyEventKind, KeyModifiers};
    let mut line = String::new();
    loop {
        let Ok(event) = crossterm::event::read() else {
            let _ = tx.send(Input::End);
            return;
        };
        let Event::Key(key) = event else { continue };
        if key.kind == KeyEventKind::Release {
            continue;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let input = match key.code {
            KeyCode::Char('c') if ctrl => Input::Interrupt,
            KeyCode::Char('d') if ctrl && line.is_empty() => Input::End,
            KeyCode::Char(c) if !ctrl => {
                line.push(c);
                Input::Edited(line.clone())
            }
            KeyCode::Backspace => {
                line.pop();
                Input::Edited(line.clone())
            }
            KeyCode::Enter => Input::Line(std::mem::take(&mut line)),
            _ => continue,
        };
        let last = matches!(input, Input::Interrupt | Input::End);
        if tx.send(input).is_err() || last {
            return;
        }
    }
}

/// Prints a line above the one being written (on a terminal: the line
/// being written is drawn again below it).
pub(crate) fn say(text: &str, editing: &str) {
    let mut out = std::io::stdout().lock();
    if RAW.load(Ordering::SeqCst) {
        let _ = write!(out, "\r\x1b[2K{text}\r\n> {editing}");
    } else {
        let _ = writeln!(out, "{text}");
    }
    let _ = out.flush();
}

/// Draws the line being written (terminals only).
pub(crate) fn redraw(editing: &str) {
    if RAW.load(Ordering::SeqCst) {
        let mut out = std::io::stdout().lock();
        let _ = write!(out, "\r\x1b[2K> {editing}");
        let _ = out.flush();
    }
}
