//! `fbcomet`: protocol research tools for the Facebook Chat Comet protocol.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;

/// Tools for the Facebook Chat Comet long-poll protocol (2008) and its
/// later /pull form.
#[derive(Debug, Parser)]
#[command(name = "fbcomet", version, propagate_version = true)]
#[command(after_help = "Run 'fbcomet help COMMAND' for a command's options and examples.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Decode(cmd::decode::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Decode(args) => cmd::decode::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("fbcomet: {err}");
            ExitCode::FAILURE
        }
    }
}
