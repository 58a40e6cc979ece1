//! The pure half of Berth's classic (non-BuildKit) image builder: reading a
//! Dockerfile into typed instructions ([`parser`], [`instructions`]),
//! Docker's word expansion of `$VAR`, `${VAR:-default}` and quotes
//! ([`expand`]), and the `.dockerignore` matcher ([`dockerignore`]).
//!
//! Nothing here does I/O: the engine (`berth-engine`'s `build` module)
//! reads the context, runs the steps as containers and commits images; it
//! hands this crate text and gets plain values back.
//!
//! ```
//! let df = berth_build::instructions::parse("FROM busybox AS base\nRUN echo hi\n").unwrap();
//! assert_eq!(df.stages.len(), 1);
//! assert_eq!(df.stages[0].name.as_deref(), Some("base"));
//! assert_eq!(df.stages[0].commands[0].original, "RUN echo hi");
//! ```
#![forbid(unsafe_code)]

pub mod dockerignore;
pub mod expand;
pub mod instructions;
pub mod parser;

pub use expand::{ExpandError, Expander};
pub use instructions::{Command, Dockerfile, Instruction, ParseError, ShellOrExec, Stage};
