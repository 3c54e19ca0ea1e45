//! `fbcomet buddies`: the buddy list.

use std::io::{self, Write};
use std::process::ExitCode;

use serde_json::json;

use crate::cmd::connect::ConnectArgs;
use crate::cmd::text::printable;
use crate::cmd::util::run_async;

/// Print the buddy list: every friend, online, idle or offline.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  fbcomet buddies --email alice@example.com --password alice")]
pub(crate) struct Args {
    #[command(flatten)]
    connect: ConnectArgs,

    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: Args) -> super::Result {
    run_async(async {
        let config = fbcomet::ClientConfig { presence_interval: None, ..args.connect.config()? };
        let client = args.connect.connect(config).await?;
        let list = client.buddy_list().await?;
        let me = client.uid();
        let rows: Vec<(String, String, &str, Option<String>)> = list
            .user_infos
            .iter()
            .filter(|(uid, _)| *uid != me.to_string())
            .map(|(uid, info)| {
                let state = match list.now_available.get(uid) {
                    Some(a) if a.idle => "idle",
                    Some(_) => "online",
                    None => "offline",
                };
                (
                    uid.to_owned(),
                    info.name.clone().unwrap_or_default().into_owned(),
                    state,
                    info.status.clone().map(|s| s.into_owned()),
                )
            })
            .collect();
        let mut out = io::stdout().lock();
        if args.json {
            let value: Vec<_> = rows
                .iter()
                .map(|(uid, name, state, status)| {
                    // uids as numbers, as `listen --json` gives them (a uid that is not
                    // a number, from some other server, stays text).
                    let uid = uid.parse::<u64>().map_or_else(|_| json!(uid), |n| json!(n));
                    json!({"uid": uid, "name": name, "state": state, "status": status})
                })
                .collect();
            writeln!(out, "{}", serde_json::to_string_pretty(&value).unwrap_or_default())?;
        } else {
            for (uid, name, state, status) in &rows {
                let status = status.as_deref().map(|s| format!("  {}", printable(s))).unwrap_or_default();
                writeln!(out, "{uid:>8}  {:<24} {state:<8}{status}", printable(name))?;
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
