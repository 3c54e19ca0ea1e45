//! The README's embedding example as a program: Alice says hello to Bob
//! once Bob's event stream is established, and Bob prints what arrives.
//!
//! ```sh
//! cargo run -- serve &    # in another terminal
//! cargo run -p fbcomet --example hello -- http://127.0.0.1:8008
//! ```

use std::process::ExitCode;

// README: begin
use fbcomet::{Client, ClientConfig, ClientEvent};

/// Alice says hello to Bob; returns the line Bob saw.
pub(crate) async fn hello(server: url::Url) -> Result<String, fbcomet::Error> {
    let alice = Client::login(ClientConfig::new(server.clone()), "alice@example.com", "alice").await?;
    let bob = Client::login(ClientConfig::new(server), "bob@example.com", "bob").await?;

    // A message reaches only a recipient who is online: wait until Bob's
    // stream is established (its first poll answered) before sending.
    let mut events = bob.events()?;
    events.ready().await;
    alice.send(bob.uid(), "hi Bob & all \u{1F600}").await?;

    while let Some(event) = events.next().await {
        if let ClientEvent::Message { message, own_echo: false } = event {
            return Ok(format!("{}: {}", message.from_name.unwrap_or_default(), message.text));
        }
    }
    Ok("the stream ended".to_owned())
}
// README: end

#[tokio::main]
async fn main() -> ExitCode {
    let server = std::env::args().nth(1).unwrap_or_else(|| "http://127.0.0.1:8008".to_owned());
    let Ok(server) = server.parse() else {
        eprintln!("usage: hello [SERVER_URL]");
        return ExitCode::from(2);
    };
    match hello(server).await {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("hello: {err}");
            ExitCode::FAILURE
        }
    }
}
