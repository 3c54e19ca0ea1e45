//! `fbcomet`: protocol research tools for the Facebook Chat Comet protocol.

use std::process::ExitCode;

use clap::{ArgAction, Parser, Subcommand};

mod cmd;

/// Tools for the Facebook Chat Comet long-poll protocol (2008) and its
/// later /pull form.
#[derive(Debug, Parser)]
#[command(name = "fbcomet", version, propagate_version = true)]
#[command(after_help = "Logs go to standard error: -v for info, -vv for debug; RUST_LOG is honoured.\n\
Run 'fbcomet help COMMAND' for a command's options and examples.")]
struct Cli {
    /// More logging (repeat for more).
    #[arg(short, long, global = true, action = ArgAction::Count)]
    verbose: u8,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Demo(cmd::demo::Args),
    Serve(cmd::serve::Args),
    Replay(cmd::replay::Args),
    Record(cmd::record::Args),
    Listen(cmd::listen::Args),
    Send(cmd::send::Args),
    Buddies(cmd::buddies::Args),
    Chat(cmd::chat::Args),
    Page(cmd::page::Args),
    Decode(cmd::decode::Args),
    Har(cmd::har::Args),
    Ca(cmd::ca::Args),
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "error",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // Colour only on a terminal: a log written to a file carries no escape codes.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(std::io::stderr).try_init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let result = match cli.command {
        Command::Decode(args) => cmd::decode::run(args),
        Command::Replay(args) => cmd::replay::run(args),
        Command::Serve(args) => cmd::serve::run(args),
        Command::Demo(args) => cmd::demo::run(args),
        Command::Listen(args) => cmd::listen::run(args),
        Command::Send(args) => cmd::send::run(args),
        Command::Buddies(args) => cmd::buddies::run(args),
        Command::Chat(args) => cmd::chat::run(args),
        Command::Page(args) => cmd::page::run(args),
        Command::Har(args) => cmd::har::run(args),
        Command::Record(args) => cmd::record::run(args),
        Command::Ca(args) => cmd::ca::run(args),
    };
    match result {
        Ok(code) => code,
        // Every error is reported here, once, with its causes; they may
        // quote what a server sent, so the terminal gets it escaped.
        Err(err) => {
            eprintln!("fbcomet: {}", cmd::text::printable(&cmd::report(&*err)));
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
#[path = "../tests/support/readme.rs"]
mod readme;

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }

    /// Every `cargo run -- ...` line of the README parses, so the README
    /// cannot name options that no longer exist. (What each command does is
    /// tested in tests/.)
    #[test]
    fn the_readmes_commands_parse() {
        use clap::Parser;
        let readme = include_str!("../../../README.md");
        let mut checked = 0;
        for (command, args) in super::readme::commands(readme) {
            let argv = std::iter::once("fbcomet".to_owned()).chain(args);
            if let Err(err) = super::Cli::try_parse_from(argv) {
                panic!("README: {command}\n{err}");
            }
            checked += 1;
        }
        assert!(checked >= 10, "only {checked} commands found in the README");
    }
}
