//! [`LlmError`]: why a call to the endpoint failed, what to tell the user, and
//! whether to retry or stop.

use fannotate_core::records::Provider;

/// Why a call to the endpoint failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LlmError {
    /// The base URL cannot be used.
    #[error("the endpoint URL \"{0}\" is not a valid http(s) URL")]
    BadUrl(String),
    /// The server answered but the browser withheld the response (CORS).
    #[error("the browser blocked the server's answer (CORS)")]
    Cors {
        /// Server kind, for the fix.
        provider: Provider,
    },
    /// No connection (DNS failure, connection refused, offline, mixed content).
    #[error("cannot reach {url}")]
    Unreachable {
        /// The URL tried.
        url: String,
    },
    /// 401 or 403.
    #[error("the server refused the request (HTTP {status})")]
    Auth {
        /// HTTP status.
        status: u16,
        /// Response body, shortened.
        body: String,
    },
    /// Any other non-2xx answer.
    #[error("the server answered HTTP {status}")]
    Http {
        /// HTTP status.
        status: u16,
        /// Response body, shortened.
        body: String,
        /// Seconds from `Retry-After`, if given.
        retry_after: Option<f64>,
    },
    /// No answer within the timeout.
    #[error("no answer within {secs} s")]
    Timeout {
        /// The timeout.
        secs: u32,
    },
    /// A 2xx answer that is not a chat completion.
    #[error("the server's answer is not a valid chat completion")]
    Malformed {
        /// Response body, shortened.
        body: String,
    },
    /// The page's Content-Security-Policy does not allow this endpoint.
    #[error("the page's security policy does not allow connecting to {origin}")]
    BlockedByPolicy {
        /// The endpoint's origin.
        origin: String,
    },
    /// A 2xx answer of a batch API that is not what that API sends.
    #[error("the batch API's answer is not {expected}")]
    BatchAnswer {
        /// What it should have been.
        expected: &'static str,
        /// Response body, shortened.
        body: String,
    },
    /// The browser could not make or read a request's body.
    #[error("the browser could not prepare the request: {0}")]
    Browser(String),
    /// The user cancelled.
    #[error("cancelled")]
    Cancelled,
}

impl LlmError {
    /// What to tell the user, with the fix where we know it.
    pub fn user_message(&self) -> String {
        match self {
            LlmError::BadUrl(u) => format!("\"{u}\" is not a valid endpoint URL. It should look like http://127.0.0.1:8080/v1."),
            LlmError::Cors { provider } => format!(
                "The server is reachable, but the browser blocked its answer because of CORS. Fix: {}.",
                provider.cors_fix()
            ),
            LlmError::Unreachable { url } => format!(
                "Cannot reach {url}: the server is not running, the host name does not resolve, or the connection was refused. \
                 (An http:// endpoint from an https:// page is also blocked by the browser.)"
            ),
            LlmError::Auth { status, .. } => format!(
                "The server refused the request (HTTP {status}): the API key is missing or wrong for this endpoint."
            ),
            LlmError::Http { status, body, .. } => format!("The server answered HTTP {status}: {body}"),
            LlmError::Timeout { secs } => format!("No answer within {secs} s. Raise the timeout or lower the concurrency."),
            LlmError::Malformed { body } => format!("The server's answer is not a chat completion: {body}"),
            LlmError::BlockedByPolicy { origin } => format!(
                "This page's Content-Security-Policy does not allow connecting to {origin}, so nothing was sent there. \
                 Whoever deploys Fannotate can add it to the allowed endpoints (FANNOTATE_CONNECT_SRC at build time) \
                 or build the permissive variant (FANNOTATE_CSP=permissive); see the README."
            ),
            LlmError::BatchAnswer { expected, body } => format!(
                "The server's batch API answered with something that is not {expected}: {body}. Does this endpoint offer a batch API?"
            ),
            LlmError::Browser(why) => format!("The browser could not prepare the request: {why}."),
            LlmError::Cancelled => "Cancelled.".into(),
        }
    }

    /// Whether trying the same request again may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            LlmError::Http { status, .. } => *status == 429 || *status >= 500,
            LlmError::Timeout { .. } | LlmError::Unreachable { .. } => true,
            _ => false,
        }
    }

    /// Whether every further request will fail the same way.
    pub fn stops_run(&self) -> bool {
        matches!(
            self,
            LlmError::Auth { .. }
                | LlmError::Cors { .. }
                | LlmError::BadUrl(_)
                | LlmError::BlockedByPolicy { .. }
        )
    }
}

/// At most 300 characters of `s`, with an ellipsis when cut.
pub(super) fn shorten(s: &str) -> String {
    const MAX: usize = 300;
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_and_stop_classes() {
        let http = |status| LlmError::Http {
            status,
            body: String::new(),
            retry_after: None,
        };
        assert!(http(429).is_retryable());
        assert!(http(503).is_retryable());
        assert!(!http(400).is_retryable());
        assert!(!http(404).is_retryable());
        assert!(LlmError::Timeout { secs: 1 }.is_retryable());
        assert!(LlmError::Auth {
            status: 401,
            body: String::new()
        }
        .stops_run());
        assert!(LlmError::Cors {
            provider: Provider::Vllm
        }
        .user_message()
        .contains("--allowed-origins"));
        assert!(LlmError::Cors {
            provider: Provider::Ollama
        }
        .user_message()
        .contains("OLLAMA_ORIGINS"));
    }
}
