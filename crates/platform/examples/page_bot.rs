//! A Messenger Platform bot in Rust: it answers every message to its page
//! with "You said: ..." (typing first), as the 2016 tutorials' bots did.
//!
//! Configured the way such bots were, by environment:
//!
//! - `PAGE_ACCESS_TOKEN`, `VERIFY_TOKEN`, `APP_SECRET` (optional: then
//!   unsigned posts are refused);
//! - `PORT` (5000; 0 lets the OS pick), printed as `listening on PORT`;
//! - `HTTPS_PROXY` and `REQUESTS_CA_BUNDLE` (or `SSL_CERT_FILE`): to reach
//!   graph.facebook.com through `fbcomet serve` and trust its CA.
//!
//! ```sh
//! cargo run -- serve --world my-world.json &    # a page with webhook http://127.0.0.1:5000/
//! HTTPS_PROXY=http://127.0.0.1:8008 REQUESTS_CA_BUNDLE="$(cargo run -q -- ca --path)" \
//!   PAGE_ACCESS_TOKEN=PAGE_TOKEN VERIFY_TOKEN=VERIFY APP_SECRET=SECRET \
//!   cargo run -p fbcomet-platform --example page_bot
//! ```

use fbcomet_http::{HttpClient, HttpConfig};
use fbcomet_platform::SendApi;
use fbcomet_platform::bot::{WebhookConfig, serve_webhook};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let token = var("PAGE_ACCESS_TOKEN").ok_or("PAGE_ACCESS_TOKEN is not set")?;
    let verify_token = var("VERIFY_TOKEN").ok_or("VERIFY_TOKEN is not set")?;
    let port: u16 = var("PORT").map_or(Ok(5000), |p| p.parse())?;

    let mut http = HttpConfig::default();
    if let Some(proxy) = var("HTTPS_PROXY").or_else(|| var("https_proxy")) {
        http.proxy = Some(proxy.parse()?);
    }
    if let Some(ca) = var("REQUESTS_CA_BUNDLE").or_else(|| var("SSL_CERT_FILE")) {
        http = http.trust_pem(&std::fs::read_to_string(&ca)?)?;
    }
    let graph = var("GRAPH_URL").unwrap_or_else(|| "https://graph.facebook.com".to_owned());
    let api = SendApi::new(HttpClient::new(http), &graph.parse()?, "v2.6", token);

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on {}", listener.local_addr()?.port());
    let config = WebhookConfig { verify_token, app_secret: var("APP_SECRET") };
    serve_webhook(listener, config, move |event| {
        let api = api.clone();
        async move {
            let Some(text) = event.message.and_then(|m| m.text) else { return };
            let user = event.sender.id;
            if let Err(err) = api.sender_action(&user, "typing_on").await {
                eprintln!("typing_on: {err}");
            }
            if let Err(err) = api.send_text(&user, &format!("You said: {text}")).await {
                eprintln!("reply: {err}");
            }
        }
    })
    .await?;
    Ok(())
}
