//! One HTTP request to the endpoint over gloo-net: its URL, its headers, the
//! page's policy check, the timeout and cancel, and telling CORS from an
//! unreachable server.

use super::error::{shorten, LlmError};
use crate::services::netpolicy;
use fannotate_core::records::{EndpointConfig, Provider};
use gloo_net::http::{Method, RequestBuilder};
use wasm_bindgen::JsValue;
use web_sys::{AbortSignal, RequestMode};

/// A plain HTTP answer.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Body text.
    pub body: String,
    /// `Retry-After` in seconds, when given as a number.
    pub retry_after: Option<f64>,
}

/// The URL of an API path under a base URL (`{base}/models`).
pub fn api_url(base: &str, path: &str) -> Result<String, LlmError> {
    let base = base.trim().trim_end_matches('/');
    let host = base
        .strip_prefix("https://")
        .or_else(|| base.strip_prefix("http://"))
        .map(|r| r.split('/').next().unwrap_or(""));
    match host {
        Some(h) if !h.is_empty() && !h.contains(char::is_whitespace) => {
            Ok(format!("{base}/{path}"))
        }
        _ => Err(LlmError::BadUrl(base.to_string())),
    }
}

/// The URL of an API path for this endpoint (Azure adds its `api-version`).
pub fn endpoint_url(cfg: &EndpointConfig, path: &str) -> Result<String, LlmError> {
    endpoint_url_at(cfg, &cfg.base_url, path)
}

/// [`endpoint_url`] on one of the endpoint's base URLs (a replica of a pool).
pub fn endpoint_url_at(cfg: &EndpointConfig, base: &str, path: &str) -> Result<String, LlmError> {
    let url = api_url(base, path)?;
    Ok(match (cfg.provider, cfg.api_version.as_deref()) {
        (Provider::Azure, Some(v)) if !v.trim().is_empty() => {
            format!("{url}?api-version={}", v.trim())
        }
        _ => url,
    })
}

/// After a network-level failure, tell CORS from an unreachable server: a
/// `no-cors` probe reaches a server that only withholds CORS headers.
async fn classify_network_failure(url: &str, provider: Provider) -> LlmError {
    let probe = RequestBuilder::new(url)
        .method(Method::GET)
        .mode(RequestMode::NoCors)
        .abort_signal(Some(&AbortSignal::timeout_with_u32(5_000)))
        .build();
    let reached = match probe {
        Ok(r) => r.send().await.is_ok(),
        Err(_) => false,
    };
    if reached {
        LlmError::Cors { provider }
    } else {
        LlmError::Unreachable {
            url: url.to_string(),
        }
    }
}

/// Send one HTTP request for `cfg`'s project with its timeout, cancellable
/// through `cancel`; the request log counts it for that project.
pub async fn send(
    cfg: &EndpointConfig,
    method: Method,
    url: &str,
    headers: &[(&str, String)],
    body: Option<&str>,
    cancel: Option<&AbortSignal>,
) -> Result<HttpResponse, LlmError> {
    send_body(
        cfg,
        method,
        url,
        headers,
        body.map(JsValue::from_str),
        cancel,
    )
    .await
}

/// [`send`] with any body `fetch` takes: text, a Blob, or a FormData (whose
/// multipart type and boundary the browser sets).
pub async fn send_body(
    cfg: &EndpointConfig,
    method: Method,
    url: &str,
    headers: &[(&str, String)],
    body: Option<JsValue>,
    cancel: Option<&AbortSignal>,
) -> Result<HttpResponse, LlmError> {
    let (timeout_secs, provider) = (cfg.timeout_secs, cfg.provider);
    if cancel.is_some_and(|c| c.aborted()) {
        return Err(LlmError::Cancelled);
    }
    // Check the page's policy first: the browser would block the request with
    // the same error as an unreachable server.
    let blocked = !netpolicy::page_allows(url);
    netpolicy::record(url, blocked, &cfg.project_id);
    if blocked {
        return Err(LlmError::BlockedByPolicy {
            origin: fannotate_core::url::origin_of(url).unwrap_or_else(|| url.to_string()),
        });
    }
    // The browser's own timeout signal, joined with the outside cancel: no timer,
    // closure or listener of ours per request (at hundreds a second they add up).
    let timeout = AbortSignal::timeout_with_u32(timeout_secs.saturating_mul(1000));
    let signal = match cancel {
        Some(c) => AbortSignal::any(&js_sys::Array::of2(c, &timeout)),
        None => timeout.clone(),
    };
    let mut request = RequestBuilder::new(url)
        .method(method)
        .mode(RequestMode::Cors)
        .abort_signal(Some(&signal));
    for (k, v) in headers {
        request = request.header(k, v);
    }
    let request = match body {
        Some(b) => request.body(b),
        None => request.build(),
    }
    .map_err(|_| LlmError::BadUrl(url.into()))?;
    let cancelled = || cancel.is_some_and(AbortSignal::aborted);
    let resp = match request.send().await {
        Ok(r) => r,
        Err(_) if cancelled() => return Err(LlmError::Cancelled),
        Err(_) if timeout.aborted() => return Err(LlmError::Timeout { secs: timeout_secs }),
        Err(_) => return Err(classify_network_failure(url, provider).await),
    };
    let status = resp.status();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.trim().parse::<f64>().ok());
    let body = match resp.text().await {
        Ok(t) => t,
        Err(_) if cancelled() => return Err(LlmError::Cancelled),
        Err(_) if timeout.aborted() => return Err(LlmError::Timeout { secs: timeout_secs }),
        Err(_) => String::new(),
    };
    Ok(HttpResponse {
        status,
        body,
        retry_after,
    })
}

/// Request headers: JSON, and the key the way the provider expects it.
pub fn auth_headers(cfg: &EndpointConfig, api_key: &str) -> Vec<(&'static str, String)> {
    let mut h = vec![("Content-Type", "application/json".to_string())];
    let key = api_key.trim();
    if !key.is_empty() {
        match cfg.provider {
            Provider::Azure => h.push(("api-key", key.to_string())),
            _ => h.push(("Authorization", format!("Bearer {key}"))),
        }
    }
    h
}

/// The answer if its status is 2xx, else the error its status means.
pub(super) fn check_status(r: HttpResponse) -> Result<HttpResponse, LlmError> {
    match r.status {
        200..=299 => Ok(r),
        401 | 403 => Err(LlmError::Auth {
            status: r.status,
            body: shorten(&r.body),
        }),
        status => Err(LlmError::Http {
            status,
            body: shorten(&r.body),
            retry_after: r.retry_after,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::super::test_endpoint as cfg;

    #[test]
    fn urls_and_keys_per_provider() {
        let c = cfg();
        assert_eq!(
            endpoint_url(&c, "models").unwrap(),
            "http://127.0.0.1:8081/v1/models"
        );
        assert!(matches!(
            api_url("127.0.0.1:8080/v1", "models"),
            Err(LlmError::BadUrl(_))
        ));
        assert!(matches!(
            api_url("http:///v1", "models"),
            Err(LlmError::BadUrl(_))
        ));
        assert_eq!(
            auth_headers(&c, " k ")[1],
            ("Authorization", "Bearer k".to_string())
        );
        assert_eq!(auth_headers(&c, "").len(), 1);
        let az = EndpointConfig::new(
            "p",
            Provider::Azure,
            Some("https://r.openai.azure.com/openai/deployments/gpt4o/"),
            None,
        );
        assert_eq!(
            endpoint_url(&az, "chat/completions").unwrap(),
            format!("https://r.openai.azure.com/openai/deployments/gpt4o/chat/completions?api-version={}", fannotate_core::records::AZURE_API_VERSION)
        );
        assert_eq!(auth_headers(&az, "k")[1], ("api-key", "k".to_string()));
    }
}
