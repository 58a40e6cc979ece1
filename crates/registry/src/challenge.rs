//! Parsing `WWW-Authenticate` challenges (RFC 9110 §11.6.1) into what the auth flow needs.
//!
//! Registries answer 401 with `Bearer realm="…",service="…",scope="…"` (the token flow of
//! Docker's token auth spec) or `Basic realm="…"`. A header may hold several challenges and a
//! response several headers; Bearer is preferred when both are offered.

/// A challenge this client can answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Challenge {
    /// Send `Authorization: Basic base64(user:password)`.
    Basic,
    /// Fetch a token from `realm` for `service` and the scopes, send it as `Bearer`.
    Bearer {
        /// The token endpoint URL.
        realm: String,
        /// The `service` parameter to pass back.
        service: Option<String>,
        /// The scope(s) the registry says the request needs (space separated), if it said.
        scope: Option<String>,
    },
}

/// One raw challenge: the scheme (lowercase) and its parameters (names lowercase).
#[derive(Debug, PartialEq, Eq)]
struct RawChallenge {
    scheme: String,
    params: Vec<(String, String)>,
}

impl RawChallenge {
    fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn is_tchar(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c)
}

struct Lexer<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Lexer<'_> {
    fn skip_ws(&mut self) {
        while self.pos < self.s.len() && matches!(self.s[self.pos], b' ' | b'\t') {
            self.pos += 1;
        }
    }

    fn skip_ws_and_commas(&mut self) {
        while self.pos < self.s.len() && matches!(self.s[self.pos], b' ' | b'\t' | b',') {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn token(&mut self) -> Option<String> {
        let start = self.pos;
        while self.pos < self.s.len() && is_tchar(self.s[self.pos]) {
            self.pos += 1;
        }
        (self.pos > start).then(|| String::from_utf8_lossy(&self.s[start..self.pos]).into_owned())
    }

    /// A token68 (`abc==`) or plain token value.
    fn value_token(&mut self) -> String {
        let start = self.pos;
        while self.pos < self.s.len() && (is_tchar(self.s[self.pos]) || self.s[self.pos] == b'/') {
            self.pos += 1;
        }
        String::from_utf8_lossy(&self.s[start..self.pos]).into_owned()
    }

    fn quoted(&mut self) -> String {
        // At the opening quote.
        self.pos += 1;
        let mut out = Vec::new();
        while let Some(c) = self.peek() {
            self.pos += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    if let Some(n) = self.peek() {
                        out.push(n);
                        self.pos += 1;
                    }
                }
                c => out.push(c),
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Tries `name = value`; on failure restores the position and returns None.
    fn param(&mut self) -> Option<(String, String)> {
        let save = self.pos;
        let Some(name) = self.token() else {
            self.pos = save;
            return None;
        };
        self.skip_ws();
        if self.peek() != Some(b'=') {
            self.pos = save;
            return None;
        }
        self.pos += 1;
        self.skip_ws();
        let value = if self.peek() == Some(b'"') {
            self.quoted()
        } else {
            self.value_token()
        };
        Some((name.to_ascii_lowercase(), value))
    }
}

fn parse_raw(header: &str) -> Vec<RawChallenge> {
    let mut lx = Lexer {
        s: header.as_bytes(),
        pos: 0,
    };
    let mut out = Vec::new();
    loop {
        lx.skip_ws_and_commas();
        if lx.peek().is_none() {
            break;
        }
        let Some(scheme) = lx.token() else {
            // Not a token: skip one byte of garbage and go on.
            lx.pos += 1;
            continue;
        };
        let mut ch = RawChallenge {
            scheme: scheme.to_ascii_lowercase(),
            params: Vec::new(),
        };
        lx.skip_ws();
        while let Some(p) = lx.param() {
            ch.params.push(p);
            lx.skip_ws();
            if lx.peek() == Some(b',') {
                lx.pos += 1;
                lx.skip_ws();
            } else {
                break;
            }
        }
        out.push(ch);
    }
    out
}

/// The challenge to answer among all `WWW-Authenticate` header values: Bearer (with a realm)
/// before Basic. `None` when there is nothing this client can answer.
pub(crate) fn select<'a>(headers: impl IntoIterator<Item = &'a str>) -> Option<Challenge> {
    let all: Vec<RawChallenge> = headers.into_iter().flat_map(parse_raw).collect();
    if let Some(b) = all.iter().find(|c| c.scheme == "bearer") {
        let realm = b.param("realm")?.to_string();
        if realm.is_empty() {
            return None;
        }
        return Some(Challenge::Bearer {
            realm,
            service: b.param("service").map(str::to_string),
            scope: b.param("scope").map(str::to_string),
        });
    }
    all.iter()
        .any(|c| c.scheme == "basic")
        .then_some(Challenge::Basic)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_from_the_spec() {
        let h = r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push""#;
        assert_eq!(
            select([h]),
            Some(Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
                scope: Some("repository:samalba/my-app:pull,push".into()),
            })
        );
    }

    #[test]
    fn basic_and_odd_spacing_and_escapes() {
        assert_eq!(
            select([r#"Basic realm="Registry Realm""#]),
            Some(Challenge::Basic)
        );
        assert_eq!(select(["basic"]), Some(Challenge::Basic));
        let h = r#"  BEARER   Realm = "http://127.0.0.1:1/t?x=\"y\"" ,  Service=svc , error="insufficient_scope" "#;
        assert_eq!(
            select([h]),
            Some(Challenge::Bearer {
                realm: r#"http://127.0.0.1:1/t?x="y""#.into(),
                service: Some("svc".into()),
                scope: None,
            })
        );
    }

    #[test]
    fn several_challenges_prefer_bearer() {
        let h = r#"Basic realm="x", Bearer realm="https://a/token",service="s""#;
        assert!(matches!(select([h]), Some(Challenge::Bearer { .. })));
        let two = ["Basic realm=\"x\"", "Bearer realm=\"https://a/t\""];
        assert!(matches!(select(two), Some(Challenge::Bearer { .. })));
        let raw = parse_raw(h);
        assert_eq!(raw.len(), 2);
        assert_eq!(raw[1].param("service"), Some("s"));
    }

    #[test]
    fn unanswerable_or_garbage() {
        assert_eq!(select([""]), None);
        assert_eq!(select(["Negotiate"]), None);
        assert_eq!(select(["Bearer service=\"x\""]), None);
        assert_eq!(select(["Bearer realm=\"\""]), None);
        assert_eq!(select(["\u{1F600} ,,, ==\"\\"]), None);
        assert!(select(["Bearer realm=\"unterminated"]).is_some());
    }
}
