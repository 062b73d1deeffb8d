//! Requests to user-given OAuth URLs: each URL checked by the SSRF guard before it is
//! requested (the guarded client checks names again when it connects, but never sees an
//! IP literal), answers read up to a bound, and failures told as one sentence.

use std::time::Duration;

use feather_service::{UpstreamError, UpstreamErrorKind};
use reqwest::{RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;
use url::Url;

use crate::guard::{GuardError, UpstreamPolicy};

/// Largest answer read from an authorization server or a metadata URL: metadata and
/// token answers are a few KiB.
const MAX_ANSWER_BYTES: usize = 256 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The whole of one request, answer included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// An HTTP client for OAuth URLs within the operator's upstream policy.
#[derive(Debug, Clone)]
pub(crate) struct GuardedHttp {
    policy: UpstreamPolicy,
    client: reqwest::Client,
}

/// An answer read whole.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: http::HeaderMap,
    pub(crate) body: Vec<u8>,
}

impl Answer {
    /// The body as `T`, or why it is not one.
    pub(crate) fn json<T: DeserializeOwned>(&self) -> Result<T, String> {
        serde_json::from_slice(&self.body).map_err(|error| error.to_string())
    }
}

impl GuardedHttp {
    pub(crate) fn new(policy: &UpstreamPolicy) -> Result<GuardedHttp, reqwest::Error> {
        Ok(GuardedHttp {
            policy: policy.clone(),
            client: policy
                .http_client_builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .timeout(REQUEST_TIMEOUT)
                .build()?,
        })
    }

    /// A request to `url` once the guard allows it; `what` names the URL in messages
    /// ("the token endpoint").
    pub(crate) async fn request(
        &self,
        method: reqwest::Method,
        url: &Url,
        what: &str,
    ) -> Result<RequestBuilder, UpstreamError> {
        self.policy
            .check_url(url.as_str())
            .await
            .map_err(|refused| refused_error(what, &refused))?;
        Ok(self.client.request(method, url.clone()))
    }

    /// Sends `request` and reads its answer whole (up to the bound).
    pub(crate) async fn send(
        &self,
        request: RequestBuilder,
        what: &str,
    ) -> Result<Answer, UpstreamError> {
        read(self.send_for_head(request, what).await?, what).await
    }

    /// Sends `request` and returns as soon as the answer's head has come, its body unread.
    pub(crate) async fn send_for_head(
        &self,
        request: RequestBuilder,
        what: &str,
    ) -> Result<Response, UpstreamError> {
        request
            .send()
            .await
            .map_err(|error| transport_error(what, &error))
    }

    /// `GET url` asking for JSON.
    pub(crate) async fn get(&self, url: &Url, what: &str) -> Result<Answer, UpstreamError> {
        let request = self
            .request(reqwest::Method::GET, url, what)
            .await?
            .header(http::header::ACCEPT, "application/json");
        self.send(request, what).await
    }
}

async fn read(mut response: Response, what: &str) -> Result<Answer, UpstreamError> {
    let status = response.status();
    let headers = std::mem::take(response.headers_mut());
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|error| transport_error(what, &error))?
    {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(UpstreamError::new(
                UpstreamErrorKind::Failed,
                format!(
                    "The answer of {what} is larger than {} KiB.",
                    MAX_ANSWER_BYTES / 1024
                ),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Answer {
        status,
        headers,
        body,
    })
}

fn refused_error(what: &str, refused: &GuardError) -> UpstreamError {
    UpstreamError::new(
        UpstreamErrorKind::Refused,
        format!("The service may not reach {what}: {refused}"),
    )
}

/// A request that got no answer. The guard's refusal (of a name resolved again, or a
/// redirect) keeps its own words; the URL is never quoted, as it may carry a secret.
fn transport_error(what: &str, error: &reqwest::Error) -> UpstreamError {
    if let Some(refused) = GuardError::in_chain(error) {
        return refused_error(what, refused);
    }
    let (kind, reason) = if error.is_timeout() {
        (UpstreamErrorKind::Timeout, "it did not answer in time")
    } else if error.is_connect() {
        (UpstreamErrorKind::Failed, "the connection failed")
    } else if error.is_redirect() {
        (UpstreamErrorKind::Failed, "it redirected too often")
    } else {
        (UpstreamErrorKind::Failed, "the request failed")
    };
    UpstreamError::new(kind, format!("Could not reach {what}: {reason}."))
}
