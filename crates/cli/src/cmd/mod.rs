//! One module per subcommand.

pub(crate) mod buddies;
pub(crate) mod ca;
pub(crate) mod chat;
pub(crate) mod connect;
pub(crate) mod decode;
pub(crate) mod demo;
pub(crate) mod har;
pub(crate) mod input;
pub(crate) mod listen;
pub(crate) mod page;
pub(crate) mod record;
pub(crate) mod replay;
pub(crate) mod send;
pub(crate) mod serve;
pub(crate) mod text;
pub(crate) mod trace;
pub(crate) mod typing;
pub(crate) mod util;

use std::fmt;
use std::process::ExitCode;

/// What a subcommand fails with: an error that keeps its causes
/// (`source()`), reported once, by `main`, with the whole chain.
pub(crate) type Error = Box<dyn std::error::Error + Send + Sync>;

/// A subcommand's result: its exit status, or an error.
pub(crate) type Result<T = ExitCode> = std::result::Result<T, Error>;

/// An error with what was being done when it happened.
#[derive(Debug)]
pub(crate) struct Context {
    what: String,
    source: Error,
}

impl Context {
    /// `what`, caused by `source`.
    pub(crate) fn boxed(what: String, source: impl Into<Error>) -> Error {
        Box::new(Context { what, source: source.into() })
    }
}

impl fmt::Display for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.what)
    }
}

impl std::error::Error for Context {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.source)
    }
}

/// Says what was being done when a result failed.
pub(crate) trait WithContext<T> {
    /// Wraps the error in `what` (`cannot listen on ADDR`), keeping it as
    /// the cause.
    fn context(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T, E: Into<Error>> WithContext<T> for std::result::Result<T, E> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| Context::boxed(what(), e))
    }
}

/// An error and its causes on one line, `what: why: deeper why`, a cause
/// left out where the message above already says it.
pub(crate) fn report(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut last = text.clone();
    let mut source = err.source();
    while let Some(cause) = source {
        let said = cause.to_string();
        if !said.is_empty() && !last.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        last = said;
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_is_reported_once_each() {
        let io = std::io::Error::new(std::io::ErrorKind::AddrInUse, "address in use");
        let err: Result<()> = Err(io).context(|| "cannot listen on 127.0.0.1:8008".to_owned());
        let err = err.unwrap_err();
        assert_eq!(report(&*err), "cannot listen on 127.0.0.1:8008: address in use");
        let nested: Result<()> = Err(err).context(|| "serve".to_owned());
        assert_eq!(report(&*nested.unwrap_err()), "serve: cannot listen on 127.0.0.1:8008: address in use");
    }
}
