//! Every message the runtime and the processes it creates exchange, and their
//! wire form: one `SOCK_SEQPACKET` datagram each, a tag byte then a payload.

/// A message between the runtime and a process it created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    // runtime -> child
    /// The child is in its cgroup and its id maps are written: go on.
    Go,
    /// The uid/gid maps of the intermediate's new user namespace are written.
    MapsWritten,
    /// The createRuntime (and prestart) hooks ran.
    HooksDone,
    /// Execute the user process now (`run`; `create` uses the exec FIFO).
    Start,
    // child -> runtime
    /// The intermediate made a user namespace and needs its id maps.
    MapsPlease,
    /// The intermediate created the init; this is its pid.
    InitPid(i32),
    /// The rootfs is mounted: run the createRuntime hooks now.
    RunHooks,
    /// The seccomp listener fd rides along (`SCM_RIGHTS`).
    SeccompListener,
    /// Set up and waiting for start.
    Ready,
    /// Setup failed; the text says which step and why.
    Failed(String),
}

impl Message {
    /// Encode as tag + payload.
    pub fn encode(&self) -> Vec<u8> {
        let (tag, payload): (u8, Vec<u8>) = match self {
            Message::Go => (1, vec![]),
            Message::MapsWritten => (2, vec![]),
            Message::HooksDone => (3, vec![]),
            Message::Start => (4, vec![]),
            Message::MapsPlease => (10, vec![]),
            Message::InitPid(pid) => (11, pid.to_le_bytes().to_vec()),
            Message::RunHooks => (12, vec![]),
            Message::SeccompListener => (13, vec![]),
            Message::Ready => (14, vec![]),
            Message::Failed(msg) => (15, msg.as_bytes().to_vec()),
        };
        let mut out = Vec::with_capacity(1 + payload.len());
        out.push(tag);
        out.extend_from_slice(&payload);
        out
    }

    /// Decode what [`Message::encode`] produced.
    pub fn decode(b: &[u8]) -> Option<Message> {
        let (&tag, payload) = b.split_first()?;
        Some(match tag {
            1 => Message::Go,
            2 => Message::MapsWritten,
            3 => Message::HooksDone,
            4 => Message::Start,
            10 => Message::MapsPlease,
            11 => Message::InitPid(i32::from_le_bytes(payload.try_into().ok()?)),
            12 => Message::RunHooks,
            13 => Message::SeccompListener,
            14 => Message::Ready,
            15 => Message::Failed(String::from_utf8_lossy(payload).into_owned()),
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for m in [
            Message::Go,
            Message::MapsWritten,
            Message::HooksDone,
            Message::Start,
            Message::MapsPlease,
            Message::InitPid(-7),
            Message::RunHooks,
            Message::SeccompListener,
            Message::Ready,
            Message::Failed("mount /proc: EPERM".into()),
        ] {
            assert_eq!(Message::decode(&m.encode()), Some(m));
        }
        assert_eq!(Message::decode(&[]), None);
        assert_eq!(Message::decode(&[99]), None);
        assert_eq!(Message::decode(&[11, 1, 2]), None);
    }
}
