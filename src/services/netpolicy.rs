//! Where the app may and did send data: the page's Content-Security-Policy
//! (`connect-src`), checked before a request so a blocked endpoint gets a clear
//! message, and a per-host log of every request the app made in this browser.

use fannotate_core::url::origin_of;
use std::cell::RefCell;
use std::collections::BTreeMap;

/// The page's `connect-src` sources from a policy text (falls back to
/// `default-src`); `None` when the policy says nothing about connections.
pub fn connect_sources(policy: &str) -> Option<Vec<String>> {
    let directive = |name: &str| {
        policy.split(';').find_map(|d| {
            let mut parts = d.split_whitespace();
            (parts.next()?.eq_ignore_ascii_case(name)).then(|| parts.map(str::to_string).collect())
        })
    };
    directive("connect-src").or_else(|| directive("default-src"))
}

/// Whether `sources` (CSP source expressions) allow connecting to `url` from a
/// page at `page_origin`. Covers what deployments use: `'self'`, `*`, schemes
/// (`https:`), and hosts with optional `*.` and port (`:*` or a number).
pub fn allows(sources: &[String], page_origin: &str, url: &str) -> bool {
    let Some(target) = origin_of(url) else {
        return false;
    };
    let (t_scheme, t_hostport) = target.split_once("://").unwrap_or(("", ""));
    let (t_host, t_port) = split_port(t_hostport, t_scheme);
    sources.iter().any(|s| {
        let s = s.to_ascii_lowercase();
        match s.as_str() {
            "'self'" => origin_of(page_origin).as_deref() == Some(target.as_str()),
            "*" => true,
            "'none'" => false,
            _ if s.ends_with(':') && !s.contains('/') => s.trim_end_matches(':') == t_scheme,
            _ => {
                let (scheme, hostport) = match s.split_once("://") {
                    Some((sc, hp)) => (Some(sc), hp),
                    None => (None, s.as_str()),
                };
                let hostport = hostport.split('/').next().unwrap_or("");
                if let Some(sc) = scheme {
                    // http: sources also allow https (a secure upgrade).
                    if !(sc == t_scheme || (sc == "http" && t_scheme == "https")) {
                        return false;
                    }
                }
                let (host, port) = match hostport.rsplit_once(':') {
                    Some((h, p))
                        if !h.is_empty() && (p == "*" || p.chars().all(|c| c.is_ascii_digit())) =>
                    {
                        (h, Some(p))
                    }
                    _ => (hostport, None),
                };
                let host_ok = match host.strip_prefix("*.") {
                    Some(suffix) => t_host.ends_with(&format!(".{suffix}")),
                    None => host == t_host,
                };
                let port_ok = match port {
                    Some("*") => true,
                    Some(p) => p == t_port,
                    None => t_port == default_port(scheme.unwrap_or(t_scheme)),
                };
                host_ok && port_ok
            }
        }
    })
}

fn default_port(scheme: &str) -> &'static str {
    if scheme == "https" {
        "443"
    } else {
        "80"
    }
}

fn split_port<'a>(hostport: &'a str, scheme: &str) -> (&'a str, &'a str) {
    match hostport.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) && !h.is_empty() => (h, p),
        _ => (hostport, default_port(scheme)),
    }
}

/// Requests to one host (for one project, in the stored log).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HostCount {
    /// `scheme://host:port`.
    pub origin: String,
    /// The project whose requests these are: each instance (persistence key) has
    /// its own projects, so it can show its own hosts (issue #22). Empty in logs
    /// written before projects were recorded.
    #[serde(default)]
    pub project: String,
    /// Requests sent.
    pub requests: u64,
    /// Requests the page's policy blocked before they left.
    #[serde(default)]
    pub blocked: u64,
    /// Milliseconds since the epoch of the last one.
    pub last: f64,
}

/// Where the log is kept: `localStorage`, shared by every instance in this
/// browser profile (it describes the browser, not a project).
pub const LOG_KEY: &str = "fannotate:request-log";

thread_local! {
    static LOG: RefCell<Option<BTreeMap<(String, String), HostCount>>> = const { RefCell::new(None) };
    static DIRTY: RefCell<bool> = const { RefCell::new(false) };
    // The policy is fixed for the page's life: read the DOM once.
    static POLICY: std::cell::OnceCell<Option<PagePolicy>> = const { std::cell::OnceCell::new() };
}

use super::browser::local_storage;

fn with_log<R>(f: impl FnOnce(&mut BTreeMap<(String, String), HostCount>) -> R) -> R {
    LOG.with(|l| {
        let mut l = l.borrow_mut();
        let log = l.get_or_insert_with(|| {
            local_storage()
                .and_then(|s| s.get_item(LOG_KEY).ok().flatten())
                .and_then(|t| serde_json::from_str::<Vec<HostCount>>(&t).ok())
                .unwrap_or_default()
                .into_iter()
                .map(|h| ((h.project.clone(), h.origin.clone()), h))
                .collect()
        });
        f(log)
    })
}

/// Count a request of `project` to `url` (sent, or blocked by the policy).
pub fn record(url: &str, blocked: bool, project: &str) {
    let Some(origin) = origin_of(url) else { return };
    let now = js_sys::Date::now();
    with_log(|log| {
        let key = (project.to_string(), origin.clone());
        let e = log.entry(key).or_insert(HostCount {
            origin,
            project: project.to_string(),
            requests: 0,
            blocked: 0,
            last: now,
        });
        if blocked {
            e.blocked += 1;
        } else {
            e.requests += 1;
        }
        e.last = now;
    });
    // Writing localStorage on every request would cost more than the request at
    // hundreds a second: write at most once a second.
    let first = DIRTY.with(|d| !std::mem::replace(&mut *d.borrow_mut(), true));
    if let (true, Some(w)) = (first, web_sys::window()) {
        use wasm_bindgen::JsCast;
        let cb = wasm_bindgen::closure::Closure::once_into_js(flush);
        let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(cb.unchecked_ref(), 1000);
    }
}

/// Write the log to `localStorage` now.
pub fn flush() {
    DIRTY.with(|d| *d.borrow_mut() = false);
    let text = with_log(|log| serde_json::to_string(&log.values().collect::<Vec<_>>()));
    if let (Some(s), Ok(t)) = (local_storage(), text) {
        let _ = s.set_item(LOG_KEY, &t);
    }
}

/// Every host contacted for the projects `only` admits (all: the browser
/// profile's total), summed per host, most requests first.
pub fn hosts(only: impl Fn(&str) -> bool) -> Vec<HostCount> {
    let counts = with_log(|log| log.values().filter(|h| only(&h.project)).cloned().collect());
    sum_by_origin(counts)
}

/// One line per origin: requests and blocks added up, the latest time kept.
pub fn sum_by_origin(counts: Vec<HostCount>) -> Vec<HostCount> {
    let mut by: BTreeMap<String, HostCount> = BTreeMap::new();
    for h in counts {
        let e = by.entry(h.origin.clone()).or_insert(HostCount {
            project: String::new(),
            requests: 0,
            blocked: 0,
            last: h.last,
            ..h.clone()
        });
        e.requests += h.requests;
        e.blocked += h.blocked;
        e.last = e.last.max(h.last);
    }
    let mut v: Vec<HostCount> = by.into_values().collect();
    v.sort_by(|a, b| b.requests.cmp(&a.requests).then(a.origin.cmp(&b.origin)));
    v
}

/// Forget what the projects `only` admits sent (all of them: the whole log).
pub fn clear(only: impl Fn(&str) -> bool) {
    with_log(|log| log.retain(|_, h| !only(&h.project)));
    flush();
}

/// The page's policy as deployed: its `connect-src` sources and whether it was
/// built permissive. `None` when the page has no policy (e.g. a host page that
/// embeds the app without one).
#[derive(Debug, Clone, PartialEq)]
pub struct PagePolicy {
    /// Allowed connection sources.
    pub connect: Vec<String>,
    /// Built with `FANNOTATE_CSP=permissive`.
    pub permissive: bool,
}

/// The policy from the page's `<meta http-equiv="Content-Security-Policy">`.
pub fn page_policy() -> Option<PagePolicy> {
    POLICY.with(|p| p.get_or_init(read_page_policy).clone())
}

fn read_page_policy() -> Option<PagePolicy> {
    let doc = web_sys::window()?.document()?;
    let meta = doc
        .query_selector("meta[http-equiv='Content-Security-Policy' i]")
        .ok()??;
    let connect = connect_sources(&meta.get_attribute("content")?)?;
    let permissive = doc
        .query_selector("meta[name='fannotate-csp']")
        .ok()
        .flatten()
        .and_then(|m| m.get_attribute("content"))
        .is_some_and(|c| c == "permissive");
    Some(PagePolicy {
        connect,
        permissive,
    })
}

/// Whether the page's policy lets the app connect to `url` (true without a policy).
pub fn page_allows(url: &str) -> bool {
    let Some(policy) = page_policy() else {
        return true;
    };
    let page = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default();
    allows(&policy.connect, &page, url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn srcs(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn hosts_are_summed_per_origin_over_the_chosen_projects() {
        let h = |project: &str, origin: &str, requests, blocked, last| HostCount {
            origin: origin.into(),
            project: project.into(),
            requests,
            blocked,
            last,
        };
        let log = vec![
            h("a", "http://x:1", 3, 0, 5.0),
            h("b", "http://x:1", 2, 1, 9.0),
            h("b", "http://y:2", 7, 0, 1.0),
        ];
        let mine: Vec<HostCount> = log.iter().filter(|c| c.project == "a").cloned().collect();
        assert_eq!(sum_by_origin(mine), vec![h("", "http://x:1", 3, 0, 5.0)]);
        assert_eq!(
            sum_by_origin(log),
            vec![
                h("", "http://y:2", 7, 0, 1.0),
                h("", "http://x:1", 5, 1, 9.0)
            ]
        );
    }

    #[test]
    fn policies_are_read_from_connect_src_or_default_src() {
        let p = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self' http://127.0.0.1:*";
        assert_eq!(connect_sources(p), Some(srcs("'self' http://127.0.0.1:*")));
        assert_eq!(connect_sources("default-src 'self'"), Some(srcs("'self'")));
        assert_eq!(connect_sources("script-src 'self'"), None);
    }

    #[test]
    fn source_matching() {
        let page = "http://127.0.0.1:8080";
        let strict = srcs(
            "'self' http://127.0.0.1:* http://localhost:* https://127.0.0.1:* https://localhost:*",
        );
        assert!(allows(
            &strict,
            page,
            "http://127.0.0.1:8081/v1/chat/completions"
        ));
        assert!(allows(&strict, page, "https://localhost:8443/v1"));
        assert!(allows(&strict, page, "http://127.0.0.1:8080/config.json"));
        assert!(!allows(&strict, page, "https://api.openai.com/v1/models"));
        assert!(!allows(&strict, page, "http://10.0.0.5:8000/v1"));
        let listed = srcs(
            "'self' https://api.openai.com https://*.openai.azure.com http://vllm.internal:8000",
        );
        assert!(allows(&listed, page, "https://api.openai.com/v1/models"));
        assert!(!allows(
            &listed,
            page,
            "https://api.openai.com:8443/v1/models"
        ));
        assert!(allows(
            &listed,
            page,
            "https://myres.openai.azure.com/openai/deployments/x"
        ));
        assert!(!allows(&listed, page, "https://openai.azure.com/x"));
        assert!(allows(&listed, page, "http://vllm.internal:8000/v1"));
        assert!(!allows(&listed, page, "http://vllm.internal:8001/v1"));
        let permissive = srcs("'self' https: http:");
        assert!(allows(&permissive, page, "http://10.0.0.5:8000/v1"));
        assert!(allows(&srcs("*"), page, "https://x.y"));
        assert!(!allows(&srcs("'none'"), page, "http://127.0.0.1:8080/"));
    }
}
