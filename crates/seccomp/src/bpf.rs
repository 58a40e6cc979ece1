//! Classic BPF as seccomp uses it: the `struct sock_filter` instruction, the
//! few opcodes the ENOSYS stub needs, and a tiny assembler with labels that
//! resolves relative jump offsets (8-bit for conditional jumps, 32-bit for
//! `ja`).

/// One classic BPF instruction, laid out as the kernel's `struct sock_filter`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SockFilter {
    /// Opcode (`BPF_LD | BPF_W | BPF_ABS`, `BPF_JMP | BPF_JEQ | BPF_K`, ...).
    pub code: u16,
    /// Instructions to skip when a conditional jump is taken.
    pub jt: u8,
    /// Instructions to skip when a conditional jump is not taken.
    pub jf: u8,
    /// The constant operand.
    pub k: u32,
}

/// `BPF_LD | BPF_W | BPF_ABS`: A = 32-bit word at offset k of `seccomp_data`.
pub(crate) const LD_W_ABS: u16 = 0x20;
/// `BPF_JMP | BPF_JA`: unconditional jump by k.
pub(crate) const JA: u16 = 0x05;
/// `BPF_JMP | BPF_JEQ | BPF_K`.
pub(crate) const JEQ_K: u16 = 0x15;
/// `BPF_JMP | BPF_JGT | BPF_K`.
pub(crate) const JGT_K: u16 = 0x25;
/// `BPF_JMP | BPF_JSET | BPF_K`.
pub(crate) const JSET_K: u16 = 0x45;
/// `BPF_RET | BPF_K`.
pub(crate) const RET_K: u16 = 0x06;

/// Offset of `nr` in `struct seccomp_data`.
pub(crate) const OFF_NR: u32 = 0;
/// Offset of `arch` in `struct seccomp_data`.
pub(crate) const OFF_ARCH: u32 = 4;

/// A jump target, resolved by [`Asm::finish`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Label(usize);

/// Where a jump goes: the next instruction, or a label.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Target {
    Next,
    To(Label),
}

#[derive(Clone, Copy, Debug)]
enum Item {
    Plain(SockFilter),
    Cond {
        code: u16,
        k: u32,
        jt: Target,
        jf: Target,
    },
    Ja(Label),
}

/// A jump that does not fit its offset field.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("BPF jump from instruction {from} to {to} does not fit in {bits} bits")]
pub struct JumpOutOfRange {
    /// Index of the jump instruction.
    pub from: usize,
    /// Index of its target.
    pub to: usize,
    /// Width of the offset field.
    pub bits: u32,
}

/// A straight-line program builder. Labels may only point forward (classic
/// BPF has no backward jumps); a label left unbound points at the end of the
/// program, i.e. at whatever is appended after it.
#[derive(Debug, Default)]
pub(crate) struct Asm {
    items: Vec<Item>,
    labels: Vec<Option<usize>>,
}

impl Asm {
    pub(crate) fn label(&mut self) -> Label {
        self.labels.push(None);
        Label(self.labels.len() - 1)
    }

    /// Binds `l` to the position of the next instruction.
    pub(crate) fn bind(&mut self, l: Label) {
        self.labels[l.0] = Some(self.items.len());
    }

    pub(crate) fn load(&mut self, offset: u32) {
        self.plain(LD_W_ABS, offset);
    }

    pub(crate) fn ret(&mut self, value: u32) {
        self.plain(RET_K, value);
    }

    pub(crate) fn jump(&mut self, to: Label) {
        self.items.push(Item::Ja(to));
    }

    /// `if A <cond> k goto jt else goto jf`, `code` one of `JEQ_K`, `JGT_K`,
    /// `JSET_K`.
    pub(crate) fn cond(&mut self, code: u16, k: u32, jt: Target, jf: Target) {
        self.items.push(Item::Cond { code, k, jt, jf });
    }

    fn plain(&mut self, code: u16, k: u32) {
        self.items.push(Item::Plain(SockFilter {
            code,
            jt: 0,
            jf: 0,
            k,
        }));
    }

    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    /// Resolves the labels; unbound labels point one past the last
    /// instruction.
    pub(crate) fn finish(self) -> Result<Vec<SockFilter>, JumpOutOfRange> {
        let end = self.items.len();
        let at = |l: Label| self.labels[l.0].unwrap_or(end);
        let offset = |from: usize, t: Target, bits: u32| -> Result<u32, JumpOutOfRange> {
            let to = match t {
                Target::Next => from + 1,
                Target::To(l) => at(l),
            };
            let max = if bits == 8 {
                u8::MAX as usize
            } else {
                u32::MAX as usize
            };
            match to.checked_sub(from + 1) {
                Some(off) if off <= max => Ok(off as u32),
                _ => Err(JumpOutOfRange { from, to, bits }),
            }
        };
        let mut out = Vec::with_capacity(end);
        for (i, item) in self.items.iter().enumerate() {
            out.push(match *item {
                Item::Plain(insn) => insn,
                Item::Ja(l) => SockFilter {
                    code: JA,
                    jt: 0,
                    jf: 0,
                    k: offset(i, Target::To(l), 32)?,
                },
                Item::Cond { code, k, jt, jf } => SockFilter {
                    code,
                    // Offsets were checked against u8::MAX above.
                    jt: offset(i, jt, 8)? as u8,
                    jf: offset(i, jf, 8)? as u8,
                    k,
                },
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_forward_labels() {
        let mut a = Asm::default();
        let yes = a.label();
        let out = a.label();
        a.load(OFF_NR);
        a.cond(JEQ_K, 7, Target::To(yes), Target::Next);
        a.jump(out);
        a.bind(yes);
        a.ret(1);
        let p = a.finish().unwrap();
        assert_eq!(p.len(), 4);
        assert_eq!((p[1].jt, p[1].jf), (1, 0));
        assert_eq!(
            p[2],
            SockFilter {
                code: JA,
                jt: 0,
                jf: 0,
                k: 1
            }
        );
    }

    #[test]
    fn refuses_a_conditional_jump_past_255() {
        let mut a = Asm::default();
        let far = a.label();
        a.cond(JEQ_K, 0, Target::To(far), Target::Next);
        for _ in 0..300 {
            a.ret(0);
        }
        a.bind(far);
        a.ret(1);
        assert_eq!(
            a.finish(),
            Err(JumpOutOfRange {
                from: 0,
                to: 301,
                bits: 8
            })
        );
    }
}
