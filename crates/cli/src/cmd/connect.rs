//! Logging in (or restoring a session), as the client subcommands do it.

use std::path::PathBuf;

use fbcomet::{Client, ClientConfig, SavedSession};
use url::Url;

use crate::cmd::WithContext;

/// How to reach the service and who to be.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ConnectArgs {
    /// The server (an fbcomet server, or any compatible one).
    #[arg(long, default_value = "http://127.0.0.1:8008", value_name = "URL")]
    server: Url,

    /// Address the real host names through this HTTP proxy instead (an
    /// fbcomet server serves proxy-form requests).
    #[arg(long, value_name = "URL")]
    proxy: Option<Url>,

    /// The login email.
    #[arg(long, requires = "password", required_unless_present = "session")]
    email: Option<String>,

    /// The login password.
    #[arg(long, requires = "email", required_unless_present = "session")]
    password: Option<String>,

    /// Restore this saved session instead of logging in.
    #[arg(long, value_name = "FILE")]
    session: Option<PathBuf>,

    /// Save the session here after logging in.
    #[arg(long, value_name = "FILE")]
    save_session: Option<PathBuf>,
}

impl ConnectArgs {
    /// The client configuration these arguments describe.
    pub(crate) fn config(&self) -> ClientConfig {
        match &self.proxy {
            Some(proxy) => ClientConfig::through_proxy(proxy.clone()),
            None => ClientConfig::new(self.server.clone()),
        }
    }

    /// A logged-in client, or an error saying why there is none.
    pub(crate) async fn connect(&self, config: ClientConfig) -> super::Result<Client> {
        let client = match (&self.session, &self.email, &self.password) {
            (Some(path), _, _) => {
                let text = std::fs::read_to_string(path).context(|| path.display().to_string())?;
                let saved = SavedSession::from_json(&text).context(|| path.display().to_string())?;
                let client = Client::restore(config, &saved).context(|| path.display().to_string())?;
                if let (Some(email), Some(password)) = (&self.email, &self.password) {
                    client.set_credentials(email, password);
                }
                client
            }
            (None, Some(email), Some(password)) => {
                let server = self.proxy.as_ref().unwrap_or(&self.server);
                Client::login(config, email, password).await.context(|| format!("cannot log in at {server}"))?
            }
            _ => return Err("say who to be: --email and --password, or --session FILE".into()),
        };
        if let Some(path) = &self.save_session {
            write_private(path, &client.save().to_json()).context(|| format!("cannot write {}", path.display()))?;
        }
        Ok(client)
    }
}

/// Writes `text` to `path` readable and writable by the owner only (a saved
/// session holds a live session cookie).
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    // An existing file keeps its mode through open(): set it.
    #[cfg(unix)]
    file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    file.write_all(text.as_bytes())
}
