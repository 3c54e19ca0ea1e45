//! The world of the service: who exists, and who is friends with whom.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

/// A user of the emulated service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// The user's id.
    pub uid: u64,
    /// The full name.
    pub name: String,
    /// The first name.
    pub first_name: String,
    /// The login email.
    pub email: String,
    /// The login password.
    pub password: String,
    /// The chat channel number (`channel07` is 7), 1 to 99.
    pub channel: u32,
    /// The status line, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The user's access token for apps (XMPP's `X-FACEBOOK-PLATFORM`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
}

impl User {
    /// The name XMPP's `DIGEST-MD5` and `PLAIN` take besides the email:
    /// the email's part before the `@`.
    pub fn username(&self) -> &str {
        self.email.split('@').next().unwrap_or(&self.email)
    }
}

/// An app (2010-2015): what `X-FACEBOOK-PLATFORM` logins name as `api_key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct App {
    /// The app's id, the `api_key` of its logins.
    pub id: String,
    /// Its secret.
    pub secret: String,
}

/// A Messenger Platform page (2016): any user may message it, and a bot
/// answers for it through its webhook and the Send API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Page {
    /// The page's id, in the same space as uids.
    pub id: u64,
    /// Its name.
    pub name: String,
    /// The page access token the bot calls the Send API with.
    pub access_token: String,
    /// Where messages to the page are posted, if anywhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<String>,
    /// What the webhook's verification request carries as
    /// `hub.verify_token`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify_token: Option<String>,
    /// The app secret webhook posts are signed with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_secret: Option<String>,
}

/// Users, friendships and pages, as a world file declares them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct World {
    /// The users.
    pub users: Vec<User>,
    /// Pairs of uids who are friends (both ways).
    #[serde(default)]
    pub friendships: Vec<(u64, u64)>,
    /// Messenger Platform pages.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pages: Vec<Page>,
    /// Apps whose users' access tokens log in to XMPP.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub apps: Vec<App>,
}

/// Why a world file was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorldError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a world in JSON.
    #[error("{path}: {message}")]
    Json {
        /// The file.
        path: String,
        /// Why, with line and column.
        message: String,
    },
    /// The world does not hold together.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
}

impl Default for World {
    /// Alice (1001), Bob (1002) and Carol (1003), all friends of each other;
    /// each logs in with `NAME@example.com` and the password `name`, or over
    /// XMPP with the app `fbcomet-app` and the access token `name-token`.
    fn default() -> Self {
        let user = |uid, first: &str, last: &str, channel, status: Option<&str>| User {
            uid,
            name: format!("{first} {last}"),
            first_name: first.to_owned(),
            email: format!("{}@example.com", first.to_lowercase()),
            password: first.to_lowercase(),
            channel,
            status: status.map(str::to_owned),
            access_token: Some(format!("{}-token", first.to_lowercase())),
        };
        World {
            users: vec![
                user(1001, "Alice", "Example", 7, Some("is trying fbcomet")),
                user(1002, "Bob", "Example", 8, None),
                user(1003, "Carol", "Example", 9, Some("is away")),
            ],
            friendships: vec![(1001, 1002), (1001, 1003), (1002, 1003)],
            pages: Vec::new(),
            apps: vec![App { id: "fbcomet-app".to_owned(), secret: "fbcomet-secret".to_owned() }],
        }
    }
}

impl World {
    /// Reads and checks a world file.
    pub fn load(path: impl AsRef<Path>) -> Result<World, WorldError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| WorldError::Io { path: name.clone(), source })?;
        Self::parse(&text, &name)
    }

    /// Parses and checks a world from JSON; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<World, WorldError> {
        let world: World = serde_json::from_str(text)
            .map_err(|e| WorldError::Json { path: origin.to_owned(), message: e.to_string() })?;
        world.check().map_err(|message| WorldError::Invalid { path: origin.to_owned(), message })?;
        Ok(world)
    }

    fn check(&self) -> Result<(), String> {
        let mut uids = BTreeSet::new();
        let mut emails = BTreeSet::new();
        for user in &self.users {
            if !uids.insert(user.uid) {
                return Err(format!("uid {} appears twice", user.uid));
            }
            if !emails.insert(user.email.to_lowercase()) {
                return Err(format!("email {} appears twice", user.email));
            }
            if !(1..=99).contains(&user.channel) {
                return Err(format!("user {}: channel {} is not from 1 to 99", user.uid, user.channel));
            }
        }
        let mut tokens = BTreeSet::new();
        for user in &self.users {
            if let Some(token) = &user.access_token
                && (token.is_empty() || !tokens.insert(token.as_str()))
            {
                return Err(format!("user {}: the access_token is empty or another's", user.uid));
            }
        }
        let mut apps = BTreeSet::new();
        if let Some(app) = self.apps.iter().find(|a| a.id.is_empty() || !apps.insert(a.id.as_str())) {
            return Err(format!("app {:?}: the id is empty or appears twice", app.id));
        }
        for page in &self.pages {
            if !uids.insert(page.id) {
                return Err(format!("page {}: the id is a user's or another page's", page.id));
            }
            if page.access_token.is_empty() || !tokens.insert(page.access_token.as_str()) {
                return Err(format!("page {}: the access_token is empty or another page's", page.id));
            }
            if page.webhook.is_some() && page.verify_token.is_none() {
                return Err(format!("page {}: a webhook needs a verify_token", page.id));
            }
        }
        let pages: BTreeSet<u64> = self.pages.iter().map(|p| p.id).collect();
        for (a, b) in &self.friendships {
            if let Some(page) = [a, b].into_iter().find(|uid| pages.contains(uid)) {
                return Err(format!("friendship ({a}, {b}) names page {page}: pages have no friends"));
            }
            for uid in [a, b] {
                if !uids.contains(uid) {
                    return Err(format!("friendship ({a}, {b}) names uid {uid}, who is not a user"));
                }
            }
            if a == b {
                return Err(format!("user {a} cannot befriend themself"));
            }
        }
        Ok(())
    }

    /// Everyone's friends, both ways.
    pub fn friend_map(&self) -> BTreeMap<u64, BTreeSet<u64>> {
        let mut map: BTreeMap<u64, BTreeSet<u64>> = self.users.iter().map(|u| (u.uid, BTreeSet::new())).collect();
        for (a, b) in &self.friendships {
            map.entry(*a).or_default().insert(*b);
            map.entry(*b).or_default().insert(*a);
        }
        map
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_world_is_valid() {
        let world = World::default();
        world.check().unwrap();
        assert_eq!(world.friend_map()[&1001], BTreeSet::from([1002, 1003]));
        let json = serde_json::to_string(&world).unwrap();
        assert_eq!(World::parse(&json, "x").unwrap(), world);
    }

    #[test]
    fn bad_worlds_are_refused() {
        let err = World::parse(r#"{"users":[],"friendships":[[1,2]]}"#, "w.json").unwrap_err();
        assert_eq!(err.to_string(), "w.json: friendship (1, 2) names uid 1, who is not a user");
        let err = World::parse(r#"{"users":[{"uid":1}]}"#, "w.json").unwrap_err();
        assert!(err.to_string().starts_with("w.json: missing field"), "{err}");
    }

    #[test]
    fn pages_are_checked() {
        let with = |pages: &str, friendships: &str| {
            let users = r#"[{"uid":1,"name":"A B","first_name":"A","email":"a@x","password":"a","channel":1}]"#;
            World::parse(&format!(r#"{{"users":{users},"friendships":{friendships},"pages":{pages}}}"#), "w")
        };
        let page = |id: u64, token: &str| format!(r#"{{"id":{id},"name":"P","access_token":"{token}"}}"#);
        assert_eq!(with(&format!("[{}]", page(2, "T")), "[]").unwrap().pages[0].id, 2);
        let err = |pages: String, friendships: &str| with(&pages, friendships).unwrap_err().to_string();
        assert!(err(format!("[{}]", page(1, "T")), "[]").contains("the id is a user's"));
        assert!(err(format!("[{},{}]", page(2, "T"), page(3, "T")), "[]").contains("access_token"));
        assert!(err(format!("[{}]", page(2, "")), "[]").contains("access_token"));
        assert!(err(format!("[{}]", page(2, "T")), "[[1,2]]").contains("pages have no friends"));
        let hook = r#"[{"id":2,"name":"P","access_token":"T","webhook":"http://127.0.0.1:5000/"}]"#;
        assert!(err(hook.to_owned(), "[]").contains("needs a verify_token"));
        let unknown = r#"[{"id":2,"name":"P","access_token":"T","token":"x"}]"#;
        assert!(err(unknown.to_owned(), "[]").contains("unknown field"));
    }
}
