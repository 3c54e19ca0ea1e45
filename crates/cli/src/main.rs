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
    Serve(cmd::serve::Args),
    Replay(cmd::replay::Args),
    Record(cmd::record::Args),
    Decode(cmd::decode::Args),
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
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let result = match cli.command {
        Command::Decode(args) => cmd::decode::run(args),
        Command::Replay(args) => cmd::replay::run(args),
        Command::Serve(args) => cmd::serve::run(args),
        Command::Record(args) => cmd::record::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("fbcomet: {err}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
