//! An echo bot: answers every message with the same text.
//!
//! ```sh
//! cargo run -p fbcomet --example echo_bot -- http://127.0.0.1:8008 bob@example.com bob
//! ```
//!
//! Run `fbcomet serve` first, then chat with Bob as Alice (`fbcomet chat`).

use std::process::ExitCode;

use fbcomet::{Client, ClientConfig, ClientEvent};

/// Logs in and echoes messages until the stream ends, or until `stop_after`
/// messages were answered. Returns how many were.
pub(crate) async fn run(
    server: &str,
    email: &str,
    password: &str,
    stop_after: Option<usize>,
) -> Result<usize, Box<dyn std::error::Error>> {
    let config = ClientConfig { presence_interval: None, ..ClientConfig::new(server.parse()?) };
    let client = Client::login(config, email, password).await?;
    println!("logged in as {}; echoing", client.uid());

    let mut events = client.events()?;
    let mut answered = 0;
    while let Some(event) = events.next().await {
        match event {
            // Our own messages come back on our channel too: not those.
            ClientEvent::Message { message, own_echo: false } if message.to == client.uid() => {
                println!("{} says {:?}", message.from, message.text);
                client.send(message.from, &message.text).await?;
                answered += 1;
                if stop_after == Some(answered) {
                    break;
                }
            }
            ClientEvent::SessionLost { reason } => eprintln!("session lost: {reason}"),
            _ => {}
        }
    }
    Ok(answered)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [server, email, password] = &args[..] else {
        eprintln!("usage: echo_bot SERVER EMAIL PASSWORD   (e.g. http://127.0.0.1:8008 bob@example.com bob)");
        return ExitCode::from(2);
    };
    match run(server, email, password, None).await {
        Ok(_) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("echo_bot: {err}");
            ExitCode::FAILURE
        }
    }
}
