//! `.dockerignore`: reading the file as dockerd 20.10's `dockerignore.ReadAll`
//! does (comments, blank lines, `!` exceptions, leading `/`, cleaned
//! paths) and matching context paths as its `fileutils.PatternMatcher`
//! does: `*` and `?` stop at `/`, `**` crosses directories, `[…]` classes,
//! `\` escapes, a pattern that matches a parent directory matches what is
//! inside it, and the last matching pattern decides.

/// One line of a `.dockerignore`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    /// The cleaned pattern, without its `!`.
    pub text: String,
    /// `!pattern`: an exception.
    pub exclusion: bool,
    tokens: Vec<Token>,
    /// How many path elements it has (to match against parents).
    dirs: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Char(char),
    /// `?`: one character but `/`.
    One,
    /// `*`: any run of characters without `/`.
    Star,
    /// `**` (followed by more): any run of directories, `(.*/)?`.
    Dirs,
    /// `**` at the end: anything.
    All,
    /// `[…]`: ranges, negated.
    Class(Vec<(char, char)>, bool),
}

/// A `.dockerignore` pattern that cannot be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("syntax error in pattern {0:?}")]
pub struct PatternError(pub String);

/// Go's `filepath.Clean` for `/`-separated relative paths.
pub fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for p in path.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            p => parts.push(p),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// Reads the patterns of a `.dockerignore`.
pub fn read(text: &str) -> Result<Vec<Pattern>, PatternError> {
    let mut out = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') {
            continue;
        }
        let mut p = line.trim();
        if p.is_empty() {
            continue;
        }
        let exclusion = p.starts_with('!');
        if exclusion {
            p = p[1..].trim();
        }
        if p.is_empty() {
            continue;
        }
        let mut text = clean(p);
        if text.len() > 1 && text.starts_with('/') {
            text.remove(0);
        }
        out.push(Pattern::new(&text, exclusion)?);
    }
    Ok(out)
}

impl Pattern {
    pub fn new(text: &str, exclusion: bool) -> Result<Pattern, PatternError> {
        let chars: Vec<char> = text.chars().collect();
        let mut tokens = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            i += 1;
            match c {
                '*' if chars.get(i) == Some(&'*') => {
                    i += 1;
                    if chars.get(i) == Some(&'/') {
                        i += 1;
                    }
                    tokens.push(if i >= chars.len() {
                        Token::All
                    } else {
                        Token::Dirs
                    });
                }
                '*' => tokens.push(Token::Star),
                '?' => tokens.push(Token::One),
                '\\' => match chars.get(i) {
                    Some(&n) => {
                        i += 1;
                        tokens.push(Token::Char(n));
                    }
                    None => tokens.push(Token::Char('\\')),
                },
                '[' => {
                    let mut negated = false;
                    if matches!(chars.get(i), Some('^' | '!')) {
                        negated = true;
                        i += 1;
                    }
                    let mut ranges = Vec::new();
                    let mut closed = false;
                    while i < chars.len() {
                        let mut lo = chars[i];
                        i += 1;
                        if lo == ']' && !ranges.is_empty() {
                            closed = true;
                            break;
                        }
                        if lo == ']' {
                            closed = true;
                            break;
                        }
                        if lo == '\\' {
                            lo = *chars.get(i).ok_or_else(|| PatternError(text.into()))?;
                            i += 1;
                        }
                        let mut hi = lo;
                        if chars.get(i) == Some(&'-') && chars.get(i + 1).is_some_and(|c| *c != ']')
                        {
                            hi = chars[i + 1];
                            i += 2;
                        }
                        ranges.push((lo, hi));
                    }
                    if !closed {
                        return Err(PatternError(text.into()));
                    }
                    tokens.push(Token::Class(ranges, negated));
                }
                c => tokens.push(Token::Char(c)),
            }
        }
        Ok(Pattern {
            text: text.to_string(),
            exclusion,
            dirs: text.split('/').count(),
            tokens,
        })
    }

    /// Whether the whole of `path` matches.
    pub fn matches(&self, path: &str) -> bool {
        let chars: Vec<char> = path.chars().collect();
        match_here(&self.tokens, &chars)
    }
}

/// Whether `tokens` match all of `s`: a table over (token, position),
/// filled from the end, so any pattern costs at most tokens × characters
/// (no backtracking blow-up on `*a*a*a…`).
fn match_here(tokens: &[Token], s: &[char]) -> bool {
    let m = s.len();
    // row[j]: tokens[i..] match s[j..]; `next` is the row of i + 1.
    let mut next = vec![false; m + 1];
    next[m] = true;
    for t in tokens.iter().rev() {
        let mut row = vec![false; m + 1];
        match t {
            Token::All => row.iter_mut().for_each(|r| *r = true),
            Token::Star => {
                for j in (0..=m).rev() {
                    row[j] = next[j] || (j < m && s[j] != '/' && row[j + 1]);
                }
            }
            Token::Dirs => {
                // Zero directories, or any prefix that ends in '/'.
                let mut later_slash = false;
                for j in (0..=m).rev() {
                    if j < m && s[j] == '/' && next[j + 1] {
                        later_slash = true;
                    }
                    row[j] = next[j] || later_slash;
                }
            }
            one => {
                for j in 0..m {
                    let c = s[j];
                    let ok = match one {
                        Token::Char(x) => c == *x,
                        Token::One => c != '/',
                        Token::Class(ranges, negated) => {
                            c != '/'
                                && ranges.iter().any(|(lo, hi)| *lo <= c && c <= *hi) != *negated
                        }
                        _ => false,
                    };
                    row[j] = ok && next[j + 1];
                }
            }
        }
        next = row;
    }
    next[0]
}

/// Whether `path` (relative to the context, `/`-separated) is excluded by
/// `patterns`: dockerd's `fileutils.Matches`.
pub fn excluded(path: &str, patterns: &[Pattern]) -> bool {
    let path = clean(path);
    let parent = match path.rfind('/') {
        Some(i) => &path[..i],
        None => ".",
    };
    let parent_dirs: Vec<&str> = parent.split('/').collect();
    let mut matched = false;
    for p in patterns {
        let mut m = p.matches(&path);
        if !m && parent != "." && p.dirs <= parent_dirs.len() {
            m = p.matches(&parent_dirs[..p.dirs].join("/"));
        }
        if m {
            matched = !p.exclusion;
        }
    }
    matched
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pats(text: &str) -> Vec<Pattern> {
        read(text).unwrap()
    }

    #[test]
    fn reading_like_dockerd() {
        let p = pats("# comment\n\n  spaced  \n!  keep/me \n/rooted/./x\n\t\t\n #notcomment\n");
        let texts: Vec<(&str, bool)> = p.iter().map(|p| (p.text.as_str(), p.exclusion)).collect();
        assert_eq!(
            texts,
            [
                ("spaced", false),
                ("keep/me", true),
                ("rooted/x", false),
                ("#notcomment", false)
            ]
        );
    }

    #[test]
    fn docker_py_dockerignore_case() {
        let p = pats(
            "ignored\nDockerfile\n.dockerignore\n ignored-with-spaces \n!ignored/subdir/excepted-file\n! ignored/subdir/excepted-with-spaces  \n#*\n",
        );
        assert!(excluded("ignored", &p));
        assert!(excluded("ignored/subdir/file", &p));
        assert!(!excluded("ignored/subdir/excepted-file", &p));
        assert!(!excluded("ignored/subdir/excepted-with-spaces", &p));
        assert!(excluded("Dockerfile", &p));
        assert!(excluded(".dockerignore", &p));
        assert!(excluded("ignored-with-spaces", &p));
        assert!(!excluded("#file.txt", &p));
        assert!(!excluded("not-ignored", &p));
    }

    #[test]
    fn globs() {
        let p = pats("*.md\n!README.md\n**/*.tmp\ndocs/**\nsrc/?/x\n[ab]c\n");
        assert!(excluded("a.md", &p));
        assert!(!excluded("README.md", &p));
        assert!(!excluded("sub/a.md", &p), "* stops at /");
        assert!(excluded("x.tmp", &p));
        assert!(excluded("a/b/c/x.tmp", &p));
        assert!(excluded("docs/a/b", &p));
        assert!(excluded("src/1/x", &p));
        assert!(!excluded("src/12/x", &p));
        assert!(excluded("ac", &p));
        assert!(!excluded("cc", &p));
        let p = pats("**\n!keep\n");
        assert!(excluded("anything/at/all", &p));
        assert!(!excluded("keep", &p));
        let p = pats("a\\*b\n");
        assert!(excluded("a*b", &p));
        assert!(!excluded("axb", &p));
        // No backtracking blow-up.
        let p = pats(&format!("{}b\n", "*a".repeat(30)));
        assert!(!excluded(&"a".repeat(200), &p));
    }

    #[test]
    fn cleaning() {
        assert_eq!(clean("./a//b/../c/"), "a/c");
        assert_eq!(clean("/x/../.."), "/");
        assert_eq!(clean(""), ".");
    }
}
