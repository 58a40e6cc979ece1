//! Building request URLs: form-encoded query parameters, and resolving the `Location` headers
//! of upload sessions and redirects (absolute, host-relative `/v2/…`, or path-relative).

/// Form-encodes one query component (`application/x-www-form-urlencoded`, space as `%20` to
/// stay valid in any position).
pub(crate) fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Appends `name=value` pairs to `url`, with `?` or `&` as the URL already needs.
pub(crate) fn with_query(url: &str, pairs: &[(&str, &str)]) -> String {
    let mut out = url.to_string();
    for (name, value) in pairs {
        out.push(if out.contains('?') { '&' } else { '?' });
        out.push_str(&encode_component(name));
        out.push('=');
        out.push_str(&encode_component(value));
    }
    out
}

/// `scheme://authority` of an absolute URL, or None.
pub(crate) fn origin(url: &str) -> Option<&str> {
    let scheme_end = url.find("://")?;
    let rest = &url[scheme_end + 3..];
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    Some(&url[..scheme_end + 3 + end])
}

/// The `host[:port]` of an absolute URL, lowercased.
pub(crate) fn authority(url: &str) -> Option<String> {
    let o = origin(url)?;
    let a = &o[o.find("://")? + 3..];
    // Drop userinfo if any.
    let a = a.rsplit_once('@').map_or(a, |(_, h)| h);
    Some(a.to_ascii_lowercase())
}

/// Resolves a `Location` value against the URL of the request that returned it.
pub(crate) fn resolve(base: &str, location: &str) -> String {
    let location = location.trim();
    if location.starts_with("http://") || location.starts_with("https://") {
        return location.to_string();
    }
    let Some(origin) = origin(base) else {
        return location.to_string();
    };
    if let Some(rest) = location.strip_prefix("//") {
        let scheme = &origin[..origin.find("://").unwrap_or(0)];
        return format!("{scheme}://{rest}");
    }
    if location.starts_with('/') {
        return format!("{origin}{location}");
    }
    // Path-relative: against the base path's directory.
    let path = &base[origin.len()..];
    let path = path.split(['?', '#']).next().unwrap_or("");
    let dir = path.rfind('/').map_or("/", |i| &path[..=i]);
    if location.starts_with('?') {
        return format!("{origin}{path}{location}");
    }
    format!("{origin}{dir}{location}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_building() {
        assert_eq!(
            with_query(
                "https://a/token",
                &[("scope", "repository:a/b:pull,push"), ("service", "reg x")]
            ),
            "https://a/token?scope=repository%3Aa%2Fb%3Apull%2Cpush&service=reg%20x"
        );
        assert_eq!(
            with_query("http://h/up/1?_state=abc", &[("digest", "sha256:00")]),
            "http://h/up/1?_state=abc&digest=sha256%3A00"
        );
    }

    #[test]
    fn location_resolution() {
        let base = "http://127.0.0.1:5000/v2/a/b/blobs/uploads/";
        assert_eq!(
            resolve(base, "/v2/a/b/blobs/uploads/u1?_state=x"),
            "http://127.0.0.1:5000/v2/a/b/blobs/uploads/u1?_state=x"
        );
        assert_eq!(
            resolve(base, "https://s3.example/bucket/u1"),
            "https://s3.example/bucket/u1"
        );
        assert_eq!(
            resolve(base, "u2"),
            "http://127.0.0.1:5000/v2/a/b/blobs/uploads/u2"
        );
        assert_eq!(resolve(base, "//cdn.example/x"), "http://cdn.example/x");
        assert_eq!(
            resolve("https://h/v2/x/blobs/uploads/u1?_state=1", "?_state=2"),
            "https://h/v2/x/blobs/uploads/u1?_state=2"
        );
    }

    #[test]
    fn origins() {
        assert_eq!(origin("https://h:1/a?b"), Some("https://h:1"));
        assert_eq!(origin("https://h"), Some("https://h"));
        assert_eq!(origin("/relative"), None);
        assert_eq!(authority("https://U@H:1/a").as_deref(), Some("h:1"));
    }
}
