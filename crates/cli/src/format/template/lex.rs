//! The lexer of Go's `text/template`: text outside `{{ }}`, then the tokens
//! of an action (fields, variables, identifiers, keywords, literals, pipes,
//! parentheses, `:=`/`=`), with the trim markers `{{- ` / ` -}}` and
//! comments `{{/* */}}`.

/// What a token is.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// Plain text outside actions.
    Text(String),
    /// `{{`
    LeftDelim,
    /// `}}`
    RightDelim,
    /// Whitespace inside an action (separates arguments).
    Space,
    /// `.Name` (one element of a field chain).
    Field(String),
    /// `$name` or `$`.
    Variable(String),
    /// A function name.
    Identifier(String),
    /// `.` alone.
    Dot,
    /// `nil`.
    Nil,
    /// `true` / `false`.
    Bool(bool),
    /// A number literal as written.
    Number(String),
    /// A quoted string literal, unquoted; with the original text.
    Str(String, String),
    /// A character constant (its code point), with the original text.
    Char(i64, String),
    /// `|`
    Pipe,
    /// `(`
    LeftParen,
    /// `)`
    RightParen,
    /// `:=`
    Declare,
    /// `=`
    Assign,
    /// `,`
    Comma,
    /// `if`, `else`, `end`, `range`, `with`, `define`, `template`, `block`,
    /// `break`, `continue`.
    Keyword(&'static str),
    /// End of input.
    Eof,
}

/// A token and where it starts (byte offset in the template).
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// The token.
    pub tok: Tok,
    /// Byte offset.
    pub pos: usize,
}

/// A lexing error: message and byte offset.
#[derive(Debug, Clone)]
pub struct LexError {
    /// Go's message (`unclosed action`, `unterminated quoted string`...).
    pub msg: String,
    /// Byte offset.
    pub pos: usize,
}

const KEYWORDS: &[&str] = &[
    "if", "else", "end", "range", "with", "define", "template", "block", "break", "continue",
];

/// Split a template into tokens.
pub fn lex(src: &str) -> Result<Vec<Token>, LexError> {
    let mut l = Lexer {
        src,
        b: src.as_bytes(),
        pos: 0,
        out: Vec::new(),
        paren: 0,
    };
    l.run()?;
    Ok(l.out)
}

struct Lexer<'a> {
    src: &'a str,
    b: &'a [u8],
    pos: usize,
    out: Vec<Token>,
    paren: usize,
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_alnum(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

impl Lexer<'_> {
    fn emit(&mut self, tok: Tok, pos: usize) {
        self.out.push(Token { tok, pos });
    }

    fn err<T>(&self, msg: impl Into<String>, pos: usize) -> Result<T, LexError> {
        Err(LexError {
            msg: msg.into(),
            pos,
        })
    }

    fn run(&mut self) -> Result<(), LexError> {
        let mut trim_next_text = false;
        loop {
            // text up to the next "{{"
            let start = self.pos;
            let next = self.src[self.pos..].find("{{").map(|i| i + self.pos);
            let end = next.unwrap_or(self.src.len());
            let mut text = &self.src[start..end];
            if trim_next_text {
                text = text.trim_start_matches([' ', '\t', '\r', '\n']);
            }
            trim_next_text = false;
            let Some(open) = next else {
                if !text.is_empty() {
                    self.emit(Tok::Text(text.to_string()), start);
                }
                self.emit(Tok::Eof, self.src.len());
                return Ok(());
            };
            // left trim marker "{{- "
            let mut after = open + 2;
            let left_trim = self.b.get(after) == Some(&b'-')
                && self.b.get(after + 1).is_some_and(|c| is_space(*c));
            if left_trim {
                text = text.trim_end_matches([' ', '\t', '\r', '\n']);
                after += 2;
            }
            if !text.is_empty() {
                self.emit(Tok::Text(text.to_string()), start);
            }
            self.pos = after;
            // comment
            let rest = &self.src[self.pos..];
            let rest_trimmed = rest.trim_start_matches([' ', '\t', '\r', '\n']);
            if rest_trimmed.starts_with("/*") && (left_trim || rest.starts_with("/*")) {
                let cstart = self.pos + (rest.len() - rest_trimmed.len());
                let Some(close) = self.src[cstart + 2..].find("*/") else {
                    return self.err("unclosed comment", open);
                };
                let mut p = cstart + 2 + close + 2;
                // optional " -}}" or "}}"
                let tail = &self.src[p..];
                if tail.starts_with(" -}}")
                    || tail.starts_with("\t-}}")
                    || tail.starts_with("\n-}}")
                {
                    p += 4;
                    trim_next_text = true;
                } else if tail.starts_with("}}") {
                    p += 2;
                } else {
                    return self.err("comment ends before closing delimiter", open);
                }
                self.pos = p;
                continue;
            }
            self.emit(Tok::LeftDelim, open);
            trim_next_text = self.action(open)?;
        }
    }

    /// Tokens inside an action, up to and including `}}`. Returns whether
    /// the action ended with a right trim marker.
    fn action(&mut self, open: usize) -> Result<bool, LexError> {
        loop {
            let Some(&c) = self.b.get(self.pos) else {
                return self.err("unclosed action", open);
            };
            let pos = self.pos;
            // right delimiter, possibly with trim marker " -}}"
            if is_space(c) {
                let mut p = self.pos;
                while p < self.b.len() && is_space(self.b[p]) {
                    p += 1;
                }
                if self.src[p..].starts_with("-}}") {
                    if self.paren > 0 {
                        return self.err("unclosed left paren", pos);
                    }
                    self.emit(Tok::RightDelim, p);
                    self.pos = p + 3;
                    return Ok(true);
                }
                self.emit(Tok::Space, pos);
                self.pos = p;
                continue;
            }
            if self.src[self.pos..].starts_with("}}") {
                if self.paren > 0 {
                    return self.err("unclosed left paren", pos);
                }
                self.emit(Tok::RightDelim, pos);
                self.pos += 2;
                return Ok(false);
            }
            match c {
                b'=' => {
                    self.emit(Tok::Assign, pos);
                    self.pos += 1;
                }
                b':' => {
                    if self.b.get(self.pos + 1) != Some(&b'=') {
                        return self.err("expected :=", pos);
                    }
                    self.emit(Tok::Declare, pos);
                    self.pos += 2;
                }
                b'|' => {
                    self.emit(Tok::Pipe, pos);
                    self.pos += 1;
                }
                b',' => {
                    self.emit(Tok::Comma, pos);
                    self.pos += 1;
                }
                b'(' => {
                    self.paren += 1;
                    self.emit(Tok::LeftParen, pos);
                    self.pos += 1;
                }
                b')' => {
                    if self.paren == 0 {
                        return self.err("unexpected right paren", pos);
                    }
                    self.paren -= 1;
                    self.emit(Tok::RightParen, pos);
                    self.pos += 1;
                }
                b'"' => self.quote(pos)?,
                b'`' => {
                    let Some(end) = self.src[self.pos + 1..].find('`') else {
                        return self.err("unterminated raw quoted string", pos);
                    };
                    let body = &self.src[self.pos + 1..self.pos + 1 + end];
                    let raw = &self.src[self.pos..self.pos + end + 2];
                    self.emit(Tok::Str(body.to_string(), raw.to_string()), pos);
                    self.pos += end + 2;
                }
                b'\'' => self.char_constant(pos)?,
                b'$' => {
                    let name = self.word(self.pos + 1);
                    let text = format!("${name}");
                    self.pos += 1 + name.len();
                    self.emit(Tok::Variable(text), pos);
                }
                b'.' => {
                    if self.b.get(self.pos + 1).is_some_and(u8::is_ascii_digit) {
                        self.number(pos)?;
                    } else {
                        let name = self.word(self.pos + 1);
                        if name.is_empty() {
                            self.emit(Tok::Dot, pos);
                            self.pos += 1;
                        } else {
                            self.pos += 1 + name.len();
                            self.emit(Tok::Field(name), pos);
                        }
                    }
                }
                b'+' | b'-' | b'0'..=b'9' => self.number(pos)?,
                _ => {
                    let ch = self.src[self.pos..].chars().next().unwrap_or('\0');
                    if is_alnum(ch) {
                        let w = self.word(self.pos);
                        self.pos += w.len();
                        let tok = if let Some(k) = KEYWORDS.iter().find(|k| **k == w) {
                            Tok::Keyword(k)
                        } else if w == "true" {
                            Tok::Bool(true)
                        } else if w == "false" {
                            Tok::Bool(false)
                        } else if w == "nil" {
                            Tok::Nil
                        } else {
                            Tok::Identifier(w)
                        };
                        self.emit(tok, pos);
                    } else {
                        return self.err(format!("unrecognized character in action: {ch:?}"), pos);
                    }
                }
            }
        }
    }

    fn word(&self, from: usize) -> String {
        self.src[from..]
            .chars()
            .take_while(|c| is_alnum(*c))
            .collect()
    }

    fn number(&mut self, pos: usize) -> Result<(), LexError> {
        let mut p = self.pos;
        if matches!(self.b.get(p), Some(b'+' | b'-')) {
            p += 1;
        }
        while p < self.b.len()
            && (self.b[p].is_ascii_alphanumeric() || matches!(self.b[p], b'.' | b'_'))
        {
            // exponent sign
            if matches!(self.b[p], b'e' | b'E' | b'p' | b'P')
                && matches!(self.b.get(p + 1), Some(b'+' | b'-'))
                && !self.src[self.pos..p].starts_with("0x")
            {
                p += 2;
                continue;
            }
            p += 1;
        }
        let text = &self.src[self.pos..p];
        if text == "+" || text == "-" {
            return self.err(format!("bad number syntax: {text:?}"), pos);
        }
        self.emit(Tok::Number(text.to_string()), pos);
        self.pos = p;
        Ok(())
    }

    fn quote(&mut self, pos: usize) -> Result<(), LexError> {
        let mut p = self.pos + 1;
        loop {
            match self.b.get(p) {
                None | Some(b'\n') => return self.err("unterminated quoted string", pos),
                Some(b'\\') => p += 2,
                Some(b'"') => break,
                Some(_) => p += 1,
            }
        }
        let raw = &self.src[self.pos..=p];
        let body = unquote(&raw[1..raw.len() - 1]).ok_or_else(|| LexError {
            msg: format!("invalid syntax: {raw}"),
            pos,
        })?;
        self.emit(Tok::Str(body, raw.to_string()), pos);
        self.pos = p + 1;
        Ok(())
    }

    fn char_constant(&mut self, pos: usize) -> Result<(), LexError> {
        let mut p = self.pos + 1;
        loop {
            match self.b.get(p) {
                None | Some(b'\n') => return self.err("unterminated character constant", pos),
                Some(b'\\') => p += 2,
                Some(b'\'') => break,
                Some(_) => p += 1,
            }
        }
        let raw = &self.src[self.pos..=p];
        let body = unquote(&raw[1..raw.len() - 1]).unwrap_or_default();
        let mut chars = body.chars();
        let (Some(c), None) = (chars.next(), chars.next()) else {
            return self.err(format!("malformed character constant: {raw}"), pos);
        };
        self.emit(Tok::Char(c as i64, raw.to_string()), pos);
        self.pos = p + 1;
        Ok(())
    }
}

/// Go's escape sequences in a double-quoted string body.
fn unquote(s: &str) -> Option<String> {
    let mut out = String::new();
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next()? {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            'a' => out.push('\u{7}'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'v' => out.push('\u{b}'),
            '\\' => out.push('\\'),
            '"' => out.push('"'),
            '\'' => out.push('\''),
            'x' => {
                let h: String = [it.next()?, it.next()?].iter().collect();
                out.push(char::from(u8::from_str_radix(&h, 16).ok()?));
            }
            'u' => {
                let h: String = (0..4).filter_map(|_| it.next()).collect();
                out.push(char::from_u32(u32::from_str_radix(&h, 16).ok()?)?);
            }
            'U' => {
                let h: String = (0..8).filter_map(|_| it.next()).collect();
                out.push(char::from_u32(u32::from_str_radix(&h, 16).ok()?)?);
            }
            d @ '0'..='7' => {
                let o: String = [d, it.next()?, it.next()?].iter().collect();
                out.push(char::from(u8::from_str_radix(&o, 8).ok()?));
            }
            _ => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        lex(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn fields_and_text() {
        assert_eq!(
            toks("a {{.Repo.Tag}} b"),
            vec![
                Tok::Text("a ".into()),
                Tok::LeftDelim,
                Tok::Field("Repo".into()),
                Tok::Field("Tag".into()),
                Tok::RightDelim,
                Tok::Text(" b".into()),
                Tok::Eof
            ]
        );
    }

    #[test]
    fn trim_markers_and_comments() {
        assert_eq!(
            toks("a  {{- .X -}}  b{{/* c */}}d"),
            vec![
                Tok::Text("a".into()),
                Tok::LeftDelim,
                Tok::Field("X".into()),
                Tok::RightDelim,
                Tok::Text("b".into()),
                Tok::Text("d".into()),
                Tok::Eof
            ]
        );
    }

    #[test]
    fn literals_and_pipes() {
        assert_eq!(
            toks(r#"{{$x := index .L "k\n" | printf "%d" 'a' -1.5}}"#),
            vec![
                Tok::LeftDelim,
                Tok::Variable("$x".into()),
                Tok::Space,
                Tok::Declare,
                Tok::Space,
                Tok::Identifier("index".into()),
                Tok::Space,
                Tok::Field("L".into()),
                Tok::Space,
                Tok::Str("k\n".into(), "\"k\\n\"".into()),
                Tok::Space,
                Tok::Pipe,
                Tok::Space,
                Tok::Identifier("printf".into()),
                Tok::Space,
                Tok::Str("%d".into(), "\"%d\"".into()),
                Tok::Space,
                Tok::Char(97, "'a'".into()),
                Tok::Space,
                Tok::Number("-1.5".into()),
                Tok::RightDelim,
                Tok::Eof
            ]
        );
    }

    #[test]
    fn errors() {
        assert_eq!(lex("{{.X").unwrap_err().msg, "unclosed action");
        assert_eq!(
            lex("{{\"abc}}").unwrap_err().msg,
            "unterminated quoted string"
        );
        assert_eq!(lex("{{(.X}}").unwrap_err().msg, "unclosed left paren");
    }
}
