//! URL pieces the app needs without a browser's `URL` parser.

/// `scheme://host[:port]` of a URL, lower-cased; `None` when it is not http(s).
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.trim().split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    // Credentials never belong in the origin.
    let host_port = authority.rsplit('@').next()?;
    (!host_port.is_empty()).then(|| format!("{scheme}://{}", host_port.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        assert_eq!(
            origin_of("HTTP://Example.com:8080/v1/x?y").as_deref(),
            Some("http://example.com:8080")
        );
        assert_eq!(
            origin_of("https://user:pw@api.openai.com/v1").as_deref(),
            Some("https://api.openai.com")
        );
        assert_eq!(origin_of("ftp://x"), None);
        assert_eq!(origin_of("nonsense"), None);
    }
}
