//! The embedded DNS server: Docker's 127.0.0.11 inside containers on
//! user-defined networks.
//!
//! # Topology
//!
//! ```text
//!   container A's netns          container B's netns        berthd's netns
//!   127.0.0.11:53 udp ─┐         127.0.0.11:53 udp ─┐       host forwarders
//!   127.0.0.11:53 tcp ─┤         127.0.0.11:53 tcp ─┤       (udp, 0.0.0.0:0
//!   [forwarder to its  │         ...                │        and [::]:0)
//!    --dns servers]    │                            │            │
//!                      └───────────── one thread: poll(2) ───────┘
//!                                  + a wake socket for commands
//! ```
//!
//! [`DnsServer::register`] makes a container's sockets on the caller's
//! side with [`netns::run_in`] (a socket keeps the namespace it was made
//! in; `lo` must be up, and it owns 127.0.0.0/8, so 127.0.0.11 binds with
//! no address added) and hands them to the server thread, which serves
//! every container from one `poll` loop. [`DnsServer::unregister`] takes
//! them back (and waits until they are closed).
//!
//! # Answers
//!
//! The socket a query arrives on tells which container asks. A, AAAA and
//! PTR questions go to [`Names`], which the engine implements with
//! Docker's scoping (a name resolves only on a network the asking
//! container shares with its owner). A name it knows gets its addresses of
//! the asked family (possibly none: an empty NOERROR, so the client does
//! not go on to the forwarders); anything else is relayed as opaque bytes
//! to the container's [`Upstream`]s with an id of ours, failing over to the
//! next one after [`UPSTREAM_TIMEOUT`], and answered SERVFAIL when there is
//! none or all time out. Upstreams of the host (berthd's `--dns`, the
//! host's resolv.conf) are asked from berthd's namespace, so a resolver on
//! the host's 127.0.0.1 is reachable; a container's own `--dns` servers
//! are asked from its namespace, as dockerd does.
//!
//! TCP: each accepted connection gets a short-lived thread (at most
//! [`MAX_TCP`] at once) that answers or relays over TCP; DNS over TCP is
//! rare (truncated answers), so the poll loop stays UDP-only.

pub mod packet;

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::AsFd;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags};

use crate::netns::{self, NetnsError};
use packet::{Query, Record};

/// Where containers find the server (Docker's address).
pub const LISTEN: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 11)), 53);
/// How long one forwarder gets before the next is tried.
pub const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(2);
/// TCP connections served at once.
pub const MAX_TCP: usize = 32;
/// Queries waiting for a forwarder at once.
const MAX_PENDING: usize = 4096;

/// Names the server answers for; implemented by the engine.
pub trait Names: Send + Sync {
    /// The addresses `name` (lower case, no trailing dot) has for the
    /// container `asker`; `None` when it is not a name of a container
    /// sharing a network with `asker` (the query is then forwarded).
    fn addresses(&self, asker: &str, name: &str) -> Option<Vec<IpAddr>>;
    /// The name of the container holding `ip` on a network `asker`
    /// shares with it (PTR), if any.
    fn name_of(&self, asker: &str, ip: IpAddr) -> Option<String>;
}

/// A resolver queries are forwarded to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Upstream {
    pub addr: SocketAddr,
    /// Asked from the container's namespace (its `--dns`) rather than
    /// berthd's (the daemon's `--dns`, the host's resolv.conf).
    pub in_container: bool,
}

/// A failure to start the server or to serve a container.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DnsError {
    #[error("{step} in the namespace of container {container}")]
    Socket {
        step: &'static str,
        container: String,
        #[source]
        source: std::io::Error,
    },
    #[error("embedded DNS: {step}")]
    Start {
        step: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Netns(#[from] NetnsError),
    #[error("the embedded DNS server has stopped")]
    Stopped,
}

type Result<T, E = DnsError> = std::result::Result<T, E>;

/// One container's sockets.
#[derive(Debug)]
struct Entry {
    id: String,
    netns: PathBuf,
    udp: UdpSocket,
    tcp: TcpListener,
    /// Forwarders in its namespace (v4, v6), for its own `--dns`.
    fwd4: Option<UdpSocket>,
    fwd6: Option<UdpSocket>,
    upstreams: Vec<Upstream>,
}

enum Command {
    Add(Box<Entry>),
    Remove(String, mpsc::Sender<()>),
    Stop,
}

/// The running server; dropping it stops the thread and closes every
/// socket.
#[derive(Debug)]
pub struct DnsServer {
    tx: mpsc::Sender<Command>,
    wake: UnixDatagram,
    thread: Option<JoinHandle<()>>,
}

impl DnsServer {
    /// Starts the server thread (in the caller's namespace, where the
    /// host's forwarders are asked from).
    pub fn start(names: Arc<dyn Names>) -> Result<DnsServer> {
        let (wake, wake_rx) = UnixDatagram::pair().map_err(|source| DnsError::Start {
            step: "wake socket",
            source,
        })?;
        wake_rx
            .set_nonblocking(true)
            .map_err(|source| DnsError::Start {
                step: "wake socket",
                source,
            })?;
        let fwd4 = forwarder("0.0.0.0:0").map_err(|source| DnsError::Start {
            step: "IPv4 forwarding socket",
            source,
        })?;
        // IPv6 may be off on the host; IPv4 forwarders still work.
        let fwd6 = forwarder("[::]:0").ok();
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("berth-dns".into())
            .spawn(move || {
                Server {
                    names,
                    rx,
                    wake: wake_rx,
                    fwd4,
                    fwd6,
                    entries: HashMap::new(),
                    pending: HashMap::new(),
                    next_id: 1,
                    tcp_busy: Arc::new(AtomicUsize::new(0)),
                }
                .run()
            })
            .map_err(|source| DnsError::Start {
                step: "spawn the thread",
                source,
            })?;
        Ok(DnsServer {
            tx,
            wake,
            thread: Some(thread),
        })
    }

    /// Serves `container` (whose namespace is `netns`, with `lo` up) at
    /// 127.0.0.11:53, forwarding to `upstreams`. Registering a container
    /// again replaces its sockets.
    pub fn register(&self, container: &str, netns: &Path, upstreams: Vec<Upstream>) -> Result<()> {
        self.unregister(container);
        let sock_err = |step| {
            let container = container.to_string();
            move |source| DnsError::Socket {
                step,
                container,
                source,
            }
        };
        let want4 = upstreams.iter().any(|u| u.in_container && u.addr.is_ipv4());
        let want6 = upstreams.iter().any(|u| u.in_container && u.addr.is_ipv6());
        let (udp, tcp, fwd4, fwd6) = netns::run_in(Some(netns), || {
            let udp = UdpSocket::bind(LISTEN).map_err(sock_err("bind udp 127.0.0.11:53"))?;
            let tcp = TcpListener::bind(LISTEN).map_err(sock_err("bind tcp 127.0.0.11:53"))?;
            let fwd4 = want4
                .then(|| forwarder("0.0.0.0:0"))
                .transpose()
                .map_err(sock_err("IPv4 forwarding socket"))?;
            let fwd6 = want6.then(|| forwarder("[::]:0")).and_then(|r| r.ok());
            Ok::<_, DnsError>((udp, tcp, fwd4, fwd6))
        })??;
        udp.set_nonblocking(true)
            .and_then(|()| tcp.set_nonblocking(true))
            .map_err(sock_err("non-blocking sockets"))?;
        let entry = Entry {
            id: container.to_string(),
            netns: netns.to_path_buf(),
            udp,
            tcp,
            fwd4,
            fwd6,
            upstreams,
        };
        self.send(Command::Add(Box::new(entry)))
    }

    /// Stops serving `container` and waits (briefly) until its sockets are
    /// closed. Unknown containers are fine.
    pub fn unregister(&self, container: &str) {
        let (done, wait) = mpsc::channel();
        if self
            .send(Command::Remove(container.to_string(), done))
            .is_ok()
        {
            let _ = wait.recv_timeout(Duration::from_secs(2));
        }
    }

    fn send(&self, cmd: Command) -> Result<()> {
        self.tx.send(cmd).map_err(|_| DnsError::Stopped)?;
        // A full wake socket already has the thread awake.
        let _ = self.wake.send(&[1]);
        Ok(())
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        let _ = self.send(Command::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn forwarder(addr: &str) -> std::io::Result<UdpSocket> {
    let s = UdpSocket::bind(addr)?;
    s.set_nonblocking(true)?;
    Ok(s)
}

/// A query relayed to a forwarder.
struct Pending {
    container: String,
    client: SocketAddr,
    client_id: u16,
    /// The query with our id.
    packet: Vec<u8>,
    /// Which of the container's upstreams has it.
    upstream: usize,
    deadline: Instant,
}

/// What a polled descriptor is.
#[derive(Clone, Copy)]
enum Source<'a> {
    Wake,
    HostFwd,
    Udp(&'a str),
    Tcp(&'a str),
    ContainerFwd(&'a str),
}

struct Server {
    names: Arc<dyn Names>,
    rx: mpsc::Receiver<Command>,
    wake: UnixDatagram,
    fwd4: UdpSocket,
    fwd6: Option<UdpSocket>,
    entries: HashMap<String, Entry>,
    pending: HashMap<u16, Pending>,
    next_id: u16,
    tcp_busy: Arc<AtomicUsize>,
}

/// Readiness found by one poll, copied out so the handlers may borrow the
/// server mutably.
enum Ready {
    Wake,
    HostFwd(usize),
    Udp(String),
    Tcp(String),
    ContainerFwd(String, usize),
}

impl Server {
    fn run(mut self) {
        let mut buf = vec![0u8; 65535];
        loop {
            let ready = self.wait();
            for r in ready {
                match r {
                    Ready::Wake => {
                        while self.wake.recv(&mut buf).is_ok() {}
                        if !self.commands() {
                            return;
                        }
                    }
                    Ready::HostFwd(fam) => self.upstream_replies(None, fam, &mut buf),
                    Ready::ContainerFwd(id, fam) => self.upstream_replies(Some(&id), fam, &mut buf),
                    Ready::Udp(id) => self.queries(&id, &mut buf),
                    Ready::Tcp(id) => self.accept(&id),
                }
            }
            self.expire();
        }
    }

    /// Polls every descriptor until one is ready or a forwarded query's
    /// deadline comes.
    fn wait(&self) -> Vec<Ready> {
        let mut fds = vec![PollFd::new(&self.wake, PollFlags::IN)];
        let mut what = vec![(Source::Wake, 0)];
        fds.push(PollFd::new(&self.fwd4, PollFlags::IN));
        what.push((Source::HostFwd, 4));
        if let Some(s) = &self.fwd6 {
            fds.push(PollFd::new(s, PollFlags::IN));
            what.push((Source::HostFwd, 6));
        }
        for e in self.entries.values() {
            fds.push(PollFd::from_borrowed_fd(e.udp.as_fd(), PollFlags::IN));
            what.push((Source::Udp(&e.id), 0));
            fds.push(PollFd::from_borrowed_fd(e.tcp.as_fd(), PollFlags::IN));
            what.push((Source::Tcp(&e.id), 0));
            for (s, fam) in [(&e.fwd4, 4), (&e.fwd6, 6)] {
                if let Some(s) = s {
                    fds.push(PollFd::from_borrowed_fd(s.as_fd(), PollFlags::IN));
                    what.push((Source::ContainerFwd(&e.id), fam));
                }
            }
        }
        let timeout = self
            .pending
            .values()
            .map(|p| p.deadline.saturating_duration_since(Instant::now()))
            .min()
            .map(|d| rustix::event::Timespec {
                tv_sec: d.as_secs() as i64,
                tv_nsec: i64::from(d.subsec_nanos()),
            });
        match rustix::event::poll(&mut fds, timeout.as_ref()) {
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => return Vec::new(),
            Err(e) => {
                tracing::warn!("embedded DNS: poll: {e}");
                std::thread::sleep(Duration::from_millis(100));
                return Vec::new();
            }
        }
        fds.iter()
            .zip(what)
            .filter(|(fd, _)| !fd.revents().is_empty())
            .map(|(_, (src, fam))| match src {
                Source::Wake => Ready::Wake,
                Source::HostFwd => Ready::HostFwd(fam),
                Source::Udp(id) => Ready::Udp(id.to_string()),
                Source::Tcp(id) => Ready::Tcp(id.to_string()),
                Source::ContainerFwd(id) => Ready::ContainerFwd(id.to_string(), fam),
            })
            .collect()
    }

    /// Applies queued commands; false on Stop.
    fn commands(&mut self) -> bool {
        while let Ok(cmd) = self.rx.try_recv() {
            match cmd {
                Command::Add(e) => {
                    self.entries.insert(e.id.clone(), *e);
                }
                Command::Remove(id, done) => {
                    self.entries.remove(&id);
                    self.pending.retain(|_, p| p.container != id);
                    let _ = done.send(());
                }
                Command::Stop => return false,
            }
        }
        true
    }

    /// Reads every waiting query of one container.
    fn queries(&mut self, id: &str, buf: &mut [u8]) {
        for _ in 0..64 {
            let Some(entry) = self.entries.get(id) else {
                return;
            };
            let (n, client) = match entry.udp.recv_from(buf) {
                Ok(r) => r,
                Err(_) => return,
            };
            let packet = &buf[..n];
            let query = match Query::parse(packet) {
                Ok(q) => q,
                Err(_) => {
                    if let Some(reply) = packet::error_reply(packet, packet::FORMERR) {
                        let _ = entry.udp.send_to(&reply, client);
                    }
                    continue;
                }
            };
            if let Some(reply) = local_answer(self.names.as_ref(), id, &query) {
                let _ = entry.udp.send_to(&reply, client);
                continue;
            }
            if entry.upstreams.is_empty() || self.pending.len() >= MAX_PENDING {
                let _ = entry
                    .udp
                    .send_to(&query.answer(packet::SERVFAIL, &[]), client);
                continue;
            }
            let our_id = self.fresh_id();
            let mut relayed = packet.to_vec();
            packet::set_id(&mut relayed, our_id);
            let p = Pending {
                container: id.to_string(),
                client,
                client_id: query.id,
                packet: relayed,
                upstream: 0,
                deadline: Instant::now() + UPSTREAM_TIMEOUT,
            };
            self.send_upstream(&p);
            self.pending.insert(our_id, p);
        }
    }

    fn fresh_id(&mut self) -> u16 {
        loop {
            let id = self.next_id;
            self.next_id = self.next_id.wrapping_add(1);
            if !self.pending.contains_key(&id) {
                return id;
            }
        }
    }

    fn send_upstream(&self, p: &Pending) {
        let Some(entry) = self.entries.get(&p.container) else {
            return;
        };
        let Some(up) = entry.upstreams.get(p.upstream) else {
            return;
        };
        let sock = match (up.in_container, up.addr.is_ipv4()) {
            (false, true) => Some(&self.fwd4),
            (false, false) => self.fwd6.as_ref(),
            (true, true) => entry.fwd4.as_ref(),
            (true, false) => entry.fwd6.as_ref(),
        };
        if let Some(s) = sock {
            let _ = s.send_to(&p.packet, up.addr);
        }
    }

    /// Relays forwarders' answers on one socket (the host's when
    /// `container` is `None`) back to the clients.
    fn upstream_replies(&mut self, container: Option<&str>, fam: usize, buf: &mut [u8]) {
        for _ in 0..64 {
            let sock = match container {
                None if fam == 4 => Some(&self.fwd4),
                None => self.fwd6.as_ref(),
                Some(id) => self.entries.get(id).and_then(|e| {
                    if fam == 4 {
                        e.fwd4.as_ref()
                    } else {
                        e.fwd6.as_ref()
                    }
                }),
            };
            let Some(sock) = sock else {
                return;
            };
            let (n, from) = match sock.recv_from(buf) {
                Ok(r) => r,
                Err(_) => return,
            };
            let Some(our_id) = packet::id_of(&buf[..n]) else {
                continue;
            };
            // Only the forwarder that was asked, on the socket it was asked
            // on, may answer.
            let matches = self.pending.get(&our_id).is_some_and(|p| {
                container.is_none_or(|c| c == p.container)
                    && self
                        .entries
                        .get(&p.container)
                        .and_then(|e| e.upstreams.get(p.upstream))
                        .is_some_and(|u| u.addr == from && u.in_container == container.is_some())
            });
            if !matches {
                continue;
            }
            let Some(p) = self.pending.remove(&our_id) else {
                continue;
            };
            packet::set_id(&mut buf[..n], p.client_id);
            if let Some(e) = self.entries.get(&p.container) {
                let _ = e.udp.send_to(&buf[..n], p.client);
            }
        }
    }

    /// Forwarded queries past their deadline go to the next forwarder, or
    /// get SERVFAIL.
    fn expire(&mut self) {
        let now = Instant::now();
        let late: Vec<u16> = self
            .pending
            .iter()
            .filter(|(_, p)| p.deadline <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in late {
            let Some(mut p) = self.pending.remove(&id) else {
                continue;
            };
            let Some(entry) = self.entries.get(&p.container) else {
                continue;
            };
            if p.upstream + 1 < entry.upstreams.len() {
                p.upstream += 1;
                p.deadline = now + UPSTREAM_TIMEOUT;
                self.send_upstream(&p);
                self.pending.insert(id, p);
                continue;
            }
            if let Ok(mut q) = Query::parse(&p.packet) {
                q.id = p.client_id;
                let _ = entry
                    .udp
                    .send_to(&q.answer(packet::SERVFAIL, &[]), p.client);
            }
        }
    }

    /// Accepts a TCP client and serves it on a thread of its own.
    fn accept(&mut self, id: &str) {
        let Some(entry) = self.entries.get(id) else {
            return;
        };
        while let Ok((stream, _)) = entry.tcp.accept() {
            if self.tcp_busy.load(Ordering::Relaxed) >= MAX_TCP {
                continue; // dropped: the client retries
            }
            let names = self.names.clone();
            let busy = self.tcp_busy.clone();
            let asker = entry.id.clone();
            let netns = entry.netns.clone();
            let upstreams = entry.upstreams.clone();
            busy.fetch_add(1, Ordering::Relaxed);
            let spawned = std::thread::Builder::new()
                .name("berth-dns-tcp".into())
                .spawn(move || {
                    serve_tcp(stream, names.as_ref(), &asker, &netns, &upstreams);
                    busy.fetch_sub(1, Ordering::Relaxed);
                });
            if spawned.is_err() {
                self.tcp_busy.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }
}

/// The answer to a query from what [`Names`] knows, or `None` to forward.
fn local_answer(names: &dyn Names, asker: &str, q: &Query) -> Option<Vec<u8>> {
    if !q.is_internet() || q.name.is_empty() {
        return None;
    }
    if q.qtype == packet::TYPE_PTR {
        let ip = packet::reverse_address(&q.name)?;
        let name = names.name_of(asker, ip)?;
        return Some(q.answer(packet::NOERROR, &[Record::Name(name)]));
    }
    let addrs = names.addresses(asker, &q.name)?;
    let records: Vec<Record> = addrs
        .into_iter()
        .filter(|ip| match q.qtype {
            packet::TYPE_A => ip.is_ipv4(),
            packet::TYPE_AAAA => ip.is_ipv6(),
            _ => false,
        })
        .map(Record::Addr)
        .collect();
    Some(q.answer(packet::NOERROR, &records))
}

/// One TCP client: length-prefixed queries until it closes or idles.
fn serve_tcp(
    mut stream: TcpStream,
    names: &dyn Names,
    asker: &str,
    netns: &Path,
    upstreams: &[Upstream],
) {
    let timeout = Some(Duration::from_secs(5));
    if stream.set_nonblocking(false).is_err()
        || stream.set_read_timeout(timeout).is_err()
        || stream.set_write_timeout(timeout).is_err()
    {
        return;
    }
    while let Some(query) = read_message(&mut stream) {
        let reply = match Query::parse(&query) {
            Err(_) => packet::error_reply(&query, packet::FORMERR),
            Ok(q) => local_answer(names, asker, &q)
                .or_else(|| relay_tcp(&query, netns, upstreams))
                .or_else(|| Some(q.answer(packet::SERVFAIL, &[]))),
        };
        let Some(reply) = reply else {
            return;
        };
        if write_message(&mut stream, &reply).is_err() {
            return;
        }
    }
}

/// Asks the forwarders over TCP, in order.
fn relay_tcp(query: &[u8], netns: &Path, upstreams: &[Upstream]) -> Option<Vec<u8>> {
    for up in upstreams {
        let connect = || TcpStream::connect_timeout(&up.addr, UPSTREAM_TIMEOUT);
        let stream = if up.in_container {
            netns::run_in(Some(netns), connect)
                .ok()
                .and_then(|r| r.ok())
        } else {
            connect().ok()
        };
        let Some(mut s) = stream else {
            continue;
        };
        let _ = s.set_read_timeout(Some(UPSTREAM_TIMEOUT));
        if write_message(&mut s, query).is_ok()
            && let Some(answer) = read_message(&mut s)
        {
            return Some(answer);
        }
    }
    None
}

fn read_message(s: &mut TcpStream) -> Option<Vec<u8>> {
    let mut len = [0u8; 2];
    s.read_exact(&mut len).ok()?;
    let mut msg = vec![0u8; usize::from(u16::from_be_bytes(len))];
    s.read_exact(&mut msg).ok()?;
    Some(msg)
}

fn write_message(s: &mut TcpStream, msg: &[u8]) -> std::io::Result<()> {
    let len = u16::try_from(msg.len()).map_err(|_| std::io::Error::from(ErrorKind::InvalidData))?;
    let mut out = Vec::with_capacity(msg.len() + 2);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(msg);
    s.write_all(&out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `web` is 10.0.0.2 and fd00::2 for `a` only; 10.0.0.2 is `web`.
    struct Fake;

    impl Names for Fake {
        fn addresses(&self, asker: &str, name: &str) -> Option<Vec<IpAddr>> {
            (asker == "a" && name == "web")
                .then(|| vec!["10.0.0.2".parse().unwrap(), "fd00::2".parse().unwrap()])
        }
        fn name_of(&self, asker: &str, ip: IpAddr) -> Option<String> {
            (asker == "a" && ip == IpAddr::from([10, 0, 0, 2])).then(|| "web".to_string())
        }
    }

    fn query(name: &str, qtype: u16) -> Query {
        let mut p = vec![0, 7, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        for l in name.split('.') {
            p.push(l.len() as u8);
            p.extend_from_slice(l.as_bytes());
        }
        p.push(0);
        p.extend_from_slice(&qtype.to_be_bytes());
        p.extend_from_slice(&[0, 1]);
        Query::parse(&p).unwrap()
    }

    fn answers(reply: &[u8]) -> u16 {
        u16::from_be_bytes([reply[6], reply[7]])
    }

    #[test]
    fn known_names_are_answered_by_family_and_scope() {
        let a = local_answer(&Fake, "a", &query("web", packet::TYPE_A)).unwrap();
        assert_eq!(answers(&a), 1);
        assert!(a.ends_with(&[10, 0, 0, 2]));
        let aaaa = local_answer(&Fake, "a", &query("web", packet::TYPE_AAAA)).unwrap();
        assert_eq!(answers(&aaaa), 1);
        // A name of ours with no record of the type: empty NOERROR.
        let mx = local_answer(&Fake, "a", &query("web", 15)).unwrap();
        assert_eq!((answers(&mx), mx[3] & 0x0F), (0, packet::NOERROR));
        // Another container does not share the network: forwarded.
        assert!(local_answer(&Fake, "b", &query("web", packet::TYPE_A)).is_none());
        assert!(local_answer(&Fake, "a", &query("example.com", packet::TYPE_A)).is_none());
        let ptr = local_answer(
            &Fake,
            "a",
            &query("2.0.0.10.in-addr.arpa", packet::TYPE_PTR),
        );
        assert!(ptr.unwrap().ends_with(&[0, 5, 3, b'w', b'e', b'b', 0]));
        assert!(
            local_answer(
                &Fake,
                "a",
                &query("3.0.0.10.in-addr.arpa", packet::TYPE_PTR)
            )
            .is_none()
        );
    }
}
