//! The first pass over a Dockerfile, as BuildKit's `parser` package (which
//! dockerd 20.10's classic builder vendors) does it: parser directives at
//! the top (`# escape=`, `# syntax=`), comments, empty lines, line
//! continuations, and each logical line split into its instruction word,
//! its leading `--flags` and the rest. What the rest means is
//! [`crate::instructions`]'s business.

/// One logical line of a Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The instruction word, lower case (`run`).
    pub cmd: String,
    /// Line numbers (1-based) where it starts and ends.
    pub start_line: usize,
    pub end_line: usize,
    /// The logical line as written (continuations joined), trimmed: what
    /// `Step N/M :` prints.
    pub original: String,
    /// `--name=value` or `--name` flags before the arguments.
    pub flags: Vec<String>,
    /// Everything after the flags.
    pub rest: String,
}

/// A Dockerfile split into logical lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// The escape character (`\` unless `# escape=` says otherwise).
    pub escape: char,
    pub nodes: Vec<Node>,
}

/// Directives are only read before anything else.
fn directive(line: &str) -> Option<(String, String)> {
    let body = line.trim().strip_prefix('#')?.trim();
    let (name, value) = body.split_once('=')?;
    let name = name.trim();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    Some((name.to_ascii_lowercase(), value.trim().to_string()))
}

fn is_comment(line: &str) -> bool {
    line.trim_start().starts_with('#')
}

/// Strips a trailing escape character (and the blanks after it); true if
/// the line continues.
fn continuation(line: &str, escape: char) -> (String, bool) {
    let trimmed = line.trim_end_matches([' ', '\t']);
    match trimmed.strip_suffix(escape) {
        Some(before) => (before.to_string(), true),
        None => (line.to_string(), false),
    }
}

/// Splits `text` into logical lines. Never fails: what an instruction's
/// arguments mean is checked later.
pub fn parse(text: &str) -> Result<Parsed, crate::ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let mut escape = '\\';
    let mut i = 0;
    // Parser directives: `# name=value` lines at the very top.
    let mut seen = std::collections::HashSet::new();
    while i < lines.len() {
        let Some((name, value)) = directive(lines[i]) else {
            break;
        };
        if !seen.insert(name.clone()) {
            return Err(crate::ParseError::new(
                i + 1,
                format!("only one {name} parser directive can be used"),
            ));
        }
        if name == "escape" {
            escape = match value.as_str() {
                "\\" => '\\',
                "`" => '`',
                other => {
                    return Err(crate::ParseError::new(
                        i + 1,
                        format!("invalid ESCAPE '{other}'. Must be ` or \\"),
                    ));
                }
            };
        }
        i += 1;
    }
    let mut nodes = Vec::new();
    while i < lines.len() {
        let first = lines[i].trim_start();
        i += 1;
        let start_line = i;
        if first.is_empty() || is_comment(first) {
            continue;
        }
        let (mut line, mut more) = continuation(first, escape);
        while more && i < lines.len() {
            let next = lines[i];
            i += 1;
            if is_comment(next) || next.trim().is_empty() {
                continue;
            }
            let (part, again) = continuation(next, escape);
            line.push_str(&part);
            more = again;
        }
        let line = line.trim().to_string();
        if line.is_empty() {
            continue;
        }
        let (word, args) = match line.split_once(|c: char| c.is_whitespace()) {
            Some((w, a)) => (w, a.trim_start()),
            None => (line.as_str(), ""),
        };
        let (flags, rest) = split_flags(args);
        nodes.push(Node {
            cmd: word.to_ascii_lowercase(),
            start_line,
            end_line: i,
            original: line.clone(),
            flags,
            rest,
        });
    }
    Ok(Parsed { escape, nodes })
}

/// BuildKit's `extractBuilderFlags`: leading words that start with `--`.
fn split_flags(args: &str) -> (Vec<String>, String) {
    let mut flags = Vec::new();
    let mut rest = args.trim_start();
    while rest.starts_with("--") {
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let word = &rest[..end];
        rest = rest[end..].trim_start();
        if word == "--" {
            break;
        }
        flags.push(word.to_string());
    }
    (flags, rest.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuations_comments_and_blank_lines() {
        let p = parse(
            "# syntax=docker/dockerfile:1\n\n# a comment\nFROM busybox\nRUN echo a \\\n  # inside\n\n    b\n  run  --mount=x  true\n",
        )
        .unwrap();
        assert_eq!(p.escape, '\\');
        assert_eq!(p.nodes.len(), 3);
        assert_eq!(p.nodes[0].cmd, "from");
        assert_eq!(p.nodes[0].start_line, 4);
        assert_eq!(p.nodes[1].original, "RUN echo a     b");
        assert_eq!(p.nodes[1].rest, "echo a     b");
        assert_eq!((p.nodes[1].start_line, p.nodes[1].end_line), (5, 8));
        assert_eq!(p.nodes[2].flags, ["--mount=x"]);
        assert_eq!(p.nodes[2].rest, "true");
    }

    #[test]
    fn escape_directive() {
        let p = parse("# escape=`\nFROM x\nRUN dir c:\\ `\n  foo\n").unwrap();
        assert_eq!(p.escape, '`');
        assert_eq!(p.nodes[1].rest, "dir c:\\   foo");
        // A directive after an instruction is a comment.
        let p = parse("FROM x\n# escape=`\nRUN a \\\n b").unwrap();
        assert_eq!(p.escape, '\\');
        assert_eq!(p.nodes[1].rest, "a  b");
        assert!(parse("# escape=x\nFROM x").is_err());
    }

    #[test]
    fn crlf_and_bom() {
        let p = parse("\u{feff}FROM a\r\nCMD [\"x\"]\r\n").unwrap();
        assert_eq!(p.nodes[1].rest, "[\"x\"]");
    }
}
