//! The Send API: `POST https://graph.facebook.com/v2.6/me/messages`, what
//! it takes, what it answers, and a client for it.

use serde::{Deserialize, Serialize};
use url::Url;

use fbcomet_http::HttpClient;

/// A Send API request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendRequest {
    /// `RESPONSE`, `UPDATE` or `MESSAGE_TAG` (from 2018; optional before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messaging_type: Option<String>,
    /// Who: `{"id": PSID}`.
    pub recipient: Recipient,
    /// A message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<OutgoingMessage>,
    /// Or an action: `typing_on`, `typing_off`, `mark_seen`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender_action: Option<String>,
}

/// The recipient of a Send API request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    /// The page-scoped id of the user (a string; bots also sent numbers).
    #[serde(deserialize_with = "string_or_number")]
    pub id: String,
}

/// A message a page sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutgoingMessage {
    /// The text, 1 to 2000 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Up to 13 quick replies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quick_replies: Option<Vec<QuickReply>>,
}

/// A quick reply button.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuickReply {
    /// `text` (with a title and a payload), `location`,
    /// `user_phone_number` or `user_email`.
    pub content_type: String,
    /// The button's text, up to 20 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// What comes back in the webhook when tapped, up to 1000 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<String>,
}

/// What the Send API answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendResponse {
    /// The recipient's page-scoped id.
    pub recipient_id: String,
    /// The message's id (none for a sender action).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
}

/// A Graph API error: `{"error":{"message":..,"type":..,"code":..,"fbtrace_id":..}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("({code}) {message} [{kind}]")]
pub struct GraphError {
    /// What went wrong, for people.
    pub message: String,
    /// `OAuthException`, `GraphMethodException`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// 190 invalid token, 100 invalid parameter, ...
    pub code: i64,
    /// A finer code (2018001: no matching user).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_subcode: Option<i64>,
    /// The request's trace id.
    #[serde(default)]
    pub fbtrace_id: String,
}

/// The body of an error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphErrorBody {
    /// The error.
    pub error: GraphError,
}

/// Why a Send API call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SendApiError {
    /// The request did not get through.
    #[error("{0}")]
    Http(#[from] fbcomet_http::Error),
    /// The Graph API refused it.
    #[error("the Send API refused: {0}")]
    Graph(GraphError),
    /// The answer was not the Send API's.
    #[error("the Send API answered HTTP {status} with something else: {body}")]
    Answer {
        /// The status.
        status: u16,
        /// The start of the body.
        body: String,
    },
}

/// A client of the Send API for one page.
#[derive(Debug, Clone)]
pub struct SendApi {
    http: HttpClient,
    endpoint: Url,
    token: String,
}

impl SendApi {
    /// The Send API at `base` (`https://graph.facebook.com`, through a proxy
    /// in `http`'s configuration) in `version` (`v2.6`), for the page whose
    /// access token is `token`.
    pub fn new(http: HttpClient, base: &Url, version: &str, token: impl Into<String>) -> Self {
        let mut endpoint = base.clone();
        endpoint.set_path(&format!("/{}/me/messages", version.trim_matches('/')));
        Self { http, endpoint, token: token.into() }
    }

    /// Sends `text` to the user `psid`.
    pub async fn send_text(&self, psid: &str, text: &str) -> Result<SendResponse, SendApiError> {
        self.send(&SendRequest {
            messaging_type: Some("RESPONSE".to_owned()),
            recipient: Recipient { id: psid.to_owned() },
            message: Some(OutgoingMessage { text: Some(text.to_owned()), quick_replies: None }),
            sender_action: None,
        })
        .await
    }

    /// Sends `typing_on`, `typing_off` or `mark_seen` to `psid`.
    pub async fn sender_action(&self, psid: &str, action: &str) -> Result<SendResponse, SendApiError> {
        self.send(&SendRequest {
            messaging_type: None,
            recipient: Recipient { id: psid.to_owned() },
            message: None,
            sender_action: Some(action.to_owned()),
        })
        .await
    }

    /// Sends `request`.
    pub async fn send(&self, request: &SendRequest) -> Result<SendResponse, SendApiError> {
        let mut url = self.endpoint.clone();
        url.query_pairs_mut().append_pair("access_token", &self.token);
        let body = serde_json::to_vec(request).unwrap_or_default();
        let response = self.http.post(&url, "application/json", body, &[]).await?;
        if let Ok(ok) = serde_json::from_slice::<SendResponse>(&response.body)
            && response.status == 200
        {
            return Ok(ok);
        }
        match serde_json::from_slice::<GraphErrorBody>(&response.body) {
            Ok(err) => Err(SendApiError::Graph(err.error)),
            Err(_) => {
                Err(SendApiError::Answer { status: response.status, body: response.text().chars().take(200).collect() })
            }
        }
    }
}

fn string_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Ok(s),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::custom(format!("expected an id, found {other}"))),
    }
}
