//! Logging in the 2008 way, and keeping a session across runs.

use fbcomet_http::{CookieStore, HttpClient, Response};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::error::{LoginError, RestoreError};
use crate::scrape;

/// What a logged-in client knows: who it is, where its channel is, and the
/// form token its posts carry. The cookies live in the [`HttpClient`]'s jar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The user's id.
    pub uid: u64,
    /// The channel number (`channel07` is 7).
    pub channel: u32,
    /// `post_form_id`, the per-session form token.
    pub post_form_id: String,
    /// `fb_dtsg`, the token of later pages, where the page had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fb_dtsg: Option<String>,
    /// `h`, the logout token of later pages, where the page had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub h: Option<String>,
    /// `client_revision` of later pages (posted back as `__rev`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<u64>,
}

/// A session written down: enough to go on without logging in again.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedSession {
    /// The format's version (1).
    pub version: u32,
    /// The base URL the session was made on.
    pub www: String,
    /// The session.
    pub session: Session,
    /// The cookie jar, as `cookie_store` writes it (session cookies
    /// included).
    pub cookies: String,
}

impl SavedSession {
    /// Writes down `session` and the cookies of `http`.
    pub fn capture(www: &Url, session: &Session, http: &HttpClient) -> Self {
        let mut cookies = Vec::new();
        // Writing JSON into a Vec fails only for cookies that do not
        // serialize, which the jar never holds.
        if let Err(err) = cookie_store::serde::json::save_incl_expired_and_nonpersistent(&http.jar(), &mut cookies) {
            tracing::warn!(%err, "cookies not saved");
        }
        Self {
            version: 1,
            www: www.to_string(),
            session: session.clone(),
            cookies: String::from_utf8_lossy(&cookies).into_owned(),
        }
    }

    /// As JSON text, for a file.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Reads a saved session from JSON text.
    pub fn from_json(text: &str) -> Result<Self, RestoreError> {
        Ok(serde_json::from_str(text)?)
    }

    /// The cookie jar to build an [`HttpClient`] with.
    pub fn cookie_jar(&self) -> Result<CookieStore, RestoreError> {
        cookie_store::serde::json::load_all(self.cookies.as_bytes()).map_err(|e| RestoreError::Cookies(e.to_string()))
    }

    /// The base URL.
    pub fn www(&self) -> Result<Url, RestoreError> {
        self.www.parse().map_err(|_| RestoreError::Url(self.www.clone()))
    }
}

/// The URL of `path` (and query) on the www base: every page and post goes
/// to the configured base, whatever host a page's links name.
pub fn on_www(www: &Url, target: &str) -> Url {
    let (path, query) = match Url::parse(target) {
        Ok(absolute) => (absolute.path().to_owned(), absolute.query().map(str::to_owned)),
        Err(_) => {
            let (p, q) = target.split_once('?').map_or((target, None), |(p, q)| (p, Some(q)));
            let p = if p.starts_with('/') { p.to_owned() } else { format!("/{p}") };
            (p, q.map(str::to_owned))
        }
    };
    let mut url = www.clone();
    url.set_path(&path);
    url.set_query(query.as_deref());
    url
}

/// Logs in as the 2008 clients did: GET login.php, fill the first form's
/// `email` and `pass`, post it (keeping its hidden fields), follow the
/// redirect, GET home.php, and scrape the uid, the channel and the form
/// token out of it.
pub async fn login(http: &HttpClient, www: &Url, email: &str, password: &str) -> Result<Session, LoginError> {
    let page = expect_ok(http.get(&on_www(www, "/login.php")).await?, "login.php")?;
    let form = scrape::first_form(&page.text()).ok_or(LoginError::NoLoginForm)?;
    let mut fields = form.inputs;
    for (name, value) in [("email", email), ("pass", password)] {
        match fields.iter_mut().find(|(n, _)| n == name) {
            Some(field) => field.1 = value.to_owned(),
            None => fields.push((name.to_owned(), value.to_owned())),
        }
    }
    let action = on_www(www, form.action.as_deref().unwrap_or("/login.php"));
    let mut answer = http.post_form(&action, &fields).await?;
    for _ in 0..5 {
        match answer.location() {
            Some(next) if (300..400).contains(&answer.status) => answer = http.get(&on_www(www, next.as_str())).await?,
            _ => break,
        }
    }
    let landed_home = answer.url.path() == "/home.php";
    let text = answer.text();
    if scrape::first_form(&text).is_some_and(|f| f.inputs.iter().any(|(n, _)| n == "pass")) {
        return Err(LoginError::BadCredentials(scrape::login_error(&text)));
    }
    if answer.status != 200 {
        return Err(LoginError::Status { status: answer.status, page: action.path().to_owned() });
    }
    // The redirect usually lands on home.php; fetch it where it did not.
    let home =
        if landed_home { text } else { expect_ok(http.get(&on_www(www, "/home.php")).await?, "home.php")?.text() };
    scrape_session(&home, http.cookie(www, "c_user").and_then(|c| c.parse().ok()))
}

/// The session a home page (and the `c_user` cookie) describe.
pub fn scrape_session(home: &str, c_user: Option<u64>) -> Result<Session, LoginError> {
    let uid = scrape::uid(home).or(c_user).ok_or(LoginError::NoUid)?;
    let channel = scrape::channel(home).ok_or(LoginError::NoChannel)?;
    let post_form_id = scrape::post_form_id(home).ok_or(LoginError::NoFormToken)?;
    Ok(Session { uid, channel, post_form_id, fb_dtsg: scrape::fb_dtsg(home), h: None, revision: None })
}

fn expect_ok(response: Response, page: &str) -> Result<Response, LoginError> {
    if response.status == 200 {
        Ok(response)
    } else {
        Err(LoginError::Status { status: response.status, page: page.to_owned() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_go_to_the_www_base() {
        let www: Url = "http://127.0.0.1:8008".parse().unwrap();
        assert_eq!(
            on_www(&www, "https://login.facebook.com/login.php?x=1").as_str(),
            "http://127.0.0.1:8008/login.php?x=1"
        );
        assert_eq!(on_www(&www, "/home.php").as_str(), "http://127.0.0.1:8008/home.php");
        assert_eq!(on_www(&www, "home.php").as_str(), "http://127.0.0.1:8008/home.php");
    }

    #[test]
    fn a_home_page_without_a_channel_is_a_clear_error() {
        let home = r#"<a href="/profile.php?id=5" class="profile_nav_link">Profile</a><input type="hidden" id="post_form_id" name="post_form_id" value="abc" />"#;
        let err = scrape_session(home, None).unwrap_err();
        assert!(matches!(err, LoginError::NoChannel));
        assert!(err.to_string().contains("no chat channel"));
        let s = scrape_session(&format!("{home}<script>x(\"A\", \"channel09\")</script>"), None).unwrap();
        assert_eq!((s.uid, s.channel, s.post_form_id.as_str()), (5, 9, "abc"));
        // The uid from the cookie where the page has none.
        let page = r#"<input type="hidden" name="post_form_id" value="t"/>", "channel01""#;
        assert_eq!(scrape_session(page, Some(77)).unwrap().uid, 77);
        assert!(matches!(scrape_session(page, None), Err(LoginError::NoUid)));
    }
}
