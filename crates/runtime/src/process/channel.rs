//! The socket pair between the runtime and the processes it creates, wrapped
//! in one type per side whose methods say what they ask for.
//!
//! Channel design: one `SOCK_SEQPACKET` pair, close-on-exec on both ends.
//! The runtime keeps [`ToChild`], the child side is [`ToRuntime`]; an
//! intermediate and the init share the child end, one after the other.
//! End-of-file on the runtime's side means every child-side copy is gone:
//! the child died, or (after `Start`) it executed the user process.

use std::io::{IoSlice, IoSliceMut};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::net::{
    AddressFamily, RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SendAncillaryBuffer,
    SendAncillaryMessage, SendFlags, SocketFlags, SocketType,
};

use super::message::Message;

/// One end of the pair.
#[derive(Debug)]
struct End(OwnedFd);

impl End {
    fn send(&self, msg: &Message, fd: Option<BorrowedFd<'_>>) -> std::io::Result<()> {
        let bytes = msg.encode();
        let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
        let mut cmsg = SendAncillaryBuffer::new(&mut space);
        let fds;
        if let Some(fd) = fd {
            fds = [fd];
            cmsg.push(SendAncillaryMessage::ScmRights(&fds));
        }
        rustix::net::sendmsg(
            &self.0,
            &[IoSlice::new(&bytes)],
            &mut cmsg,
            SendFlags::NOSIGNAL,
        )?;
        Ok(())
    }

    /// `Ok(None)` on end-of-file.
    fn recv(&self) -> std::io::Result<Option<(Message, Option<OwnedFd>)>> {
        let mut buf = vec![0u8; 8 * 1024];
        let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
        let mut cmsg = RecvAncillaryBuffer::new(&mut space);
        let n = loop {
            match rustix::net::recvmsg(
                &self.0,
                &mut [IoSliceMut::new(&mut buf)],
                &mut cmsg,
                RecvFlags::CMSG_CLOEXEC,
            ) {
                Ok(r) => break r.bytes,
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => return Err(e.into()),
            }
        };
        if n == 0 {
            return Ok(None);
        }
        let mut fd = None;
        for m in cmsg.drain() {
            if let RecvAncillaryMessage::ScmRights(mut fds) = m {
                fd = fds.next();
            }
        }
        let msg = Message::decode(&buf[..n]).ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidData, "malformed sync message")
        })?;
        Ok(Some((msg, fd)))
    }
}

/// Make the pair: (runtime side, child side).
pub fn pair() -> std::io::Result<(ToChild, ToRuntime)> {
    let (a, b) = rustix::net::socketpair(
        AddressFamily::UNIX,
        SocketType::SEQPACKET,
        SocketFlags::CLOEXEC,
        None,
    )?;
    Ok((ToChild(End(a)), ToRuntime(End(b))))
}

/// What the runtime says to and hears from its child.
#[derive(Debug)]
pub struct ToChild(End);

/// What the child hears from and says to the runtime.
#[derive(Debug)]
pub struct ToRuntime(End);

/// What the runtime received.
#[derive(Debug)]
pub enum Event {
    /// A message (with its fd, if any).
    Message(Message, Option<OwnedFd>),
    /// Every child-side end is closed.
    Closed,
}

impl ToChild {
    /// Let the child go on (cgroup joined, maps written).
    pub fn go(&self) -> std::io::Result<()> {
        self.0.send(&Message::Go, None)
    }
    /// Tell the intermediate its maps are written.
    pub fn maps_written(&self) -> std::io::Result<()> {
        self.0.send(&Message::MapsWritten, None)
    }
    /// Tell the init the createRuntime hooks ran.
    pub fn hooks_done(&self) -> std::io::Result<()> {
        self.0.send(&Message::HooksDone, None)
    }
    /// Tell the init to execute the user process.
    pub fn start(&self) -> std::io::Result<()> {
        self.0.send(&Message::Start, None)
    }
    /// Wait for the next event.
    pub fn next(&self) -> std::io::Result<Event> {
        Ok(match self.0.recv()? {
            Some((m, fd)) => Event::Message(m, fd),
            None => Event::Closed,
        })
    }
    /// The raw fd (to poll it).
    pub fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.0.as_fd()
    }
}

impl ToRuntime {
    /// Wait for a specific message; anything else (or EOF) is an error.
    fn expect(&self, want: Message) -> Result<(), String> {
        match self.0.recv() {
            Ok(Some((m, _))) if m == want => Ok(()),
            Ok(Some((m, _))) => Err(format!("expected {want:?} from the runtime, got {m:?}")),
            Ok(None) => Err("the runtime went away".into()),
            Err(e) => Err(format!("read from the runtime: {e}")),
        }
    }
    /// Wait for `Go`.
    pub fn wait_go(&self) -> Result<(), String> {
        self.expect(Message::Go)
    }
    /// Ask for id maps and wait until they are written.
    pub fn request_maps(&self) -> Result<(), String> {
        self.send(&Message::MapsPlease)?;
        self.expect(Message::MapsWritten)
    }
    /// Report the init's pid (intermediate).
    pub fn init_pid(&self, pid: i32) -> Result<(), String> {
        self.send(&Message::InitPid(pid))
    }
    /// Ask for the createRuntime hooks and wait for them.
    pub fn run_hooks(&self) -> Result<(), String> {
        self.send(&Message::RunHooks)?;
        self.expect(Message::HooksDone)
    }
    /// Hand over the seccomp listener fd.
    pub fn seccomp_listener(&self, fd: BorrowedFd<'_>) -> Result<(), String> {
        self.0
            .send(&Message::SeccompListener, Some(fd))
            .map_err(|e| format!("send the seccomp listener: {e}"))
    }
    /// Report readiness.
    pub fn ready(&self) -> Result<(), String> {
        self.send(&Message::Ready)
    }
    /// Wait for `Start`.
    pub fn wait_start(&self) -> Result<(), String> {
        self.expect(Message::Start)
    }
    /// Report a failure. When the runtime is gone (after `create`
    /// returned), the container's stderr is the only place left for it.
    pub fn failed(&self, msg: &str) {
        if self
            .0
            .send(&Message::Failed(msg.to_string()), None)
            .is_err()
        {
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "berth-runtime: {msg}");
        }
    }
    fn send(&self, m: &Message) -> Result<(), String> {
        self.0
            .send(m, None)
            .map_err(|e| format!("write to the runtime: {e}"))
    }
}
