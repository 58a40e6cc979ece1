//! Member names made safe before anything touches the disk: split into components, `.` and
//! empty components dropped, a leading `/` ignored (absolute names are relative to the root,
//! as every tar extractor does), `..` applied lexically and refused when it would climb above
//! the root. What remains can only name something inside the root lexically; symbolic links
//! met on the way are resolved inside the root by [`super::dir_stack`].

/// The components of `raw`, or `None` when it escapes the root or contains a NUL.
pub fn clean(raw: &[u8]) -> Option<Vec<&[u8]>> {
    if raw.contains(&0) {
        return None;
    }
    let mut out: Vec<&[u8]> = Vec::new();
    for c in raw.split(|&b| b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => {
                out.pop()?;
            }
            c => out.push(c),
        }
    }
    Some(out)
}

/// `a/b/c` from components.
pub fn join(comps: &[&[u8]]) -> Vec<u8> {
    let mut p = Vec::with_capacity(comps.iter().map(|c| c.len() + 1).sum());
    for (i, c) in comps.iter().enumerate() {
        if i > 0 {
            p.push(b'/');
        }
        p.extend_from_slice(c);
    }
    p
}

/// A printable form for messages.
pub fn show(p: &[u8]) -> String {
    String::from_utf8_lossy(p).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleaning() {
        let c = |s: &str| clean(s.as_bytes()).map(|v| show(&join(&v)));
        assert_eq!(c("a/b/c").as_deref(), Some("a/b/c"));
        assert_eq!(c("./a//b/./c/").as_deref(), Some("a/b/c"));
        assert_eq!(c("/etc/passwd").as_deref(), Some("etc/passwd"));
        assert_eq!(c("a/../b").as_deref(), Some("b"));
        assert_eq!(c("./").as_deref(), Some(""));
        assert_eq!(c("../x"), None);
        assert_eq!(c("a/../../x"), None);
        assert_eq!(c("/.."), None);
        assert_eq!(clean(b"a\0b"), None);
    }
}
