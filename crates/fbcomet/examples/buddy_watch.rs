//! A buddy-list watcher: prints who is online, then who comes and goes.
//!
//! ```sh
//! cargo run -p fbcomet --example buddy_watch -- http://127.0.0.1:8008 alice@example.com alice
//! ```

use std::process::ExitCode;
use std::time::Duration;

use fbcomet::{Client, ClientConfig, ClientEvent, Person};

/// Logs in, prints the buddy list, then prints presence changes (the buddy
/// list fetched every `every`) until `changes` of them were seen. Returns
/// the lines printed.
pub(crate) async fn run(
    server: &str,
    email: &str,
    password: &str,
    every: Duration,
    changes: usize,
) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let config = ClientConfig { presence_interval: Some(every), ..ClientConfig::new(server.parse()?) };
    let client = Client::login(config, email, password).await?;
    let mut lines = Vec::new();
    let mut say = |line: String| {
        println!("{line}");
        lines.push(line);
    };

    let list = client.buddy_list().await?;
    for (uid, info) in list.user_infos.iter() {
        let online = list.now_available.get(uid).map(|a| if a.idle { "idle" } else { "online" }).unwrap_or("offline");
        say(format!("{uid} {} ({online})", info.name.as_deref().unwrap_or("?")));
    }

    let mut events = client.events()?;
    let mut seen = 0;
    while seen < changes {
        match events.next().await {
            Some(ClientEvent::PresenceChanged { online, offline }) => {
                seen += 1;
                say(format!("online: [{}], offline: [{}]", people(&online), people(&offline)));
            }
            Some(ClientEvent::SessionLost { reason }) => return Err(reason.into()),
            Some(_) => {}
            None => break,
        }
    }
    Ok(lines)
}

/// `Name (uid), ...`.
fn people(list: &[Person]) -> String {
    list.iter().map(|p| format!("{} ({})", p.name.as_deref().unwrap_or("?"), p.uid)).collect::<Vec<_>>().join(", ")
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [server, email, password] = &args[..] else {
        eprintln!("usage: buddy_watch SERVER EMAIL PASSWORD");
        return ExitCode::from(2);
    };
    match run(server, email, password, Duration::from_secs(180), usize::MAX).await {
        Ok(_) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("buddy_watch: {err}");
            ExitCode::FAILURE
        }
    }
}
