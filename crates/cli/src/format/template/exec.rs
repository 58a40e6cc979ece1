//! Execution of a parsed template against a value, with Go's semantics:
//! field chains on structs and maps (`missingkey=default` prints
//! `<no value>`, `missingkey=error` fails), methods with arguments,
//! pipelines passing their value as the last argument, variables and their
//! scopes, lazy `and`/`or`, `range` over slices, maps (sorted) and
//! integers, and Go's error messages with the node they happened at.

use super::funcs::{self, FuncError, FuncSet};
use super::parse::{Arg, Branch, BranchKind, Command, Node, Num, Pipe, Tree, parse_number};
use super::value::{NilKind, Value, sorted_entries};

/// A run-time error: where (byte offset and node text) and what.
#[derive(Debug, Clone)]
pub struct ExecError {
    /// Byte offset of the node.
    pub pos: usize,
    /// The node, as Go prints it in `at <...>`.
    pub at: String,
    /// The message.
    pub msg: String,
}

/// Options of one execution.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// `missingkey=error`.
    pub missing_key_error: bool,
    /// Which functions `json`, `join`... are.
    pub funcs: FuncSet,
}

enum Flow {
    Normal,
    Break,
    Continue,
}

struct State<'a> {
    tree: &'a Tree,
    vars: Vec<(String, Value)>,
    out: String,
    opts: Options,
    at: (usize, String),
    depth: usize,
}

const MAX_DEPTH: usize = 1000;

/// Execute `tree` with `data` as dot; the output, or the first error.
pub fn execute(tree: &Tree, data: &Value, opts: Options) -> Result<String, (String, ExecError)> {
    let mut s = State {
        tree,
        vars: vec![("$".to_string(), data.clone())],
        out: String::new(),
        opts,
        at: (0, String::new()),
        depth: 0,
    };
    match s.walk(data, &tree.root) {
        Ok(_) => Ok(s.out),
        Err(e) => Err((s.out, e)),
    }
}

type R<T> = Result<T, ExecError>;

impl State<'_> {
    fn at(&mut self, pos: usize, text: String) {
        self.at = (pos, text);
    }

    fn err<T>(&self, msg: impl Into<String>) -> R<T> {
        Err(ExecError {
            pos: self.at.0,
            at: self.at.1.clone(),
            msg: msg.into(),
        })
    }

    fn walk(&mut self, dot: &Value, nodes: &[Node]) -> R<Flow> {
        for n in nodes {
            match n {
                Node::Text(t) => self.out.push_str(t),
                Node::Action(pipe) => {
                    self.at(pipe.pos, pipe.to_string());
                    let v = self.eval_pipeline(dot, pipe)?;
                    if pipe.decl.is_empty() {
                        self.out.push_str(&v.to_action_text());
                    }
                }
                Node::Branch(b) => match self.branch(dot, b)? {
                    Flow::Normal => {}
                    other => return Ok(other),
                },
                Node::Break => return Ok(Flow::Break),
                Node::Continue => return Ok(Flow::Continue),
                Node::Template { pos, name, pipe } => {
                    self.at(*pos, format!("{{{{template {name:?}}}}}"));
                    let Some(body) = self.tree.defined.get(name) else {
                        return self.err(format!("no such template {name:?}"));
                    };
                    let data = match pipe {
                        Some(p) => self.eval_pipeline(dot, p)?,
                        None => Value::Nil(NilKind::Interface),
                    };
                    if self.depth >= MAX_DEPTH {
                        return self.err(format!("exceeded maximum template depth ({MAX_DEPTH})"));
                    }
                    self.depth += 1;
                    let saved =
                        std::mem::replace(&mut self.vars, vec![("$".to_string(), data.clone())]);
                    let r = self.walk(&data, body);
                    self.vars = saved;
                    self.depth -= 1;
                    r?;
                }
            }
        }
        Ok(Flow::Normal)
    }

    fn branch(&mut self, dot: &Value, b: &Branch) -> R<Flow> {
        let mark = self.vars.len();
        let r = match b.kind {
            BranchKind::If | BranchKind::With => {
                self.at(b.pos, b.pipe.to_string());
                let v = self.eval_pipeline(dot, &b.pipe)?;
                if v.truth() {
                    let d = if b.kind == BranchKind::With {
                        v
                    } else {
                        dot.clone()
                    };
                    self.walk(&d, &b.list)
                } else if let Some(e) = &b.else_list {
                    self.walk(dot, e)
                } else {
                    Ok(Flow::Normal)
                }
            }
            BranchKind::Range => self.range(dot, b),
        };
        self.vars.truncate(mark);
        r
    }

    fn range(&mut self, dot: &Value, b: &Branch) -> R<Flow> {
        self.at(b.pos, format!("{{{{range {}}}}}", b.pipe));
        let cmds_only = Pipe {
            pos: b.pipe.pos,
            decl: Vec::new(),
            is_assign: false,
            cmds: b.pipe.cmds.clone(),
        };
        let v = self.eval_pipeline(dot, &cmds_only)?;
        let items: Vec<(Value, Value)> = match &v {
            Value::List(l) => l
                .iter()
                .enumerate()
                .map(|(i, e)| (Value::Int(i as i64), e.clone()))
                .collect(),
            Value::Map(m, _) => sorted_entries(m)
                .into_iter()
                .map(|(k, v)| (Value::Str(k.clone()), v.clone()))
                .collect(),
            Value::Int(n) => (0..*n).map(|i| (Value::Int(i), Value::Int(i))).collect(),
            Value::Nil(_) => Vec::new(),
            other => return self.err(format!("range can't iterate over {}", other.to_go_string())),
        };
        if items.is_empty() {
            if let Some(e) = &b.else_list {
                return self.walk(dot, e);
            }
            return Ok(Flow::Normal);
        }
        // declare the variables once, then update them per element
        let decl = &b.pipe.decl;
        let base = self.vars.len();
        if !b.pipe.is_assign {
            for d in decl {
                self.vars.push((d.clone(), Value::Nil(NilKind::Interface)));
            }
        }
        for (k, e) in items {
            let one_var_is_elem = !matches!(v, Value::Int(_));
            match decl.len() {
                1 => self.set_var(
                    &decl[0],
                    if one_var_is_elem {
                        e.clone()
                    } else {
                        k.clone()
                    },
                ),
                2 => {
                    self.set_var(&decl[0], k.clone());
                    self.set_var(&decl[1], e.clone());
                }
                _ => {}
            }
            let mark = self.vars.len();
            let flow = self.walk(&e, &b.list)?;
            self.vars.truncate(mark);
            if let Flow::Break = flow {
                break;
            }
        }
        if !b.pipe.is_assign {
            self.vars.truncate(base);
        }
        Ok(Flow::Normal)
    }

    fn set_var(&mut self, name: &str, v: Value) {
        if let Some(slot) = self.vars.iter_mut().rev().find(|(n, _)| n == name) {
            slot.1 = v;
        }
    }

    fn var(&self, name: &str) -> R<Value> {
        match self.vars.iter().rev().find(|(n, _)| n == name) {
            Some((_, v)) => Ok(v.clone()),
            None => self.err(format!("undefined variable: {name}")),
        }
    }

    fn eval_pipeline(&mut self, dot: &Value, pipe: &Pipe) -> R<Value> {
        let mut value: Option<Value> = None;
        for c in &pipe.cmds {
            value = Some(self.eval_command(dot, c, value)?);
        }
        let value = value.unwrap_or(Value::Nil(NilKind::Interface));
        for d in &pipe.decl {
            if pipe.is_assign {
                self.set_var(d, value.clone());
            } else {
                self.vars.push((d.clone(), value.clone()));
            }
        }
        Ok(value)
    }

    fn not_a_function(&mut self, cmd: &Command, final_: &Option<Value>) -> R<()> {
        if cmd.args.len() > 1 || final_.is_some() {
            return self.err(format!(
                "can't give argument to non-function {}",
                cmd.args[0]
            ));
        }
        Ok(())
    }

    fn eval_command(&mut self, dot: &Value, cmd: &Command, final_: Option<Value>) -> R<Value> {
        let first = &cmd.args[0];
        match first {
            Arg::Field(pos, idents) => {
                self.at(*pos, first.to_string());
                self.eval_field_chain(dot, dot.clone(), idents, cmd, final_)
            }
            Arg::Chain(pos, node, idents) => {
                let base = self.eval_arg(dot, node)?;
                self.at(*pos, first.to_string());
                self.eval_field_chain(dot, base, idents, cmd, final_)
            }
            Arg::Identifier(pos, name) => {
                self.at(*pos, name.clone());
                self.eval_function(dot, name, cmd, &cmd.args[1..], final_)
            }
            Arg::Pipe(_, p) => {
                self.not_a_function(cmd, &final_)?;
                self.eval_pipeline(dot, p)
            }
            Arg::Variable(pos, name, idents) => {
                self.at(*pos, first.to_string());
                let v = self.var(name)?;
                if idents.is_empty() {
                    self.not_a_function(cmd, &final_)?;
                    return Ok(v);
                }
                self.eval_field_chain(dot, v, idents, cmd, final_)
            }
            lit => {
                self.at(lit.pos(), lit.to_string());
                self.not_a_function(cmd, &final_)?;
                self.eval_arg(dot, lit)
            }
        }
    }

    /// Walk `.A.B.C` from `receiver`; the last element gets the command's
    /// arguments (a method call) and the pipeline's final value.
    fn eval_field_chain(
        &mut self,
        dot: &Value,
        mut receiver: Value,
        idents: &[String],
        cmd: &Command,
        final_: Option<Value>,
    ) -> R<Value> {
        let n = idents.len();
        for name in &idents[..n - 1] {
            receiver = self.eval_field(dot, name, &[], None, receiver)?;
        }
        self.eval_field(dot, &idents[n - 1], &cmd.args[1..], final_, receiver)
    }

    fn eval_field(
        &mut self,
        dot: &Value,
        name: &str,
        args: &[Arg],
        final_: Option<Value>,
        receiver: Value,
    ) -> R<Value> {
        let has_args = !args.is_empty() || final_.is_some();
        match &receiver {
            Value::Struct(st) => {
                if let Some((_, m)) = st.methods.iter().find(|(n, _)| n == name) {
                    let m = m.clone();
                    let mut vals = Vec::new();
                    for a in args {
                        vals.push(self.eval_arg(dot, a)?);
                    }
                    if let Some(f) = final_ {
                        vals.push(f);
                    }
                    return match m(&vals) {
                        Ok(v) => Ok(v),
                        Err(e) => self.err(format!("error calling {name}: {e}")),
                    };
                }
                if let Some(v) = st.get(name) {
                    if has_args {
                        return self.err(format!(
                            "{name} has arguments but cannot be invoked as function"
                        ));
                    }
                    return Ok(v.clone());
                }
                self.err(format!(
                    "can't evaluate field {name} in type {}",
                    st.type_name
                ))
            }
            Value::Map(m, _) => {
                if has_args {
                    return self.err(format!("{name} is not a method but has arguments"));
                }
                match m.iter().find(|(k, _)| k == name) {
                    Some((_, v)) => Ok(v.clone()),
                    None if self.opts.missing_key_error => {
                        self.err(format!("map has no entry for key {name:?}"))
                    }
                    None => Ok(Value::Nil(NilKind::Interface)),
                }
            }
            Value::Nil(NilKind::Interface) => {
                if self.opts.missing_key_error {
                    return self.err(format!("nil data; no entry for key {name:?}"));
                }
                Ok(Value::Nil(NilKind::Interface))
            }
            Value::Nil(NilKind::Pointer) => self.err(format!(
                "nil pointer evaluating {}.{name}",
                receiver.type_name()
            )),
            Value::Nil(NilKind::Map(_)) => {
                if self.opts.missing_key_error {
                    return self.err(format!("map has no entry for key {name:?}"));
                }
                Ok(Value::Nil(NilKind::Interface))
            }
            other => self.err(format!(
                "can't evaluate field {name} in type {}",
                other.type_name()
            )),
        }
    }

    fn eval_function(
        &mut self,
        dot: &Value,
        name: &str,
        cmd: &Command,
        args: &[Arg],
        final_: Option<Value>,
    ) -> R<Value> {
        // lazy and/or
        if name == "and" || name == "or" {
            let total = args.len() + usize::from(final_.is_some());
            if total == 0 {
                self.at(cmd.pos, cmd.to_string());
                return self.err(format!(
                    "wrong number of args for {name}: want at least 1 got 0"
                ));
            }
            let mut last = Value::Nil(NilKind::Interface);
            for a in args {
                last = self.eval_arg(dot, a)?;
                let t = last.truth();
                if (name == "and" && !t) || (name == "or" && t) {
                    return Ok(last);
                }
            }
            if let Some(f) = final_ {
                last = f;
            }
            return Ok(last);
        }
        if name == "call" {
            self.at(cmd.pos, cmd.to_string());
            return self.err("error calling call: call of non-function");
        }
        let Some(f) = funcs::lookup(name, self.opts.funcs) else {
            return self.err(format!("{name:?} is not a defined function"));
        };
        let mut vals = Vec::with_capacity(args.len() + 1);
        for a in args {
            vals.push(self.eval_arg(dot, a)?);
        }
        if let Some(fv) = final_ {
            vals.push(fv);
        }
        self.at(cmd.pos, cmd.to_string());
        match f(&vals) {
            Ok(v) => Ok(v),
            Err(FuncError::Arity(m)) | Err(FuncError::Arg(m)) => self.err(m),
            Err(FuncError::Call(m)) => self.err(format!("error calling {name}: {m}")),
        }
    }

    fn eval_arg(&mut self, dot: &Value, arg: &Arg) -> R<Value> {
        match arg {
            Arg::Dot(_) => Ok(dot.clone()),
            Arg::Nil(_) => Ok(Value::Nil(NilKind::Interface)),
            Arg::Bool(_, b) => Ok(Value::Bool(*b)),
            Arg::Str(_, s, _) => Ok(Value::Str(s.clone())),
            Arg::Char(_, c, _) => Ok(Value::Int(*c)),
            Arg::Number(_, n) => match parse_number(n) {
                Some(Num::Int(i)) => Ok(Value::Int(i)),
                Some(Num::Float(f)) => Ok(Value::Float(f)),
                None => self.err(format!("illegal number syntax: {n:?}")),
            },
            Arg::Field(pos, idents) => {
                self.at(*pos, arg.to_string());
                let cmd = Command {
                    pos: *pos,
                    args: vec![arg.clone()],
                };
                self.eval_field_chain(dot, dot.clone(), idents, &cmd, None)
            }
            Arg::Variable(pos, name, idents) => {
                self.at(*pos, arg.to_string());
                let v = self.var(name)?;
                if idents.is_empty() {
                    return Ok(v);
                }
                let cmd = Command {
                    pos: *pos,
                    args: vec![arg.clone()],
                };
                self.eval_field_chain(dot, v, idents, &cmd, None)
            }
            Arg::Chain(pos, node, idents) => {
                let base = self.eval_arg(dot, node)?;
                self.at(*pos, arg.to_string());
                let cmd = Command {
                    pos: *pos,
                    args: vec![arg.clone()],
                };
                self.eval_field_chain(dot, base, idents, &cmd, None)
            }
            Arg::Pipe(_, p) => self.eval_pipeline(dot, p),
            Arg::Identifier(pos, name) => {
                self.at(*pos, name.clone());
                let cmd = Command {
                    pos: *pos,
                    args: vec![arg.clone()],
                };
                self.eval_function(dot, name, &cmd, &[], None)
            }
        }
    }
}
