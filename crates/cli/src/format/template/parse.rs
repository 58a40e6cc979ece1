//! The parse tree of Go's `text/template` and its parser: text, actions,
//! `if`/`else if`/`else`, `range` (with `$i, $e :=`, `else`, `break`,
//! `continue`), `with` (and `else with`), `define`/`template`/`block`,
//! pipelines of commands, variables, fields and literals. Errors carry Go's
//! wording (`unexpected EOF`, `function "x" not defined`, ...).

use std::collections::HashMap;

use super::lex::{Tok, Token, lex};

/// A parse error (Go's message and the byte offset it refers to).
#[derive(Debug, Clone)]
pub struct ParseError {
    /// The message, without the `template: :LINE:` prefix.
    pub msg: String,
    /// Byte offset.
    pub pos: usize,
}

/// A node of the template body.
#[derive(Debug, Clone)]
pub enum Node {
    /// Literal text.
    Text(String),
    /// `{{pipeline}}`.
    Action(Pipe),
    /// `{{if}}`, `{{with}}` or `{{range}}`.
    Branch(Branch),
    /// `{{break}}`.
    Break,
    /// `{{continue}}`.
    Continue,
    /// `{{template "name" pipeline}}`.
    Template {
        /// Byte offset.
        pos: usize,
        /// The template's name.
        name: String,
        /// Its data.
        pipe: Option<Pipe>,
    },
}

/// Which control structure a branch is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BranchKind {
    /// `if`
    If,
    /// `with`
    With,
    /// `range`
    Range,
}

/// A control structure.
#[derive(Debug, Clone)]
pub struct Branch {
    /// Which one.
    pub kind: BranchKind,
    /// Byte offset of the keyword.
    pub pos: usize,
    /// The condition or range pipeline.
    pub pipe: Pipe,
    /// The body.
    pub list: Vec<Node>,
    /// The `else` body.
    pub else_list: Option<Vec<Node>>,
}

/// A pipeline: optional variable declarations and commands joined by `|`.
#[derive(Debug, Clone)]
pub struct Pipe {
    /// Byte offset.
    pub pos: usize,
    /// Declared or assigned variables.
    pub decl: Vec<String>,
    /// `=` rather than `:=`.
    pub is_assign: bool,
    /// The commands.
    pub cmds: Vec<Command>,
}

/// One command of a pipeline: operands separated by spaces.
#[derive(Debug, Clone)]
pub struct Command {
    /// Byte offset.
    pub pos: usize,
    /// The operands; the first may be a function.
    pub args: Vec<Arg>,
}

/// An operand.
#[derive(Debug, Clone)]
pub enum Arg {
    /// `.A.B`
    Field(usize, Vec<String>),
    /// `$x.A.B`
    Variable(usize, String, Vec<String>),
    /// `(pipeline).A.B` or a chained literal.
    Chain(usize, Box<Arg>, Vec<String>),
    /// `.`
    Dot(usize),
    /// `nil`
    Nil(usize),
    /// `true`/`false`
    Bool(usize, bool),
    /// A number literal (text as written).
    Number(usize, String),
    /// A character constant.
    Char(usize, i64, String),
    /// A string literal (value, text as written).
    Str(usize, String, String),
    /// A function name.
    Identifier(usize, String),
    /// `(pipeline)`
    Pipe(usize, Box<Pipe>),
}

impl Arg {
    /// Byte offset.
    pub fn pos(&self) -> usize {
        match self {
            Arg::Field(p, _)
            | Arg::Variable(p, _, _)
            | Arg::Chain(p, _, _)
            | Arg::Dot(p)
            | Arg::Nil(p)
            | Arg::Bool(p, _)
            | Arg::Number(p, _)
            | Arg::Char(p, _, _)
            | Arg::Str(p, _, _)
            | Arg::Identifier(p, _)
            | Arg::Pipe(p, _) => *p,
        }
    }
}

impl std::fmt::Display for Arg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Arg::Field(_, idents) => {
                for i in idents {
                    write!(f, ".{i}")?;
                }
                Ok(())
            }
            Arg::Variable(_, name, idents) => {
                write!(f, "{name}")?;
                for i in idents {
                    write!(f, ".{i}")?;
                }
                Ok(())
            }
            Arg::Chain(_, node, idents) => {
                match node.as_ref() {
                    Arg::Pipe(_, p) => write!(f, "({p})")?,
                    other => write!(f, "{other}")?,
                }
                for i in idents {
                    write!(f, ".{i}")?;
                }
                Ok(())
            }
            Arg::Dot(_) => write!(f, "."),
            Arg::Nil(_) => write!(f, "nil"),
            Arg::Bool(_, b) => write!(f, "{b}"),
            Arg::Number(_, t) | Arg::Char(_, _, t) | Arg::Str(_, _, t) => write!(f, "{t}"),
            Arg::Identifier(_, n) => write!(f, "{n}"),
            Arg::Pipe(_, p) => write!(f, "({p})"),
        }
    }
}

impl std::fmt::Display for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, a) in self.args.iter().enumerate() {
            if i > 0 {
                write!(f, " ")?;
            }
            write!(f, "{a}")?;
        }
        Ok(())
    }
}

impl std::fmt::Display for Pipe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.decl.is_empty() {
            write!(f, "{}", self.decl.join(", "))?;
            write!(f, "{}", if self.is_assign { " = " } else { " := " })?;
        }
        for (i, c) in self.cmds.iter().enumerate() {
            if i > 0 {
                write!(f, " | ")?;
            }
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

/// A parsed template: the main body and the `define`d ones.
#[derive(Debug, Clone, Default)]
pub struct Tree {
    /// The body.
    pub root: Vec<Node>,
    /// Named templates from `{{define}}` and `{{block}}`.
    pub defined: HashMap<String, Vec<Node>>,
}

/// Parse `src`; `funcs` are the function names that exist.
pub fn parse(src: &str, funcs: &dyn Fn(&str) -> bool) -> Result<Tree, ParseError> {
    let toks = lex(src).map_err(|e| ParseError {
        msg: e.msg,
        pos: e.pos,
    })?;
    let mut p = Parser {
        toks,
        i: 0,
        funcs,
        vars: vec!["$".to_string()],
        defined: HashMap::new(),
        range_depth: 0,
    };
    let (root, end) = p.list()?;
    match end {
        End::Eof => {}
        End::Close(pos) => {
            return Err(ParseError {
                msg: "unexpected {{end}}".into(),
                pos,
            });
        }
        End::Else(pos, _) => {
            return Err(ParseError {
                msg: "unexpected {{else}}".into(),
                pos,
            });
        }
    }
    Ok(Tree {
        root,
        defined: p.defined,
    })
}

enum End {
    Eof,
    /// `{{end}}`
    Close(usize),
    /// `{{else}}` (None) or `{{else if|with ...}}` (the keyword).
    Else(usize, Option<&'static str>),
}

struct Parser<'a> {
    toks: Vec<Token>,
    i: usize,
    funcs: &'a dyn Fn(&str) -> bool,
    vars: Vec<String>,
    defined: HashMap<String, Vec<Node>>,
    range_depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        self.toks.get(self.i).map_or(&Tok::Eof, |t| &t.tok)
    }

    fn pos(&self) -> usize {
        self.toks.get(self.i).map_or(0, |t| t.pos)
    }

    fn next(&mut self) -> Token {
        let t = self.toks.get(self.i).cloned().unwrap_or(Token {
            tok: Tok::Eof,
            pos: 0,
        });
        self.i += 1;
        t
    }

    fn skip_space(&mut self) {
        while *self.peek() == Tok::Space {
            self.i += 1;
        }
    }

    fn err<T>(&self, msg: impl Into<String>, pos: usize) -> Result<T, ParseError> {
        Err(ParseError {
            msg: msg.into(),
            pos,
        })
    }

    /// Nodes up to `{{end}}`, `{{else}}` or EOF.
    fn list(&mut self) -> Result<(Vec<Node>, End), ParseError> {
        let mut nodes = Vec::new();
        loop {
            let t = self.next();
            match t.tok {
                Tok::Eof => return Ok((nodes, End::Eof)),
                Tok::Text(s) => nodes.push(Node::Text(s)),
                Tok::LeftDelim => {
                    self.skip_space();
                    let kpos = self.pos();
                    match self.peek().clone() {
                        Tok::Keyword("end") => {
                            self.i += 1;
                            self.close()?;
                            return Ok((nodes, End::Close(kpos)));
                        }
                        Tok::Keyword("else") => {
                            self.i += 1;
                            self.skip_space();
                            match self.peek().clone() {
                                Tok::Keyword(k @ ("if" | "with")) => {
                                    // "{{else if ...}}": the keyword is read
                                    // by the caller's nested branch.
                                    return Ok((nodes, End::Else(kpos, Some(k))));
                                }
                                _ => {
                                    self.close()?;
                                    return Ok((nodes, End::Else(kpos, None)));
                                }
                            }
                        }
                        Tok::Keyword("if") => {
                            self.i += 1;
                            nodes.push(self.branch(BranchKind::If, kpos)?);
                        }
                        Tok::Keyword("with") => {
                            self.i += 1;
                            nodes.push(self.branch(BranchKind::With, kpos)?);
                        }
                        Tok::Keyword("range") => {
                            self.i += 1;
                            nodes.push(self.branch(BranchKind::Range, kpos)?);
                        }
                        Tok::Keyword("break") | Tok::Keyword("continue") => {
                            let is_break = *self.peek() == Tok::Keyword("break");
                            self.i += 1;
                            if self.range_depth == 0 {
                                let w = if is_break { "break" } else { "continue" };
                                return self
                                    .err(format!("{{{{{w}}}}} outside {{{{range}}}}"), kpos);
                            }
                            self.close()?;
                            nodes.push(if is_break {
                                Node::Break
                            } else {
                                Node::Continue
                            });
                        }
                        Tok::Keyword("template") => {
                            self.i += 1;
                            nodes.push(self.template_call(kpos)?);
                        }
                        Tok::Keyword("define") => {
                            self.i += 1;
                            self.define(kpos)?;
                        }
                        Tok::Keyword("block") => {
                            self.i += 1;
                            let name = self.template_name(kpos, "block")?;
                            self.skip_space();
                            let pipe = self.pipeline(kpos, "block")?;
                            let (body, end) = self.list()?;
                            if !matches!(end, End::Close(_)) {
                                return self.err("unexpected EOF", self.pos());
                            }
                            self.defined.insert(name.clone(), body);
                            nodes.push(Node::Template {
                                pos: kpos,
                                name,
                                pipe: Some(pipe),
                            });
                        }
                        _ => {
                            let pipe = self.pipeline(kpos, "command")?;
                            nodes.push(Node::Action(pipe));
                        }
                    }
                }
                other => return self.err(format!("unexpected {other:?}"), t.pos),
            }
        }
    }

    /// Expect `}}`.
    fn close(&mut self) -> Result<(), ParseError> {
        self.skip_space();
        let t = self.next();
        match t.tok {
            Tok::RightDelim => Ok(()),
            other => self.err(format!("unexpected {} in end", describe(&other)), t.pos),
        }
    }

    fn branch(&mut self, kind: BranchKind, pos: usize) -> Result<Node, ParseError> {
        let ctx = match kind {
            BranchKind::If => "if",
            BranchKind::With => "with",
            BranchKind::Range => "range",
        };
        let mark = self.vars.len();
        self.skip_space();
        let pipe = self.pipeline(pos, ctx)?;
        if kind == BranchKind::Range {
            self.range_depth += 1;
        }
        let (list, end) = self.list()?;
        if kind == BranchKind::Range {
            self.range_depth -= 1;
        }
        let else_list = match end {
            End::Eof => return self.err("unexpected EOF", self.pos()),
            End::Close(_) => None,
            End::Else(_, None) => {
                let (l, end) = self.list()?;
                match end {
                    End::Close(_) => Some(l),
                    End::Eof => return self.err("unexpected EOF", self.pos()),
                    End::Else(p, _) => return self.err("expected end; found {{else}}", p),
                }
            }
            End::Else(epos, Some(k)) => {
                // else if / else with: a nested branch that shares our {{end}}
                self.i += 1; // the keyword
                let nested_kind = if k == "if" {
                    BranchKind::If
                } else {
                    BranchKind::With
                };
                if kind == BranchKind::Range {
                    return self.err(format!("expected end; found {{{{else {k}}}}}"), epos);
                }
                Some(vec![self.branch(nested_kind, epos)?])
            }
        };
        self.vars.truncate(mark);
        Ok(Node::Branch(Branch {
            kind,
            pos,
            pipe,
            list,
            else_list,
        }))
    }

    fn template_name(&mut self, pos: usize, ctx: &str) -> Result<String, ParseError> {
        self.skip_space();
        let t = self.next();
        match t.tok {
            Tok::Str(s, _) => Ok(s),
            other => self.err(
                format!("unexpected {} in {ctx} clause", describe(&other)),
                pos,
            ),
        }
    }

    fn template_call(&mut self, pos: usize) -> Result<Node, ParseError> {
        let name = self.template_name(pos, "template")?;
        self.skip_space();
        let pipe = if *self.peek() == Tok::RightDelim {
            self.i += 1;
            None
        } else {
            Some(self.pipeline(pos, "template")?)
        };
        Ok(Node::Template { pos, name, pipe })
    }

    fn define(&mut self, pos: usize) -> Result<(), ParseError> {
        let name = self.template_name(pos, "define")?;
        self.close()?;
        let saved = std::mem::replace(&mut self.vars, vec!["$".to_string()]);
        let (body, end) = self.list()?;
        self.vars = saved;
        if !matches!(end, End::Close(_)) {
            return self.err("unexpected EOF", self.pos());
        }
        self.defined.insert(name, body);
        Ok(())
    }

    /// A pipeline up to `}}` (consumed).
    fn pipeline(&mut self, pos: usize, ctx: &str) -> Result<Pipe, ParseError> {
        let mut pipe = Pipe {
            pos,
            decl: Vec::new(),
            is_assign: false,
            cmds: Vec::new(),
        };
        self.skip_space();
        // declarations: $x := / $x = / $i, $e :=
        let save = self.i;
        if let Tok::Variable(v) = self.peek().clone() {
            self.i += 1;
            self.skip_space();
            match self.peek().clone() {
                Tok::Declare | Tok::Assign => {
                    pipe.is_assign = *self.peek() == Tok::Assign;
                    self.i += 1;
                    pipe.decl.push(v);
                }
                Tok::Comma if ctx == "range" => {
                    self.i += 1;
                    self.skip_space();
                    if let Tok::Variable(v2) = self.peek().clone() {
                        self.i += 1;
                        self.skip_space();
                        if matches!(self.peek(), Tok::Declare | Tok::Assign) {
                            pipe.is_assign = *self.peek() == Tok::Assign;
                            self.i += 1;
                            pipe.decl.push(v);
                            pipe.decl.push(v2);
                        } else {
                            return self.err("range can only initialize variables", self.pos());
                        }
                    } else {
                        return self.err("range can only initialize variables", self.pos());
                    }
                }
                _ => self.i = save,
            }
        }
        for v in &pipe.decl {
            if pipe.is_assign {
                if !self.vars.contains(v) {
                    return self.err(format!("undefined variable \"{v}\""), pos);
                }
            } else {
                self.vars.push(v.clone());
            }
        }
        loop {
            self.skip_space();
            let t = self.peek().clone();
            match t {
                Tok::RightDelim => {
                    self.i += 1;
                    break;
                }
                Tok::RightParen if ctx == "parenthesized pipeline" => {
                    self.i += 1;
                    break;
                }
                _ => {
                    let cmd = self.command()?;
                    pipe.cmds.push(cmd);
                }
            }
        }
        if pipe.cmds.is_empty() {
            return self.err(format!("missing value for {ctx}"), pos);
        }
        // only the first command may be a non-function operand with args
        for (i, c) in pipe.cmds.iter().enumerate().skip(1) {
            if let Some(first) = c.args.first()
                && matches!(
                    first,
                    Arg::Bool(..)
                        | Arg::Nil(_)
                        | Arg::Number(..)
                        | Arg::Str(..)
                        | Arg::Char(..)
                        | Arg::Dot(_)
                )
            {
                let _ = i;
                return self.err(
                    format!("non executable command in pipeline stage {}", i + 1),
                    c.pos,
                );
            }
        }
        Ok(pipe)
    }

    /// Operands up to `|`, `}}` or `)`.
    fn command(&mut self) -> Result<Command, ParseError> {
        let pos = self.pos();
        let mut args = Vec::new();
        loop {
            self.skip_space();
            match self.peek() {
                Tok::RightDelim | Tok::RightParen => break,
                Tok::Pipe => {
                    self.i += 1;
                    break;
                }
                _ => {}
            }
            let a = self.operand()?;
            args.push(a);
            // operands must be separated by spaces
            match self.peek() {
                Tok::Space | Tok::RightDelim | Tok::RightParen | Tok::Pipe => {}
                other => {
                    let p = self.pos();
                    return self.err(format!("unexpected {} in operand", describe(other)), p);
                }
            }
        }
        if args.is_empty() {
            return self.err("missing value for command", pos);
        }
        Ok(Command { pos, args })
    }

    fn operand(&mut self) -> Result<Arg, ParseError> {
        let t = self.next();
        let pos = t.pos;
        let base = match t.tok {
            Tok::Field(name) => {
                // Go reports a chain (.A.B) at its second element
                let mut idents = vec![name];
                let mut at = pos;
                while let Tok::Field(n) = self.peek().clone() {
                    if idents.len() == 1 {
                        at = self.pos();
                    }
                    self.i += 1;
                    idents.push(n);
                }
                return Ok(Arg::Field(at, idents));
            }
            Tok::Variable(name) => {
                if !self.vars.contains(&name) {
                    return self.err(format!("undefined variable \"{name}\""), pos);
                }
                let mut idents = Vec::new();
                let mut at = pos;
                while let Tok::Field(n) = self.peek().clone() {
                    if idents.is_empty() {
                        at = self.pos();
                    }
                    self.i += 1;
                    idents.push(n);
                }
                return Ok(Arg::Variable(at, name, idents));
            }
            Tok::Dot => Arg::Dot(pos),
            Tok::Nil => Arg::Nil(pos),
            Tok::Bool(b) => Arg::Bool(pos, b),
            Tok::Number(n) => {
                if parse_number(&n).is_none() {
                    return self.err(format!("illegal number syntax: {n:?}"), pos);
                }
                Arg::Number(pos, n)
            }
            Tok::Char(c, raw) => Arg::Char(pos, c, raw),
            Tok::Str(s, raw) => Arg::Str(pos, s, raw),
            Tok::Identifier(name) => {
                if !(self.funcs)(&name) {
                    return self.err(format!("function \"{name}\" not defined"), pos);
                }
                Arg::Identifier(pos, name)
            }
            Tok::LeftParen => {
                let p = self.pipeline(pos, "parenthesized pipeline")?;
                Arg::Pipe(pos, Box::new(p))
            }
            Tok::Keyword(k) => return self.err(format!("unexpected <{k}> in command"), pos),
            other => return self.err(format!("unexpected {} in operand", describe(&other)), pos),
        };
        // chained fields: (pipeline).Field
        let mut idents = Vec::new();
        while let Tok::Field(n) = self.peek().clone() {
            self.i += 1;
            idents.push(n);
        }
        if idents.is_empty() {
            Ok(base)
        } else {
            if matches!(
                base,
                Arg::Bool(..) | Arg::Str(..) | Arg::Number(..) | Arg::Nil(_) | Arg::Dot(_)
            ) {
                return self.err(format!("unexpected . after term {base:?}"), pos);
            }
            Ok(Arg::Chain(pos, Box::new(base), idents))
        }
    }
}

/// How Go's parser names a token in `unexpected X` messages.
fn describe(t: &Tok) -> String {
    match t {
        Tok::RightDelim => "\"}}\"".into(),
        Tok::LeftDelim => "\"{{\"".into(),
        Tok::RightParen => "\")\"".into(),
        Tok::LeftParen => "\"(\"".into(),
        Tok::Pipe => "\"|\"".into(),
        Tok::Eof => "EOF".into(),
        Tok::Field(f) => format!("<.{f}>"),
        Tok::Variable(v) => format!("<{v}>"),
        Tok::Identifier(i) => format!("<{i}>"),
        Tok::Keyword(k) => format!("<{k}>"),
        Tok::Str(_, raw) | Tok::Char(_, raw) => raw.clone(),
        Tok::Number(n) => n.clone(),
        Tok::Bool(b) => b.to_string(),
        Tok::Nil => "<nil>".into(),
        Tok::Dot => "<.>".into(),
        Tok::Declare => "\":=\"".into(),
        Tok::Assign => "\"=\"".into(),
        Tok::Comma => "\",\"".into(),
        Tok::Space => "space".into(),
        Tok::Text(t) => format!("{t:?}"),
    }
}

/// A number literal's value: an integer if it is one, else a float.
pub enum Num {
    /// An integer constant.
    Int(i64),
    /// A floating-point constant.
    Float(f64),
}

/// Parse a Go number literal (decimal, hex, octal, binary, float;
/// underscores allowed).
pub fn parse_number(text: &str) -> Option<Num> {
    let t: String = text.chars().filter(|c| *c != '_').collect();
    let (neg, body) = match t.strip_prefix('-') {
        Some(b) => (true, b.to_string()),
        None => (false, t.strip_prefix('+').unwrap_or(&t).to_string()),
    };
    let lower = body.to_ascii_lowercase();
    let int = if let Some(h) = lower.strip_prefix("0x") {
        i64::from_str_radix(h, 16).ok()
    } else if let Some(o) = lower.strip_prefix("0o") {
        i64::from_str_radix(o, 8).ok()
    } else if let Some(b) = lower.strip_prefix("0b") {
        i64::from_str_radix(b, 2).ok()
    } else if lower.len() > 1 && lower.starts_with('0') && lower.bytes().all(|c| c.is_ascii_digit())
    {
        i64::from_str_radix(&lower[1..], 8).ok()
    } else {
        lower.parse::<i64>().ok()
    };
    if let Some(i) = int {
        return Some(Num::Int(if neg { -i } else { i }));
    }
    let f: f64 = lower.parse().ok()?;
    if !f.is_finite() {
        return None;
    }
    let f = if neg { -f } else { f };
    // "1e3" is an integer constant in Go when it is integral
    if f.fract() == 0.0 && f.abs() < 9.0e15 && !lower.contains('.') {
        return Some(Num::Int(f as i64));
    }
    Some(Num::Float(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Tree, ParseError> {
        parse(s, &|n: &str| {
            ["printf", "json", "index", "eq", "not"].contains(&n)
        })
    }

    #[test]
    fn structure() {
        let t = p("{{if .A}}a{{else if .B}}b{{else}}c{{end}}").unwrap();
        assert_eq!(t.root.len(), 1);
        let Node::Branch(b) = &t.root[0] else {
            panic!("not a branch")
        };
        assert_eq!(b.kind, BranchKind::If);
        assert!(b.else_list.is_some());
        let t = p("{{range $i, $e := .L}}{{$i}}={{$e}}{{end}}").unwrap();
        let Node::Branch(b) = &t.root[0] else {
            panic!("not a branch")
        };
        assert_eq!(b.pipe.decl, vec!["$i", "$e"]);
        assert_eq!(b.pipe.to_string(), "$i, $e := .L");
    }

    #[test]
    fn display_of_nodes() {
        let t = p(r#"{{printf "%s" .A.B | json}}"#).unwrap();
        let Node::Action(pipe) = &t.root[0] else {
            panic!("not an action")
        };
        assert_eq!(pipe.to_string(), r#"printf "%s" .A.B | json"#);
    }

    #[test]
    fn errors_use_go_wording() {
        assert_eq!(p("{{if .A}}").unwrap_err().msg, "unexpected EOF");
        assert_eq!(p("{{end}}").unwrap_err().msg, "unexpected {{end}}");
        assert_eq!(
            p("{{nope .A}}").unwrap_err().msg,
            "function \"nope\" not defined"
        );
        assert_eq!(p("{{$x}}").unwrap_err().msg, "undefined variable \"$x\"");
        assert_eq!(p("{{}}").unwrap_err().msg, "missing value for command");
        assert_eq!(p("{{.A").unwrap_err().msg, "unclosed action");
    }
}
