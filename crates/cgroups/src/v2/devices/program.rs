//! Emission of the cgroup v2 device filter: a `BPF_PROG_TYPE_CGROUP_DEVICE` eBPF program built
//! from the checked `linux.resources.devices` rules.
//!
//! The kernel runs the program for every device access check of a task in the cgroup, with R1
//! pointing at `struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }`, where the
//! low 16 bits of `access_type` are the device type (`BPF_DEVCG_DEV_BLOCK` 1, `_CHAR` 2) and the
//! high 16 bits the requested access (`BPF_DEVCG_ACC_MKNOD` 1, `_READ` 2, `_WRITE` 4). Returning 1
//! allows, 0 denies (`EPERM`).
//!
//! Layout:
//!
//! ```text
//!   r2 = ctx->access_type & 0xffff      ; type
//!   r3 = ctx->access_type >> 16         ; access
//!   r4 = ctx->major
//!   r5 = ctx->minor
//!   block for the LAST rule:  if r2 != type goto next          (omitted for type a)
//!                             allow: r1 = r3 & acc; if r1 != r3 goto next   (omitted for rwm)
//!                             deny:  r1 = r3 & acc; if r1 == 0  goto next   (omitted for rwm)
//!                             if r4 != major goto next         (omitted for *)
//!                             if r5 != minor goto next         (omitted for *)
//!                             r0 = verdict; exit
//!   block for the rule before it ...
//!   r0 = default verdict; exit
//! ```
//!
//! Rules are emitted from the last to the first, so the first block that matches is the last
//! matching rule (last match wins). A rule that matches everything ends the walk: the rules
//! before it can never decide, and its verdict becomes the default. Without such a rule the
//! default is deny.

use crate::device_rule::{ACC_ALL, DeviceKind, DeviceRule};

/// An error while emitting a program (the rule list cannot be expressed).
#[derive(Debug, thiserror::Error)]
pub enum ProgramError {
    /// The program would exceed the jump range of an instruction.
    #[error("linux.resources.devices: {rules} rules make a device filter program too large")]
    TooLarge { rules: usize },
}

/// One eBPF instruction (`struct bpf_insn`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Instruction {
    /// Opcode: class | operation | source.
    pub code: u8,
    /// Destination register (0-10).
    pub dst: u8,
    /// Source register (0-10).
    pub src: u8,
    /// Signed offset (memory access displacement or jump distance in instructions).
    pub off: i16,
    /// Signed immediate.
    pub imm: i32,
}

/// Opcodes used by the emitter (from `include/uapi/linux/bpf_common.h` and `bpf.h`).
pub mod opcode {
    /// `BPF_LDX | BPF_MEM | BPF_W`: `dst = *(u32 *)(src + off)`.
    pub const LDX_MEM_W: u8 = 0x61;
    /// `BPF_ALU | BPF_AND | BPF_K`: `dst = (u32)dst & imm`.
    pub const ALU32_AND_K: u8 = 0x54;
    /// `BPF_ALU | BPF_RSH | BPF_K`: `dst = (u32)dst >> imm`.
    pub const ALU32_RSH_K: u8 = 0x74;
    /// `BPF_ALU | BPF_MOV | BPF_K`: `dst = (u32)imm`.
    pub const ALU32_MOV_K: u8 = 0xb4;
    /// `BPF_ALU | BPF_MOV | BPF_X`: `dst = (u32)src`.
    pub const ALU32_MOV_X: u8 = 0xbc;
    /// `BPF_JMP | BPF_JNE | BPF_K`: `if dst != imm goto +off`.
    pub const JNE_K: u8 = 0x55;
    /// `BPF_JMP | BPF_JNE | BPF_X`: `if dst != src goto +off`.
    pub const JNE_X: u8 = 0x5d;
    /// `BPF_JMP | BPF_JEQ | BPF_K`: `if dst == imm goto +off`.
    pub const JEQ_K: u8 = 0x15;
    /// `BPF_JMP | BPF_EXIT`.
    pub const EXIT: u8 = 0x95;
}

/// `BPF_DEVCG_DEV_BLOCK` / `BPF_DEVCG_DEV_CHAR`.
pub const DEV_BLOCK: i32 = 1;
pub const DEV_CHAR: i32 = 2;

impl Instruction {
    /// Size of one encoded instruction.
    pub const SIZE: usize = 8;

    const fn new(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Self {
        Instruction {
            code,
            dst,
            src,
            off,
            imm,
        }
    }

    /// Encode as the kernel expects (native byte order, which is what `bpf(2)` loads).
    pub fn encode(&self) -> [u8; 8] {
        let mut b = [0u8; 8];
        b[0] = self.code;
        // struct bpf_insn { u8 code; u8 dst_reg:4; u8 src_reg:4; ... } on a little-endian host
        // puts dst in the low nibble; on big-endian the bitfields are reversed.
        b[1] = if cfg!(target_endian = "little") {
            (self.dst & 0x0f) | (self.src << 4)
        } else {
            (self.dst << 4) | (self.src & 0x0f)
        };
        b[2..4].copy_from_slice(&self.off.to_ne_bytes());
        b[4..8].copy_from_slice(&self.imm.to_ne_bytes());
        b
    }

    /// Decode one encoded instruction.
    pub fn decode(b: [u8; 8]) -> Self {
        let (dst, src) = if cfg!(target_endian = "little") {
            (b[1] & 0x0f, b[1] >> 4)
        } else {
            (b[1] >> 4, b[1] & 0x0f)
        };
        Instruction {
            code: b[0],
            dst,
            src,
            off: i16::from_ne_bytes([b[2], b[3]]),
            imm: i32::from_ne_bytes([b[4], b[5], b[6], b[7]]),
        }
    }
}

/// A device filter program ready to load.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    insns: Vec<Instruction>,
}

/// The license the program is loaded under (the kernel only checks it for GPL-only helpers;
/// this program calls none).
pub const LICENSE: &std::ffi::CStr = c"Apache-2.0";

const R0: u8 = 0;
const R1: u8 = 1;
const R2: u8 = 2;
const R3: u8 = 3;
const R4: u8 = 4;
const R5: u8 = 5;

/// Jump placeholder patched once the block length is known.
enum Jump {
    /// An instruction that skips to the end of its block on mismatch.
    ToNext(Instruction),
    /// Any other instruction.
    Plain(Instruction),
}

fn block(rule: &DeviceRule) -> Vec<Jump> {
    let mut b = Vec::with_capacity(8);
    match rule.kind {
        DeviceKind::All => {}
        DeviceKind::Char => b.push(Jump::ToNext(Instruction::new(
            opcode::JNE_K,
            R2,
            0,
            0,
            DEV_CHAR,
        ))),
        DeviceKind::Block => b.push(Jump::ToNext(Instruction::new(
            opcode::JNE_K,
            R2,
            0,
            0,
            DEV_BLOCK,
        ))),
    }
    if rule.access != ACC_ALL {
        // access <= 7, the cast cannot truncate.
        let acc = rule.access as i32;
        b.push(Jump::Plain(Instruction::new(
            opcode::ALU32_MOV_X,
            R1,
            R3,
            0,
            0,
        )));
        b.push(Jump::Plain(Instruction::new(
            opcode::ALU32_AND_K,
            R1,
            0,
            0,
            acc,
        )));
        if rule.allow {
            // Allow only if every requested bit is granted.
            b.push(Jump::ToNext(Instruction::new(opcode::JNE_X, R1, R3, 0, 0)));
        } else {
            // Deny if any requested bit is denied.
            b.push(Jump::ToNext(Instruction::new(opcode::JEQ_K, R1, 0, 0, 0)));
        }
    }
    // Device numbers are checked to be <= i32::MAX when rules are parsed; the 32-bit loads
    // zero-extend, so comparing with the sign-extended immediate is exact.
    if let Some(major) = rule.major {
        b.push(Jump::ToNext(Instruction::new(
            opcode::JNE_K,
            R4,
            0,
            0,
            major as i32,
        )));
    }
    if let Some(minor) = rule.minor {
        b.push(Jump::ToNext(Instruction::new(
            opcode::JNE_K,
            R5,
            0,
            0,
            minor as i32,
        )));
    }
    b.push(Jump::Plain(Instruction::new(
        opcode::ALU32_MOV_K,
        R0,
        0,
        0,
        i32::from(rule.allow),
    )));
    b.push(Jump::Plain(Instruction::new(opcode::EXIT, 0, 0, 0, 0)));
    b
}

impl Program {
    /// Build the program for checked rules (see the module doc for the semantics).
    pub(crate) fn from_rules(rules: &[DeviceRule]) -> Result<Self, ProgramError> {
        let mut insns = vec![
            Instruction::new(opcode::LDX_MEM_W, R2, R1, 0, 0),
            Instruction::new(opcode::ALU32_AND_K, R2, 0, 0, 0xffff),
            Instruction::new(opcode::LDX_MEM_W, R3, R1, 0, 0),
            Instruction::new(opcode::ALU32_RSH_K, R3, 0, 0, 16),
            Instruction::new(opcode::LDX_MEM_W, R4, R1, 4, 0),
            Instruction::new(opcode::LDX_MEM_W, R5, R1, 8, 0),
        ];
        let mut default_allow = false;
        for rule in rules.iter().rev() {
            if rule.matches_everything() {
                default_allow = rule.allow;
                break;
            }
            let b = block(rule);
            let len = b.len();
            for (i, j) in b.into_iter().enumerate() {
                match j {
                    Jump::Plain(insn) => insns.push(insn),
                    Jump::ToNext(mut insn) => {
                        // Jump to the first instruction after this block.
                        insn.off = i16::try_from(len - i - 1)
                            .map_err(|_| ProgramError::TooLarge { rules: rules.len() })?;
                        insns.push(insn);
                    }
                }
            }
        }
        insns.push(Instruction::new(
            opcode::ALU32_MOV_K,
            R0,
            0,
            0,
            i32::from(default_allow),
        ));
        insns.push(Instruction::new(opcode::EXIT, 0, 0, 0, 0));
        // BPF_MAXINSNS for unprivileged loads; privileged allows far more, but a device list this
        // long is a mistake.
        if insns.len() > 4096 {
            return Err(ProgramError::TooLarge { rules: rules.len() });
        }
        Ok(Program { insns })
    }

    /// Build the program for OCI rules, checking them first.
    pub fn from_oci(rules: &[oci_spec::runtime::LinuxDeviceCgroup]) -> crate::Result<Self> {
        let rules = DeviceRule::parse_all(rules)?;
        Ok(Self::from_rules(&rules)?)
    }

    /// The instructions.
    pub fn instructions(&self) -> &[Instruction] {
        &self.insns
    }

    /// The encoded program (`insns` of `BPF_PROG_LOAD`).
    pub fn to_bytes(&self) -> Vec<u8> {
        self.insns.iter().flat_map(|i| i.encode()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device_rule::tests::rule;
    use crate::device_rule::{ACC_MKNOD, ACC_READ, ACC_WRITE, evaluate};
    use oci_spec::runtime::LinuxDeviceType as T;

    /// A tiny interpreter for exactly the instructions the emitter produces, run over the
    /// DECODED bytes, so the test checks the encoding as well as the logic.
    fn run(bytes: &[u8], dev_type: u32, access: u32, major: u32, minor: u32) -> u32 {
        let prog: Vec<Instruction> = bytes
            .chunks_exact(8)
            .map(|c| Instruction::decode(c.try_into().unwrap()))
            .collect();
        let ctx = [dev_type | (access << 16), major, minor];
        let mut r = [0u64; 11];
        let mut pc = 0usize;
        for _ in 0..10_000 {
            let i = prog[pc];
            let (d, s) = (usize::from(i.dst), usize::from(i.src));
            let mut next = pc + 1;
            let jump = |pc: usize| (pc as isize + 1 + isize::from(i.off)) as usize;
            match i.code {
                opcode::LDX_MEM_W => {
                    assert_eq!(s, 1, "loads only from the context");
                    r[d] = u64::from(ctx[usize::try_from(i.off).unwrap() / 4]);
                }
                opcode::ALU32_AND_K => r[d] = u64::from((r[d] as u32) & (i.imm as u32)),
                opcode::ALU32_RSH_K => r[d] = u64::from((r[d] as u32) >> i.imm),
                opcode::ALU32_MOV_K => r[d] = u64::from(i.imm as u32),
                opcode::ALU32_MOV_X => r[d] = u64::from(r[s] as u32),
                opcode::JNE_K => {
                    if r[d] != i.imm as i64 as u64 {
                        next = jump(pc)
                    }
                }
                opcode::JEQ_K => {
                    if r[d] == i.imm as i64 as u64 {
                        next = jump(pc)
                    }
                }
                opcode::JNE_X => {
                    if r[d] != r[s] {
                        next = jump(pc)
                    }
                }
                opcode::EXIT => return r[0] as u32,
                c => panic!("unexpected opcode {c:#x} at {pc}"),
            }
            pc = next;
            assert!(pc < prog.len(), "jumped out of the program");
        }
        panic!("program did not terminate")
    }

    fn check_matches_reference(oci: &[oci_spec::runtime::LinuxDeviceCgroup]) {
        let rules = DeviceRule::parse_all(oci).unwrap();
        let prog = Program::from_rules(&rules).unwrap();
        let bytes = prog.to_bytes();
        assert_eq!(bytes.len(), prog.instructions().len() * Instruction::SIZE);
        for (kind, t) in [
            (DeviceKind::Char, DEV_CHAR as u32),
            (DeviceKind::Block, DEV_BLOCK as u32),
        ] {
            for major in [0, 1, 5, 136, 254] {
                for minor in [0, 3, 5, 9] {
                    for access in 1..=7 {
                        let want = evaluate(&rules, kind, major, minor, access);
                        let got = run(&bytes, t, access, major, minor);
                        assert_eq!(
                            got,
                            u32::from(want),
                            "{kind:?} {major}:{minor} access {access} rules {rules:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn decodes_to_the_documented_layout() {
        let rules = DeviceRule::parse_all(&[
            rule(false, Some(T::A), None, None, "rwm"),
            rule(true, Some(T::C), Some(1), Some(3), "rwm"),
        ])
        .unwrap();
        let p = Program::from_rules(&rules).unwrap();
        let decoded: Vec<Instruction> = p
            .to_bytes()
            .chunks_exact(8)
            .map(|c| Instruction::decode(c.try_into().unwrap()))
            .collect();
        assert_eq!(decoded, p.instructions());
        let codes: Vec<u8> = decoded.iter().map(|i| i.code).collect();
        use opcode::*;
        assert_eq!(
            codes,
            vec![
                LDX_MEM_W,
                ALU32_AND_K,
                LDX_MEM_W,
                ALU32_RSH_K,
                LDX_MEM_W,
                LDX_MEM_W, // prologue
                JNE_K,
                JNE_K,
                JNE_K,
                ALU32_MOV_K,
                EXIT, // c 1:3 rwm -> allow
                ALU32_MOV_K,
                EXIT, // default (the leading "deny a")
            ]
        );
        // type, major, minor checks jump over the rest of the block (to the default).
        assert_eq!(
            (decoded[6].dst, decoded[6].imm, decoded[6].off),
            (R2, DEV_CHAR, 4)
        );
        assert_eq!((decoded[7].dst, decoded[7].imm, decoded[7].off), (R4, 1, 3));
        assert_eq!((decoded[8].dst, decoded[8].imm, decoded[8].off), (R5, 3, 2));
        assert_eq!(decoded[9].imm, 1);
        assert_eq!(decoded[11].imm, 0);
        // The context loads read access_type, major and minor.
        assert_eq!(
            (decoded[4].dst, decoded[4].src, decoded[4].off),
            (R4, R1, 4)
        );
        assert_eq!(
            (decoded[5].dst, decoded[5].src, decoded[5].off),
            (R5, R1, 8)
        );
    }

    #[test]
    fn empty_list_denies_everything_and_allow_all_allows() {
        let deny = Program::from_rules(&[]).unwrap();
        assert_eq!(deny.instructions().len(), 8);
        assert_eq!(run(&deny.to_bytes(), DEV_CHAR as u32, ACC_READ, 1, 3), 0);
        let allow = Program::from_oci(&[rule(true, None, None, None, "")]).unwrap();
        assert_eq!(run(&allow.to_bytes(), DEV_BLOCK as u32, ACC_WRITE, 8, 0), 1);
    }

    #[test]
    fn matches_reference_semantics_on_a_docker_like_list() {
        check_matches_reference(&[
            rule(false, Some(T::A), None, None, "rwm"),
            rule(true, Some(T::C), None, None, "m"),
            rule(true, Some(T::B), None, None, "m"),
            rule(true, Some(T::C), Some(1), Some(3), "rwm"),
            rule(true, Some(T::C), Some(1), Some(5), "rwm"),
            rule(true, Some(T::C), Some(136), None, "rwm"),
            rule(true, Some(T::C), Some(5), Some(0), "rw"),
            rule(false, Some(T::C), Some(1), Some(5), "w"),
        ]);
    }

    #[test]
    fn matches_reference_semantics_with_shadowing_wildcards() {
        // Everything before "allow a" is shadowed; later denies still apply.
        check_matches_reference(&[
            rule(false, Some(T::C), Some(1), Some(3), "rwm"),
            rule(true, None, None, None, "rwm"),
            rule(false, Some(T::B), Some(254), None, "rw"),
            rule(false, None, Some(5), Some(0), "m"),
            rule(true, Some(T::U), Some(5), Some(0), "r"),
        ]);
        check_matches_reference(&[rule(true, Some(T::B), None, Some(0), "r")]);
        check_matches_reference(&[
            rule(true, Some(T::A), Some(1), None, "rw"),
            rule(false, None, None, None, ""),
        ]);
        let _ = (ACC_MKNOD, ACC_ALL);
    }
}
