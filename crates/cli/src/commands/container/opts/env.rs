//! Key-value lists as docker's `opts` package reads them: `-e NAME`
//! takes NAME's value from our environment when it is set; `--env-file`
//! and `--label-file` are line files (blank lines and `#` comments
//! skipped, `NAME` alone looked up in the environment for env files);
//! files come first and flags after them, as docker orders them.

/// A line file that cannot be read or holds a bad line.
#[derive(Debug, thiserror::Error)]
pub enum KvError {
    /// The file cannot be read.
    #[error("open {path}: {}", crate::error::go_error(source))]
    Open {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A variable name with white space in it.
    #[error("variable '{0}' contains whitespaces")]
    Whitespace(String),
    /// A line that is not valid UTF-8.
    #[error("env file {path} contains invalid utf8 bytes at line {line}")]
    Utf8 {
        /// The file.
        path: String,
        /// The line number.
        line: usize,
    },
}

/// `-e` values: `NAME` alone becomes `NAME=value` when set here.
pub fn env_value(v: &str) -> String {
    if v.contains('=') {
        return v.to_string();
    }
    match std::env::var(v) {
        Ok(val) => format!("{v}={val}"),
        Err(_) => v.to_string(),
    }
}

fn read_file(path: &str, lookup_env: bool) -> Result<Vec<String>, KvError> {
    let bytes = std::fs::read(path).map_err(|source| KvError::Open {
        path: path.to_string(),
        source,
    })?;
    let mut out = Vec::new();
    for (i, raw) in bytes.split(|b| *b == b'\n').enumerate() {
        let line = std::str::from_utf8(raw).map_err(|_| KvError::Utf8 {
            path: path.to_string(),
            line: i + 1,
        })?;
        let line = line.trim_end_matches('\r').trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, value) = match line.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (line, None),
        };
        if name.contains(char::is_whitespace) {
            return Err(KvError::Whitespace(name.to_string()));
        }
        match value {
            Some(v) => out.push(format!("{name}={v}")),
            None if lookup_env => out.push(env_value(name)),
            None => out.push(name.to_string()),
        }
    }
    Ok(out)
}

/// `opts.ReadKVEnvStrings`: env files, then `-e` values.
pub fn env_strings(files: &[String], values: &[String]) -> Result<Vec<String>, KvError> {
    let mut out = Vec::new();
    for f in files {
        out.extend(read_file(f, true)?);
    }
    out.extend(values.iter().map(|v| env_value(v)));
    Ok(out)
}

/// `opts.ReadKVStrings`: label files, then `-l` values.
pub fn kv_strings(files: &[String], values: &[String]) -> Result<Vec<String>, KvError> {
    let mut out = Vec::new();
    for f in files {
        out.extend(read_file(f, false)?);
    }
    out.extend(values.iter().cloned());
    Ok(out)
}

/// `opts.ConvertKVStringsToMap`: `k=v` pairs (a bare `k` maps to "").
pub fn to_map(kvs: &[String]) -> serde_json::Map<String, serde_json::Value> {
    let mut m = serde_json::Map::new();
    for kv in kvs {
        let (k, v) = kv.split_once('=').unwrap_or((kv.as_str(), ""));
        m.insert(k.to_string(), serde_json::Value::String(v.to_string()));
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_file_lines() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("env");
        std::fs::write(&p, "# comment\n\n  A=1\nB=x=y\nBERTH_SURELY_UNSET_VAR\n").unwrap();
        let p = p.display().to_string();
        assert_eq!(
            env_strings(std::slice::from_ref(&p), &["C=3".into()]).unwrap(),
            vec!["A=1", "B=x=y", "BERTH_SURELY_UNSET_VAR", "C=3"]
        );
        std::fs::write(dir.path().join("bad"), "A B=1\n").unwrap();
        let bad = dir.path().join("bad").display().to_string();
        assert_eq!(
            env_strings(&[bad], &[]).unwrap_err().to_string(),
            "variable 'A B' contains whitespaces"
        );
        assert_eq!(
            env_strings(&["/nonexistent/x".into()], &[])
                .unwrap_err()
                .to_string(),
            "open /nonexistent/x: no such file or directory"
        );
    }
}
