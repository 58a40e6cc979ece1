//! Terminals: the pty a container gets when `process.terminal` is true, the
//! console-socket protocol that hands its master to the caller (runc's:
//! one `SCM_RIGHTS` message carrying the fd, with the pty name as data), and
//! the proxy `run`/`exec` use in the foreground.

use std::io::IoSlice;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use rustix::net::{
    RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SendAncillaryBuffer,
    SendAncillaryMessage, SendFlags,
};

/// A new pty made from the container's `/dev/ptmx`.
#[derive(Debug)]
pub struct Pty {
    /// The master side, sent to the console socket.
    pub master: OwnedFd,
    /// The slave side, the process's stdio and controlling terminal.
    pub slave: OwnedFd,
    /// `/dev/pts/N`.
    pub name: String,
}

/// Open a pty from `/dev/ptmx` of the current mount namespace, sized
/// `rows`x`cols` when given.
pub fn open_pty(size: Option<(u16, u16)>) -> std::io::Result<Pty> {
    use rustix::pty::OpenptFlags as F;
    let master = rustix::pty::openpt(F::RDWR | F::NOCTTY | F::CLOEXEC)?;
    rustix::pty::unlockpt(&master)?;
    // TIOCGPTPEER opens the slave without a path lookup in the container.
    let slave = rustix::pty::ioctl_tiocgptpeer(&master, F::RDWR | F::NOCTTY | F::CLOEXEC)?;
    let name = rustix::pty::ptsname(&master, Vec::new())?
        .into_string()
        .unwrap_or_default();
    if let Some((rows, cols)) = size {
        set_size(master.as_fd(), rows, cols)?;
    }
    Ok(Pty {
        master,
        slave,
        name,
    })
}

/// Set a terminal's window size.
pub fn set_size(fd: BorrowedFd<'_>, rows: u16, cols: u16) -> std::io::Result<()> {
    rustix::termios::tcsetwinsize(
        fd,
        rustix::termios::Winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        },
    )?;
    Ok(())
}

/// Make `slave` the calling process's controlling terminal and stdio.
pub fn make_controlling(slave: &OwnedFd) -> std::io::Result<()> {
    let _ = rustix::process::setsid();
    rustix::process::ioctl_tiocsctty(slave)?;
    rustix::stdio::dup2_stdin(slave)?;
    rustix::stdio::dup2_stdout(slave)?;
    rustix::stdio::dup2_stderr(slave)?;
    Ok(())
}

/// Send `master` over the console socket, as runc does.
pub fn send_master(
    socket: BorrowedFd<'_>,
    master: BorrowedFd<'_>,
    name: &str,
) -> std::io::Result<()> {
    let fds = [master];
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut cmsg = SendAncillaryBuffer::new(&mut space);
    cmsg.push(SendAncillaryMessage::ScmRights(&fds));
    let data = if name.is_empty() { "/dev/ptmx" } else { name };
    rustix::net::sendmsg(
        socket,
        &[IoSlice::new(data.as_bytes())],
        &mut cmsg,
        SendFlags::empty(),
    )?;
    Ok(())
}

/// Receive one fd sent with [`send_master`].
pub fn recv_fd(socket: BorrowedFd<'_>) -> std::io::Result<OwnedFd> {
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut cmsg = RecvAncillaryBuffer::new(&mut space);
    let mut buf = [0u8; 4096];
    rustix::net::recvmsg(
        socket,
        &mut [std::io::IoSliceMut::new(&mut buf)],
        &mut cmsg,
        RecvFlags::CMSG_CLOEXEC,
    )?;
    for msg in cmsg.drain() {
        if let RecvAncillaryMessage::ScmRights(mut fds) = msg
            && let Some(fd) = fds.next()
        {
            return Ok(fd);
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        "console socket message carried no file descriptor",
    ))
}

/// Connect to a console socket path.
pub fn connect(path: &Path) -> std::io::Result<OwnedFd> {
    let sock = rustix::net::socket_with(
        rustix::net::AddressFamily::UNIX,
        rustix::net::SocketType::STREAM,
        rustix::net::SocketFlags::CLOEXEC,
        None,
    )?;
    let addr = rustix::net::SocketAddrUnix::new(path)?;
    rustix::net::connect(&sock, &addr)?;
    Ok(sock)
}

/// A connected pair standing in for a console socket when the runtime
/// proxies the terminal itself: (our end, the end the container gets).
pub fn socket_pair() -> std::io::Result<(OwnedFd, OwnedFd)> {
    Ok(rustix::net::socketpair(
        rustix::net::AddressFamily::UNIX,
        rustix::net::SocketType::STREAM,
        rustix::net::SocketFlags::CLOEXEC,
        None,
    )?)
}
