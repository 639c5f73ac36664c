//! Calling an OpenAI-compatible endpoint straight from the browser.
//!
//! Failures are classified so the user learns what to fix: a browser only reports
//! "failed to fetch" for both a blocked CORS response and an unreachable server, so
//! after such a failure we probe the URL in `no-cors` mode: an opaque answer means
//! the server is up and CORS is the problem.
//!
//! `error` owns [`LlmError`] and what it tells the user; `http` the URLs, headers
//! and sending one request; `chat` sending a chat completion and reading its
//! answer (the body and the reading are `fannotate_core::chat`'s); `probe` what an endpoint offers (its models, the connection test
//! and the capability probes).

mod batch_api;
mod chat;
mod error;
mod http;
mod probe;

pub use batch_api::{BatchApi, Submitted};
pub use chat::{annotate, estimate_tokens, read_completion};
pub use error::LlmError;
pub use http::{
    api_url, auth_headers, endpoint_url, endpoint_url_at, send, send_body, HttpResponse,
};
pub use probe::{list_models, probe_obeyed, test_connection, ConnectionReport};

/// The endpoint the tests of this folder talk to: llama.cpp's usual address.
#[cfg(test)]
fn test_endpoint() -> fannotate_core::records::EndpointConfig {
    use fannotate_core::records::{EndpointConfig, Provider};
    let mut c = EndpointConfig::new(
        "p",
        Provider::LlamaCpp,
        Some("http://127.0.0.1:8081/v1"),
        Some("smollm2"),
    );
    c.temperature = 0.3;
    c
}
