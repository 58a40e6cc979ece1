//! Docker's word expansion (BuildKit's `shell.Lex`, what `ENV`, `LABEL`,
//! `COPY`, `WORKDIR`, `USER`… arguments go through): `$VAR`, `${VAR}`,
//! `${VAR:-default}`, `${VAR:+alt}`, `${VAR-default}`, `${VAR+alt}`,
//! single quotes (literal), double quotes (expanded), and the escape
//! character. Quotes are removed from the result.

/// A word that cannot be expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExpandError {
    #[error("unexpected end of statement while looking for matching single-quote")]
    UnterminatedSingle,
    #[error("unexpected end of statement while looking for matching double-quote")]
    UnterminatedDouble,
    #[error("missing '}}'")]
    MissingBrace,
    #[error("bad substitution")]
    BadSubstitution,
    #[error("unsupported modifier ({0}) in substitution")]
    UnsupportedModifier(char),
    #[error("{name}: {message}")]
    Required { name: String, message: String },
}

/// Expands words against an environment (`KEY=value` entries; the last
/// of a name wins, as Docker's lookup over `Env` then build args does).
#[derive(Debug, Clone)]
pub struct Expander<'a> {
    env: &'a [String],
    escape: char,
}

impl<'a> Expander<'a> {
    pub fn new(env: &'a [String], escape: char) -> Expander<'a> {
        Expander { env, escape }
    }

    fn lookup(&self, name: &str) -> Option<&'a str> {
        self.env.iter().rev().find_map(|e| {
            let (k, v) = e.split_once('=').unwrap_or((e.as_str(), ""));
            (k == name).then_some(v)
        })
    }

    /// One word (quotes removed, nothing split).
    pub fn word(&self, word: &str) -> Result<String, ExpandError> {
        let chars: Vec<char> = word.chars().collect();
        let mut lex = Lex {
            x: self,
            chars: &chars,
            pos: 0,
        };
        let words = lex.process(None, false)?;
        Ok(words.join(""))
    }

    /// Words split on unquoted whitespace (also inside unquoted
    /// expansions), quotes removed.
    pub fn words(&self, word: &str) -> Result<Vec<String>, ExpandError> {
        let chars: Vec<char> = word.chars().collect();
        let mut lex = Lex {
            x: self,
            chars: &chars,
            pos: 0,
        };
        lex.process(None, true)
    }
}

struct Lex<'a, 'b> {
    x: &'b Expander<'a>,
    chars: &'b [char],
    pos: usize,
}

/// Words being built: `split` turns unquoted whitespace into breaks.
struct Words {
    split: bool,
    out: Vec<String>,
    current: String,
    in_word: bool,
}

impl Words {
    fn raw(&mut self, c: char) {
        self.current.push(c);
        self.in_word = true;
    }

    fn add(&mut self, c: char) {
        if self.split && c.is_whitespace() {
            if self.in_word {
                self.out.push(std::mem::take(&mut self.current));
                self.in_word = false;
            }
        } else {
            self.raw(c);
        }
    }

    fn finish(mut self) -> Vec<String> {
        if self.in_word || (!self.split && self.out.is_empty()) {
            self.out.push(self.current);
        }
        self.out
    }
}

impl Lex<'_, '_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }

    fn process(&mut self, stop: Option<char>, split: bool) -> Result<Vec<String>, ExpandError> {
        let mut w = Words {
            split,
            out: Vec::new(),
            current: String::new(),
            in_word: false,
        };
        loop {
            let Some(c) = self.peek() else {
                if stop.is_some() {
                    return Err(ExpandError::MissingBrace);
                }
                break;
            };
            if Some(c) == stop {
                self.pos += 1;
                break;
            }
            match c {
                '\'' => {
                    self.pos += 1;
                    w.in_word = true;
                    loop {
                        match self.next() {
                            None => return Err(ExpandError::UnterminatedSingle),
                            Some('\'') => break,
                            Some(c) => w.raw(c),
                        }
                    }
                }
                '"' => {
                    self.pos += 1;
                    w.in_word = true;
                    loop {
                        match self.next() {
                            None => return Err(ExpandError::UnterminatedDouble),
                            Some('"') => break,
                            Some('$') => {
                                let v = self.dollar()?;
                                v.chars().for_each(|c| w.raw(c));
                            }
                            Some(c) if c == self.x.escape => match self.peek() {
                                Some(n) if n == '"' || n == '$' || n == self.x.escape => {
                                    self.pos += 1;
                                    w.raw(n);
                                }
                                _ => w.raw(c),
                            },
                            Some(c) => w.raw(c),
                        }
                    }
                }
                '$' => {
                    self.pos += 1;
                    let v = self.dollar()?;
                    v.chars().for_each(|c| w.add(c));
                }
                c if c == self.x.escape => {
                    self.pos += 1;
                    match self.next() {
                        // An escape at the end is dropped.
                        None => break,
                        Some(n) => w.raw(n),
                    }
                }
                c => {
                    self.pos += 1;
                    w.add(c);
                }
            }
        }
        Ok(w.finish())
    }

    fn name(&mut self) -> String {
        let mut name = String::new();
        if let Some(c) = self.peek()
            && c.is_ascii_digit()
        {
            self.pos += 1;
            return c.to_string();
        }
        while let Some(c) = self.peek() {
            if c.is_alphanumeric() || c == '_' {
                name.push(c);
                self.pos += 1;
            } else {
                break;
            }
        }
        name
    }

    /// After a `$`.
    fn dollar(&mut self) -> Result<String, ExpandError> {
        if self.peek() != Some('{') {
            let name = self.name();
            if name.is_empty() {
                return Ok("$".to_string());
            }
            return Ok(self.x.lookup(&name).unwrap_or("").to_string());
        }
        self.pos += 1;
        let name = self.name();
        if name.is_empty() {
            return Err(ExpandError::BadSubstitution);
        }
        let value = self.x.lookup(&name);
        match self.next() {
            Some('}') => Ok(value.unwrap_or("").to_string()),
            Some(':') => {
                let modifier = self.next().ok_or(ExpandError::MissingBrace)?;
                let word = self.process(Some('}'), false)?.join("");
                let set = value.is_some_and(|v| !v.is_empty());
                match modifier {
                    '-' => Ok(if set { value.unwrap_or("") } else { &word }.to_string()),
                    '+' => Ok(if set { word } else { String::new() }),
                    '?' if !set => Err(ExpandError::Required {
                        name,
                        message: if word.is_empty() {
                            "is not allowed to be unset".to_string()
                        } else {
                            word
                        },
                    }),
                    '?' => Ok(value.unwrap_or("").to_string()),
                    m => Err(ExpandError::UnsupportedModifier(m)),
                }
            }
            Some(m @ ('-' | '+' | '?')) => {
                let word = self.process(Some('}'), false)?.join("");
                match (m, value) {
                    ('-', Some(v)) | ('?', Some(v)) => Ok(v.to_string()),
                    ('-', None) => Ok(word),
                    ('+', Some(_)) => Ok(word),
                    ('+', None) => Ok(String::new()),
                    _ => Err(ExpandError::Required {
                        name,
                        message: if word.is_empty() {
                            "is not allowed to be unset".to_string()
                        } else {
                            word
                        },
                    }),
                }
            }
            Some(m) => Err(ExpandError::UnsupportedModifier(m)),
            None => Err(ExpandError::MissingBrace),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Vec<String> {
        vec![
            "A=hello".into(),
            "EMPTY=".into(),
            "SP=a b".into(),
            "A=world".into(),
        ]
    }

    #[test]
    fn variables_and_modifiers() {
        let env = env();
        let x = Expander::new(&env, '\\');
        assert_eq!(x.word("$A").unwrap(), "world");
        assert_eq!(x.word("${A}x").unwrap(), "worldx");
        assert_eq!(x.word("pre-$NOPE-post").unwrap(), "pre--post");
        assert_eq!(x.word("${NOPE:-dflt}").unwrap(), "dflt");
        assert_eq!(x.word("${EMPTY:-dflt}").unwrap(), "dflt");
        assert_eq!(x.word("${EMPTY-dflt}").unwrap(), "");
        assert_eq!(x.word("${A:-dflt}").unwrap(), "world");
        assert_eq!(x.word("${A:+alt}").unwrap(), "alt");
        assert_eq!(x.word("${NOPE:+alt}").unwrap(), "");
        assert_eq!(x.word("${NOPE:-$A}").unwrap(), "world");
        assert_eq!(x.word("$").unwrap(), "$");
        assert_eq!(x.word("a$").unwrap(), "a$");
        assert!(x.word("${A").is_err());
        assert!(x.word("${}").is_err());
        assert!(x.word("${NOPE:?must be set}").is_err());
    }

    #[test]
    fn quotes_and_escapes() {
        let env = env();
        let x = Expander::new(&env, '\\');
        assert_eq!(x.word("'$A'").unwrap(), "$A");
        assert_eq!(x.word("\"$A there\"").unwrap(), "world there");
        assert_eq!(x.word("\\$A").unwrap(), "$A");
        assert_eq!(x.word("\"a\\\"b\\n\"").unwrap(), "a\"b\\n");
        assert_eq!(x.word("a\\ b").unwrap(), "a b");
        assert!(x.word("'abc").is_err());
        assert!(x.word("\"abc").is_err());
        let x = Expander::new(&env, '`');
        assert_eq!(x.word("`$A c:\\dir").unwrap(), "$A c:\\dir");
    }

    #[test]
    fn splitting_words() {
        let env = env();
        let x = Expander::new(&env, '\\');
        assert_eq!(x.words("a  $SP \"c d\"").unwrap(), ["a", "a", "b", "c d"]);
        assert_eq!(x.words("  ").unwrap(), Vec::<String>::new());
        assert_eq!(x.words("''").unwrap(), [""]);
    }
}
