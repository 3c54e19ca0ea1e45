//! Logging in (or restoring a session), as the client subcommands do it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use fbcomet::{Client, ClientConfig, Dialect, SavedSession};
use url::Url;

use crate::cmd::WithContext;

/// How to reach the service and who to be.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ConnectArgs {
    /// The server (an fbcomet server, or any compatible one).
    #[arg(long, default_value = "http://127.0.0.1:8008", value_name = "URL", value_parser = base_url)]
    server: Url,

    /// Address the real host names through this HTTP proxy instead (an
    /// fbcomet server serves proxy-form requests).
    #[arg(long, value_name = "URL", value_parser = base_url)]
    proxy: Option<Url>,

    /// Trust this CA certificate (PEM) for https, besides the web's roots:
    /// fbcomet's own (`fbcomet ca --path`), for an https --server or the
    /// real host names over https through --proxy.
    #[arg(long, value_name = "FILE")]
    cacert: Option<PathBuf>,

    /// The login email.
    #[arg(long, required_unless_present = "session")]
    email: Option<String>,

    /// The login password; else FBCOMET_PASSWORD, else asked for on the
    /// terminal (without echo).
    #[arg(long, env = "FBCOMET_PASSWORD", hide_env_values = true, requires = "email")]
    password: Option<String>,

    /// Restore this saved session instead of logging in.
    #[arg(long, value_name = "FILE")]
    session: Option<PathBuf>,

    /// Save the session here after logging in.
    #[arg(long, value_name = "FILE")]
    save_session: Option<PathBuf>,

    /// Which era of the service to speak: `classic` is 2008 (login.php,
    /// the channel poll, send.php); `web` is 2013-2018 as fbchat spoke it
    /// (the m.facebook.com login, `/pull`, `/messaging/send/`; https
    /// through --proxy, so give --cacert).
    #[arg(long, value_enum, default_value_t = DialectArg::Classic)]
    dialect: DialectArg,
}

/// `--dialect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum DialectArg {
    /// 2008: login.php, the channel poll, send.php.
    Classic,
    /// 2013-2018, as fbchat: m.facebook.com, /pull, /messaging/send/.
    Web,
}

impl ConnectArgs {
    /// The client configuration these arguments describe.
    pub(crate) fn config(&self) -> super::Result<ClientConfig> {
        let mut config = match &self.proxy {
            Some(proxy) => ClientConfig::through_proxy(proxy.clone()),
            None => ClientConfig::new(self.server.clone()),
        }
        .with_dialect(match self.dialect {
            DialectArg::Classic => Dialect::Classic,
            DialectArg::Web => Dialect::Web,
        });
        if let Some(path) = &self.cacert {
            let pem = std::fs::read_to_string(path).context(|| path.display().to_string())?;
            config.http = config.http.trust_pem(&pem).context(|| path.display().to_string())?;
        }
        Ok(config)
    }

    /// A logged-in client, or an error saying why there is none.
    pub(crate) async fn connect(&self, config: ClientConfig) -> super::Result<Client> {
        let client = match (&self.session, &self.email) {
            (Some(path), email) => {
                let text = std::fs::read_to_string(path).context(|| path.display().to_string())?;
                let saved = SavedSession::from_json(&text).context(|| path.display().to_string())?;
                let client = Client::restore(config, &saved).context(|| path.display().to_string())?;
                if let Some(email) = email {
                    client.set_credentials(email, &self.password()?);
                }
                client
            }
            (None, Some(email)) => {
                let server = self.proxy.as_ref().unwrap_or(&self.server);
                let password = self.password()?;
                Client::login(config, email, &password).await.context(|| format!("cannot log in at {server}"))?
            }
            (None, None) => return Err("say who to be: --email (and a password), or --session FILE".into()),
        };
        if let Some(path) = &self.save_session {
            fbcomet_mock::tls::write_private(path, &client.save().to_json())
                .context(|| format!("cannot write {}", path.display()))?;
        }
        Ok(client)
    }
}

impl ConnectArgs {
    /// Whether the session is this command's own (logged in now, and not
    /// saved): then leaving logs it out.
    pub(crate) fn owns_session(&self) -> bool {
        self.session.is_none() && self.save_session.is_none()
    }

    /// The password: --password or FBCOMET_PASSWORD, else asked for on
    /// the terminal.
    fn password(&self) -> super::Result<String> {
        use std::io::IsTerminal;
        if let Some(password) = &self.password {
            return Ok(password.clone());
        }
        if !std::io::stdin().is_terminal() {
            return Err("no password: give --password, set FBCOMET_PASSWORD, or run on a terminal to be asked".into());
        }
        let email = self.email.as_deref().unwrap_or_default();
        Ok(rpassword::prompt_password(format!("password for {email}: "))?)
    }
}

/// The user's friends by first name and by full name (lowercase), to their
/// uids, from the buddy list.
pub(crate) async fn names(client: &Client) -> Result<BTreeMap<String, u64>, fbcomet::Error> {
    let list = client.buddy_list().await?;
    let mut names = BTreeMap::new();
    for (uid, info) in list.user_infos.iter() {
        let Ok(uid) = uid.parse::<u64>() else { continue };
        for name in [&info.first_name, &info.name].into_iter().flatten() {
            names.insert(name.to_lowercase(), uid);
        }
    }
    Ok(names)
}

/// `who` as a uid: a number, or a friend's first or full name (any case).
pub(crate) fn resolve(names: &BTreeMap<String, u64>, who: &str) -> Option<u64> {
    who.parse::<u64>().ok().or_else(|| names.get(&who.to_lowercase()).copied())
}

/// A base URL from the command line: `http://` or `https://` and a host. A
/// bare `HOST:PORT` gets a suggestion rather than the URL parser's words.
pub(crate) fn base_url(text: &str) -> Result<Url, String> {
    let suggest = || format!("{text:?} is not a URL; did you mean http://{text}?");
    match Url::parse(text) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Ok(url),
        Ok(url) if url.cannot_be_a_base() || !matches!(url.scheme(), "http" | "https") => Err(suggest()),
        Ok(_) => Err(format!("{text:?} names no host")),
        Err(url::ParseError::RelativeUrlWithoutBase) => Err(suggest()),
        Err(err) => Err(format!("{text:?} is not a URL: {err}")),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn base_urls_say_what_is_wrong() {
        assert!(super::base_url("http://127.0.0.1:8008").is_ok());
        for bare in ["127.0.0.1:8008", "localhost:8008", "example.com"] {
            assert_eq!(
                super::base_url(bare).unwrap_err(),
                format!("{bare:?} is not a URL; did you mean http://{bare}?")
            );
        }
    }
}
