//! Helpers for the privileged tests: namespaces under a temporary directory
//! that a Drop guard always removes, and small TCP/UDP servers and clients
//! run inside a namespace. Traffic goes only to 127.0.0.0/8 and to addresses
//! of namespaces the test made.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use berth_network::netlink::Netlink;
use berth_network::netns;

/// Namespace files in a temporary directory, removed on drop (which also
/// destroys every interface and nftables table inside them).
pub struct Namespaces {
    dir: tempfile::TempDir,
    made: Vec<PathBuf>,
}

impl Namespaces {
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("berth-netns-")
            .tempdir()
            .expect("temporary directory");
        Namespaces {
            dir,
            made: Vec::new(),
        }
    }

    /// A new namespace `berth-<name>` with `lo` up.
    pub fn make(&mut self, name: &str) -> PathBuf {
        let path = self.dir.path().join(format!("berth-{name}"));
        netns::create(&path).expect("create a network namespace");
        self.made.push(path.clone());
        Netlink::open_in(Some(&path)).unwrap().set_up("lo").unwrap();
        path
    }
}

impl Drop for Namespaces {
    fn drop(&mut self) {
        for p in &self.made {
            if let Err(e) = netns::remove(p) {
                eprintln!("cleanup: {e}");
            }
        }
    }
}

/// A random-ish suffix for names (`berth-t<suffix>`), unique per process
/// and call.
pub fn suffix() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{:05x}{}",
        (t ^ std::process::id()) & 0xfffff,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A TCP server in `ns` on `port` that answers every connection with
/// `reply`; runs until the process ends.
pub fn tcp_server(ns: &Path, addr: &str, reply: &'static str) -> SocketAddr {
    let listener = netns::run_in(Some(ns), || TcpListener::bind(addr))
        .unwrap()
        .expect("bind in the namespace");
    let local = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for mut c in listener.incoming().flatten() {
            let _ = c.write_all(reply.as_bytes());
        }
    });
    local
}

/// A UDP server in `ns` that answers every datagram with `reply`.
pub fn udp_server(ns: &Path, addr: &str, reply: &'static str) {
    let sock = netns::run_in(Some(ns), || UdpSocket::bind(addr))
        .unwrap()
        .expect("bind udp in the namespace");
    std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        while let Ok((_, from)) = sock.recv_from(&mut buf) {
            let _ = sock.send_to(reply.as_bytes(), from);
        }
    });
}

/// Connects from `ns` (`None`: this namespace) and reads what the server
/// says; `Err` when the connection fails.
pub fn tcp_fetch(ns: Option<&Path>, to: &str) -> std::io::Result<String> {
    let to: SocketAddr = to.parse().unwrap();
    let mut stream = netns::run_in(ns, || {
        TcpStream::connect_timeout(&to, Duration::from_secs(2))
    })
    .unwrap()?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    let mut s = String::new();
    stream.read_to_string(&mut s)?;
    Ok(s)
}

/// Sends a datagram from `ns` and waits for the answer.
pub fn udp_ask(ns: Option<&Path>, to: &str) -> std::io::Result<String> {
    let sock = netns::run_in(ns, || UdpSocket::bind("0.0.0.0:0")).unwrap()?;
    sock.set_read_timeout(Some(Duration::from_secs(2)))?;
    sock.send_to(b"?", to)?;
    let mut buf = [0u8; 512];
    let (n, _) = sock.recv_from(&mut buf)?;
    Ok(String::from_utf8_lossy(&buf[..n]).into_owned())
}

/// Runs a command inside `ns` (`None`: here); returns success and output.
pub fn run(ns: Option<&Path>, cmd: &[&str]) -> (bool, String) {
    let out = netns::run_in(ns, || Command::new(cmd[0]).args(&cmd[1..]).output())
        .unwrap()
        .unwrap_or_else(|e| panic!("run {cmd:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Ping once from `ns` with busybox.
pub fn ping(ns: &Path, ip: &str) -> bool {
    run(
        Some(ns),
        &[berth_testutil::BUSYBOX, "ping", "-c", "1", "-W", "2", ip],
    )
    .0
}
