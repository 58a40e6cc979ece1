//! `--change` of `docker import` (and later `commit`): Dockerfile
//! instructions that only touch the image config, parsed into the image
//! crate's [`ConfigChanges`]. Dockerfile syntax as Docker reads it: exec
//! (JSON) or shell form for `CMD`/`ENTRYPOINT`, `key=value` pairs (quoted
//! or not) or the legacy `ENV key value` form.

use berth_image::import::ConfigChanges;

use super::ImageError;

/// Applies each `--change` line to `changes`.
pub fn parse_changes(lines: &[String]) -> Result<ConfigChanges, ImageError> {
    let mut changes = ConfigChanges::default();
    for line in lines {
        parse_one(line.trim(), &mut changes)?;
    }
    Ok(changes)
}

fn parse_one(line: &str, changes: &mut ConfigChanges) -> Result<(), ImageError> {
    if line.is_empty() {
        return Ok(());
    }
    let (instruction, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let rest = rest.trim();
    let invalid = |why: &str| ImageError::InvalidArgument(format!("{instruction} {why}"));
    match instruction.to_ascii_uppercase().as_str() {
        "CMD" => changes.cmd = Some(command(rest)),
        "ENTRYPOINT" => changes.entrypoint = Some(command(rest)),
        "ENV" => {
            for (k, v) in pairs(rest, true).map_err(|e| invalid(&e))? {
                changes.env.push(format!("{k}={v}"));
            }
        }
        "LABEL" => {
            for (k, v) in pairs(rest, false).map_err(|e| invalid(&e))? {
                changes.labels.insert(k, v);
            }
        }
        "EXPOSE" => changes.expose.extend(words(rest).map_err(|e| invalid(&e))?),
        "VOLUME" => match json_list(rest) {
            Some(list) => changes.volumes.extend(list),
            None => changes
                .volumes
                .extend(words(rest).map_err(|e| invalid(&e))?),
        },
        "USER" => changes.user = Some(single(rest)),
        "WORKDIR" => changes.working_dir = Some(single(rest)),
        "STOPSIGNAL" => changes.stop_signal = Some(single(rest)),
        // Docker accepts ONBUILD for import and ignores it.
        "ONBUILD" => {}
        _ => {
            return Err(ImageError::InvalidArgument(format!(
                "{} is not a valid change command",
                instruction.to_lowercase()
            )));
        }
    }
    Ok(())
}

/// Exec form (`["a","b"]`) or shell form (`a b` → `/bin/sh -c "a b"`).
fn command(rest: &str) -> Vec<String> {
    json_list(rest)
        .unwrap_or_else(|| vec!["/bin/sh".to_string(), "-c".to_string(), rest.to_string()])
}

fn json_list(rest: &str) -> Option<Vec<String>> {
    if rest.starts_with('[') {
        serde_json::from_str(rest).ok()
    } else {
        None
    }
}

/// One value, unquoted.
fn single(rest: &str) -> String {
    words(rest)
        .ok()
        .and_then(|w| (w.len() == 1).then(|| w[0].clone()))
        .unwrap_or_else(|| rest.to_string())
}

/// Whitespace-separated words; quotes group and are removed, `\` escapes.
fn words(s: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') | (None, '\\') => {
                if let Some(next) = chars.next() {
                    current.push(next);
                }
                in_word = true;
            }
            (Some(_), c) => current.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut current));
                    in_word = false;
                }
            }
            (None, c) => {
                current.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return Err("has an unterminated quote".to_string());
    }
    if in_word {
        out.push(current);
    }
    Ok(out)
}

/// `k=v k2="v 2"`, or (for ENV) the legacy `key value with spaces`.
fn pairs(rest: &str, legacy_allowed: bool) -> Result<Vec<(String, String)>, String> {
    let first = rest.split_whitespace().next().unwrap_or("");
    if !first.contains('=') {
        if !legacy_allowed {
            return Err("needs key=value pairs".to_string());
        }
        let (k, v) = rest
            .split_once(char::is_whitespace)
            .ok_or("needs a value")?;
        return Ok(vec![(k.to_string(), v.trim().to_string())]);
    }
    words(rest)?
        .into_iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => Err(format!("has a word without '=': {w}")),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(lines: &[&str]) -> ConfigChanges {
        parse_changes(&lines.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn docker_change_forms() {
        let c = parse(&[
            r#"CMD ["sh", "-c", "echo hi"]"#,
            "ENTRYPOINT top -b",
            r#"ENV A=1 B="two words""#,
            "ENV LEGACY some value",
            r#"LABEL a=b "c d"=e"#,
            "EXPOSE 80 53/udp",
            r#"VOLUME ["/data"]"#,
            "VOLUME /a /b",
            "USER nobody",
            "WORKDIR /srv",
            "STOPSIGNAL SIGINT",
            "ONBUILD RUN true",
        ]);
        assert_eq!(
            c.cmd,
            Some(vec!["sh".into(), "-c".into(), "echo hi".into()])
        );
        assert_eq!(
            c.entrypoint,
            Some(vec!["/bin/sh".into(), "-c".into(), "top -b".into()])
        );
        assert_eq!(c.env, ["A=1", "B=two words", "LEGACY=some value"]);
        assert_eq!(c.labels.get("c d").map(String::as_str), Some("e"));
        assert_eq!(c.expose, ["80", "53/udp"]);
        assert_eq!(c.volumes, ["/data", "/a", "/b"]);
        assert_eq!(c.user.as_deref(), Some("nobody"));
        assert_eq!(c.working_dir.as_deref(), Some("/srv"));
        assert_eq!(c.stop_signal.as_deref(), Some("SIGINT"));
    }

    #[test]
    fn refuses_what_docker_refuses() {
        for bad in ["RUN true", "FROM x", "ENV \"A=1", "LABEL novalue"] {
            assert!(parse_changes(&[bad.to_string()]).is_err(), "{bad}");
        }
        let e = parse_changes(&["RUN true".to_string()]).unwrap_err();
        assert_eq!(e.to_string(), "run is not a valid change command");
    }
}
