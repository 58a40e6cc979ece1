//! Networking through the real docker CLI against a test berthd (its own
//! bridge and nftables table, see `berth_testutil::berthd`): containers on
//! a user-defined network reaching each other, published ports from the
//! host on 127.0.0.1 and on the bridge gateway (and freed after stop, and
//! refused when taken), internal networks, Docker's errors, inspect, live
//! connect/disconnect, `kill -9` of berthd with a published port, and the
//! embedded DNS (127.0.0.11) on user-defined networks.
//!
//! All traffic stays on this machine: 127.0.0.1, the daemon's bridges and
//! the containers' addresses. Name lookups that must fail go to
//! `--dns 127.0.0.1` inside the container, so no query leaves it; the
//! embedded DNS test starts berthd with `--dns` naming a resolver the test
//! runs on a loopback address of the host.
//! Root only; every test skips loudly otherwise.

mod support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::time::Duration;

use support::*;

/// A berthd with a `busybox:latest` imported from a busybox rootfs.
fn daemon_with_busybox(test: &str) -> Option<(Berthd, tempfile::TempDir)> {
    daemon_with_busybox_args(test, &[])
}

/// The same, with berthd started with `args`.
fn daemon_with_busybox_args(test: &str, args: &[&str]) -> Option<(Berthd, tempfile::TempDir)> {
    if !require_root(test) {
        return None;
    }
    for tool in ["nft", "iptables", "ip"] {
        if !berth_testutil::images::have_tool(test, tool) {
            return None;
        }
    }
    let dir = tempfile::Builder::new()
        .prefix("berth-net-")
        .tempdir()
        .unwrap();
    let rootfs = dir.path().join("rootfs");
    berth_testutil::make_rootfs(&rootfs);
    std::fs::create_dir_all(rootfs.join("www")).unwrap();
    std::fs::write(rootfs.join("www/index.html"), "hello from berth\n").unwrap();
    let tar = dir.path().join("rootfs.tar");
    berth_testutil::tar_rootfs(&rootfs, &tar);
    let d = berthd(args);
    ok(d.docker(&["import", tar.to_str().unwrap(), "busybox:latest"]));
    Some((d, dir))
}

/// `docker inspect -f`.
fn inspect(d: &Berthd, what: &str, format: &str) -> String {
    ok(d.docker(&["inspect", "-f", format, what]))
        .trim()
        .to_string()
}

/// A port no one listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `GET /` over a plain TCP connection; `None` if it cannot connect.
fn http_get(addr: &str) -> Option<String> {
    let mut s = TcpStream::connect_timeout(&addr.parse().unwrap(), Duration::from_secs(3)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    s.write_all(b"GET / HTTP/1.0\r\n\r\n").ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

/// Retries `http_get` while the server in the container starts.
fn http_get_soon(addr: &str) -> Option<String> {
    for _ in 0..50 {
        if let Some(r) = http_get(addr).filter(|r| r.contains("hello from berth")) {
            return Some(r);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

const HTTPD: &[&str] = &["busybox", "httpd", "-f", "-p", "80", "-h", "/www"];

/// Nothing of the container's networking is left on the host.
fn endpoint_gone(d: &Berthd, network_id: &str, container_id: &str) {
    // A stopped container's veth is deleted in the background.
    let veth = berth_network::bridge::host_veth_name(network_id, container_id);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while berth_testutil::net_links().contains(&veth) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        !berth_testutil::net_links().contains(&veth),
        "veth {veth} of {container_id} left behind"
    );
    assert!(
        !d.exec_root().join("netns").join(container_id).exists(),
        "netns file of {container_id} left behind"
    );
}

#[test]
fn containers_on_a_user_network_reach_each_other() {
    let Some((d, _dir)) = daemon_with_busybox("containers_on_a_user_network_reach_each_other")
    else {
        return;
    };
    let net = berth_testutil::unique("net");
    let net_id = ok(d.docker(&["network", "create", &net]))
        .trim()
        .to_string();
    assert_eq!(net_id.len(), 64, "{net_id}");
    let mut args = vec![
        "run",
        "-d",
        "--name",
        "srv",
        "--network",
        &net,
        "--network-alias",
        "web",
    ];
    args.extend_from_slice(HTTPD);
    let srv = ok(d.docker(&args)).trim().to_string();
    let key = format!("{{{{(index .NetworkSettings.Networks \"{net}\")");
    let ip = inspect(&d, "srv", &format!("{key}.IPAddress}}}}"));
    let gw = inspect(&d, "srv", &format!("{key}.Gateway}}}}"));
    let mac = inspect(&d, "srv", &format!("{key}.MacAddress}}}}"));
    let prefix = inspect(&d, "srv", &format!("{key}.IPPrefixLen}}}}"));
    let nid = inspect(&d, "srv", &format!("{key}.NetworkID}}}}"));
    let eid = inspect(&d, "srv", &format!("{key}.EndpointID}}}}"));
    let aliases = inspect(&d, "srv", &format!("{key}.Aliases}}}}"));
    assert!(ip.parse::<std::net::Ipv4Addr>().is_ok(), "IPAddress {ip:?}");
    assert!(gw.parse::<std::net::Ipv4Addr>().is_ok(), "Gateway {gw:?}");
    assert!(mac.starts_with("02:42:"), "MacAddress {mac:?}");
    assert_eq!(prefix, "16");
    assert_eq!(nid, net_id);
    assert_eq!(eid.len(), 64, "{eid}");
    assert!(aliases.contains("web"), "{aliases}");
    // The legacy top-level fields are the default bridge's only (Docker).
    assert_eq!(inspect(&d, "srv", "{{.NetworkSettings.IPAddress}}"), "");
    // Its own /etc/hosts names it; resolv.conf names the embedded DNS
    // and no other localhost resolver.
    let hosts = ok(d.docker(&["exec", "srv", "cat", "/etc/hosts"]));
    assert!(
        hosts.contains(&format!("{ip}\t{} web", &srv[..12])),
        "{hosts}"
    );
    let resolv = ok(d.docker(&["exec", "srv", "cat", "/etc/resolv.conf"]));
    let servers: Vec<&str> = resolv
        .lines()
        .filter(|l| l.starts_with("nameserver"))
        .collect();
    assert_eq!(servers, ["nameserver 127.0.0.11"], "{resolv}");

    // Another container on the network fetches it by address (busybox
    // nc: the static busybox's wget crashes in glibc's resolver code).
    let fetch = format!("printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 {ip} 80");
    let mut got = String::new();
    for _ in 0..30 {
        let out = d.docker(&[
            "run",
            "--rm",
            "--network",
            &net,
            "busybox",
            "sh",
            "-c",
            &fetch,
        ]);
        got = String::from_utf8_lossy(&out.stdout).into_owned();
        if got.contains("hello from berth") {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(got.contains("hello from berth"), "{got}");
    // And the host reaches it on its bridge.
    assert!(http_get_soon(&format!("{ip}:80")).is_some());

    // On the default bridge there is no name resolution (as Docker); the
    // lookup goes to a resolver inside the container that is not there.
    let out = d.docker(&[
        "run",
        "--rm",
        "--dns",
        "127.0.0.1",
        "busybox",
        "nslookup",
        "srv",
    ]);
    assert!(!out.status.success(), "srv resolved on the default bridge");

    // network inspect lists the container.
    let v: serde_json::Value =
        serde_json::from_str(&ok(d.docker(&["network", "inspect", &net]))).unwrap();
    let c = &v[0]["Containers"][&srv];
    assert_eq!(c["Name"], "srv");
    assert_eq!(c["IPv4Address"], format!("{ip}/16"));
    assert_eq!(v[0]["Driver"], "bridge");
    assert_eq!(v[0]["Scope"], "local");
    let subnet = v[0]["IPAM"]["Config"][0]["Subnet"]
        .as_str()
        .unwrap()
        .to_string();

    // Errors as Docker's.
    let err = fails(d.docker(&["network", "rm", &net]), 1);
    assert!(
        err.contains(&format!(
            "error while removing network: network {net} id {net_id} has active endpoints"
        )),
        "{err}"
    );
    let err = fails(
        d.docker(&["network", "create", "--subnet", &subnet, "overlapping"]),
        1,
    );
    assert!(
        err.contains("Pool overlaps with other one on this address space"),
        "{err}"
    );
    let err = fails(d.docker(&["network", "inspect", "nosuchnet"]), 1);
    assert!(err.contains("network nosuchnet not found"), "{err}");
    let err = fails(
        d.docker(&["run", "--rm", "--network", "nosuchnet", "busybox", "true"]),
        125,
    );
    assert!(err.contains("network nosuchnet not found"), "{err}");
    let err = fails(d.docker(&["network", "rm", "bridge"]), 1);
    assert!(err.contains("pre-defined network"), "{err}");
    let err = fails(d.docker(&["network", "create", &net]), 1);
    assert!(err.contains("already exists"), "{err}");

    // Live connect and disconnect of the running container.
    let other = berth_testutil::unique("net");
    let other_id = ok(d.docker(&["network", "create", "--subnet", "10.213.7.0/24", &other]))
        .trim()
        .to_string();
    ok(d.docker(&["network", "connect", "--ip", "10.213.7.9", &other, "srv"]));
    let addr = ok(d.docker(&["exec", "srv", "ip", "-4", "addr", "show", "eth1"]));
    assert!(addr.contains("10.213.7.9/24"), "{addr}");
    ok(d.docker(&["network", "disconnect", &other, "srv"]));
    let out = d.docker(&["exec", "srv", "ip", "addr", "show", "eth1"]);
    assert!(!out.status.success(), "eth1 still there after disconnect");
    endpoint_gone(&d, &other_id, "/nonexistent");
    ok(d.docker(&["network", "rm", &other]));

    ok(d.docker(&["stop", "-t", "1", "srv"]));
    endpoint_gone(&d, &net_id, &srv);
    // Stopped: the network may go (no active endpoints); then the record.
    ok(d.docker(&["rm", "srv"]));
    ok(d.docker(&["network", "rm", &net]));
    assert!(
        !Path::new("/sys/class/net")
            .join(format!("berth-{}", &net_id[..9]))
            .exists()
    );
}

#[test]
fn published_ports_reach_the_container_and_are_freed() {
    let Some((d, _dir)) = daemon_with_busybox("published_ports_reach_the_container_and_are_freed")
    else {
        return;
    };
    let local = free_port();
    let any = free_port();
    let local_map = format!("127.0.0.1:{local}:80");
    let any_map = format!("{any}:80");
    let mut args = vec![
        "run", "-d", "--name", "web", "-p", &local_map, "-p", &any_map,
    ];
    args.extend_from_slice(HTTPD);
    let web = ok(d.docker(&args)).trim().to_string();
    assert!(
        http_get_soon(&format!("127.0.0.1:{local}")).is_some(),
        "127.0.0.1:{local} does not reach the container; log:\n{}",
        d.log()
    );
    let gw = inspect(&d, "web", "{{.NetworkSettings.Gateway}}");
    assert!(
        http_get_soon(&format!("{gw}:{any}")).is_some(),
        "the bridge gateway {gw}:{any} does not reach the container"
    );
    // Inspect, port, ps.
    let ip = inspect(&d, "web", "{{.NetworkSettings.IPAddress}}");
    assert!(ip.parse::<std::net::Ipv4Addr>().is_ok(), "{ip:?}");
    assert_eq!(inspect(&d, "web", "{{.NetworkSettings.IPPrefixLen}}"), "16");
    assert!(inspect(&d, "web", "{{.NetworkSettings.MacAddress}}").starts_with("02:42:"));
    let bindings = inspect(&d, "web", "{{json .HostConfig.PortBindings}}");
    assert!(
        bindings.contains(&format!("\"HostPort\":\"{local}\"")),
        "{bindings}"
    );
    let port = ok(d.docker(&["port", "web", "80"]));
    assert!(port.contains(&format!("127.0.0.1:{local}")), "{port}");
    assert!(port.contains(&format!("0.0.0.0:{any}")), "{port}");
    let ps: serde_json::Value = d.api("GET", "/containers/json", None).json();
    let ports = ps[0]["Ports"].as_array().unwrap();
    assert!(
        ports
            .iter()
            .any(|p| p["PublicPort"] == local && p["PrivatePort"] == 80 && p["IP"] == "127.0.0.1"),
        "{ports:?}"
    );
    let table = ok(d.docker(&["ps", "--format", "{{.Ports}}"]));
    assert!(
        table.contains(&format!("127.0.0.1:{local}->80/tcp")),
        "{table}"
    );

    // A bound port cannot be taken; nothing is left half-configured.
    let out = d.docker(&[
        "run", "-d", "--name", "thief", "-p", &any_map, "busybox", "sleep", "60",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains(&format!(
            "Bind for 0.0.0.0:{any} failed: port is already allocated"
        )),
        "{err}"
    );
    let thief = inspect(&d, "thief", "{{.Id}}");
    assert_eq!(inspect(&d, "thief", "{{.State.Running}}"), "false");
    let bridge_id = inspect(&d, "bridge", "{{.Id}}");
    endpoint_gone(&d, &bridge_id, &thief);
    ok(d.docker(&["rm", "thief"]));

    // -P publishes EXPOSEd ports on free host ports.
    let mut args = vec!["run", "-d", "--name", "auto", "--expose", "80", "-P"];
    args.extend_from_slice(HTTPD);
    ok(d.docker(&args));
    let port = ok(d.docker(&["port", "auto", "80/tcp"]));
    let host_port = port
        .lines()
        .next()
        .and_then(|l| l.rsplit(':').next())
        .unwrap()
        .trim()
        .to_string();
    assert!(
        http_get_soon(&format!("127.0.0.1:{host_port}")).is_some(),
        "{port}"
    );
    ok(d.docker(&["rm", "-f", "auto"]));

    // UDP: busybox has no UDP server applet here (no `nc -u`, udpsvd or
    // dnsd), so only the publication is checked: `port` and the DNAT rule
    // in this daemon's table.
    let udp = free_port();
    let udp_map = format!("127.0.0.1:{udp}:5353/udp");
    ok(d.docker(&[
        "run", "-d", "--name", "udp", "-p", &udp_map, "busybox", "sleep", "60",
    ]));
    let port = ok(d.docker(&["port", "udp", "5353/udp"]));
    assert_eq!(port.trim(), format!("127.0.0.1:{udp}"));
    let rules = std::process::Command::new("nft")
        .args(["list", "chain", "inet", &d.nft_table(), "ports"])
        .output()
        .unwrap();
    let rules = String::from_utf8_lossy(&rules.stdout);
    assert!(rules.contains(&format!("udp dport {udp}")), "{rules}");
    ok(d.docker(&["rm", "-f", "udp"]));
    let rules = std::process::Command::new("nft")
        .args(["list", "chain", "inet", &d.nft_table(), "ports"])
        .output()
        .unwrap();
    let rules = String::from_utf8_lossy(&rules.stdout);
    assert!(!rules.contains(&format!("udp dport {udp}")), "{rules}");

    // Stopped: the ports are free, the endpoint gone.
    ok(d.docker(&["stop", "-t", "1", "web"]));
    assert!(http_get(&format!("127.0.0.1:{local}")).is_none());
    endpoint_gone(&d, &bridge_id, &web);
    assert_eq!(ok(d.docker(&["port", "web"])), "");
    // ... and taken by the next container.
    let out = ok(d.docker(&[
        "run", "-d", "--name", "next", "-p", &any_map, "busybox", "sleep", "60",
    ]));
    ok(d.docker(&["rm", "-f", out.trim(), "web"]));
}

#[test]
fn an_internal_network_has_no_way_out() {
    let Some((d, _dir)) = daemon_with_busybox("an_internal_network_has_no_way_out") else {
        return;
    };
    let net = berth_testutil::unique("int");
    ok(d.docker(&["network", "create", "--internal", &net]));
    let routes = ok(d.docker(&["run", "--rm", "--network", &net, "busybox", "ip", "route"]));
    assert!(!routes.contains("default"), "{routes}");
    assert!(!routes.is_empty(), "no route at all: {routes}");
    // The host's address on the default bridge is out of reach.
    let gw = ok(d.docker(&[
        "network",
        "inspect",
        "-f",
        "{{(index .IPAM.Config 0).Gateway}}",
        "bridge",
    ]))
    .trim()
    .to_string();
    let out = d.docker(&[
        "run",
        "--rm",
        "--network",
        &net,
        "busybox",
        "ping",
        "-c",
        "1",
        "-W",
        "1",
        &gw,
    ]);
    assert!(
        !out.status.success(),
        "reached {gw} from an internal network"
    );
    // While the default bridge's containers reach it.
    ok(d.docker(&["run", "--rm", "busybox", "ping", "-c", "1", "-W", "2", &gw]));
    // ls shows the predefined networks and this one; prune leaves a
    // network in use (the harness's drop removes the rest through ls).
    let ls = ok(d.docker(&["network", "ls", "--format", "{{.Name}} {{.Driver}}"]));
    for want in [
        "bridge bridge",
        "host host",
        "none null",
        &format!("{net} bridge"),
    ] {
        assert!(ls.lines().any(|l| l == want), "{want:?} not in:\n{ls}");
    }
    let unused = berth_testutil::unique("unused");
    ok(d.docker(&["network", "create", &unused]));
    let user = ok(d.docker(&["create", "--network", &net, "busybox", "true"]));
    let pruned = ok(d.docker(&["network", "prune", "-f"]));
    assert!(
        pruned.contains(&unused) && !pruned.contains(&net),
        "{pruned}"
    );
    ok(d.docker(&["rm", user.trim()]));
}

#[test]
fn kill9_of_berthd_keeps_a_published_port_working() {
    let Some((mut d, _dir)) = daemon_with_busybox("kill9_of_berthd_keeps_a_published_port_working")
    else {
        return;
    };
    let port = free_port();
    let map = format!("127.0.0.1:{port}:80");
    let mut args = vec!["run", "-d", "--name", "web", "-p", &map];
    args.extend_from_slice(HTTPD);
    let web = ok(d.docker(&args)).trim().to_string();
    // A container that dies while berthd is away.
    let gone = ok(d.docker(&["run", "-d", "busybox", "sleep", "2"]))
        .trim()
        .to_string();
    let ip = inspect(&d, "web", "{{.NetworkSettings.IPAddress}}");
    assert!(http_get_soon(&format!("127.0.0.1:{port}")).is_some());
    d.kill9();
    assert!(http_get_soon(&format!("127.0.0.1:{port}")).is_some());
    std::thread::sleep(Duration::from_secs(3));
    d.restart();
    assert!(http_get_soon(&format!("127.0.0.1:{port}")).is_some());
    assert_eq!(inspect(&d, "web", "{{.NetworkSettings.IPAddress}}"), ip);
    let bridge_id = inspect(&d, "bridge", "{{.Id}}");
    endpoint_gone(&d, &bridge_id, &gone);
    // Its address is free again and the running one's is still taken.
    let next = ok(d.docker(&["run", "-d", "busybox", "sleep", "60"]))
        .trim()
        .to_string();
    assert_ne!(inspect(&d, &next, "{{.NetworkSettings.IPAddress}}"), ip);
    ok(d.docker(&["rm", "-f", &next, &gone]));
    ok(d.docker(&["rm", "-f", "web"]));
    endpoint_gone(&d, &bridge_id, &web);
    assert!(http_get(&format!("127.0.0.1:{port}")).is_none());
}

/// A resolver on the host's loopback (a 127.53.x.y address of its own,
/// port 53) that answers `outside.test` with [`OUTSIDE`] and everything
/// else with NXDOMAIN, and keeps the names it was asked.
struct TestResolver {
    ip: std::net::Ipv4Addr,
    asked: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

const OUTSIDE: &str = "10.253.1.2";

impl TestResolver {
    fn start() -> TestResolver {
        use berth_network::dns::packet::{self, Query, Record};
        let pid = std::process::id();
        let ip = std::net::Ipv4Addr::new(127, 53, (pid >> 8) as u8, (pid as u8).max(1));
        let sock = std::net::UdpSocket::bind((ip, 53)).expect("bind the test resolver");
        sock.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let asked = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (a, s) = (asked.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 1500];
            while !s.load(std::sync::atomic::Ordering::Relaxed) {
                let Ok((n, from)) = sock.recv_from(&mut buf) else {
                    continue;
                };
                let Ok(q) = Query::parse(&buf[..n]) else {
                    continue;
                };
                a.lock().unwrap().push(q.name.clone());
                let reply = if q.name == "outside.test" {
                    let records: Vec<Record> = if q.qtype == packet::TYPE_A {
                        vec![Record::Addr(OUTSIDE.parse().unwrap())]
                    } else {
                        Vec::new()
                    };
                    q.answer(packet::NOERROR, &records)
                } else {
                    q.answer(packet::NXDOMAIN, &[])
                };
                let _ = sock.send_to(&reply, from);
            }
        });
        TestResolver {
            ip,
            asked,
            stop,
            thread: Some(thread),
        }
    }

    fn asked(&self, name: &str) -> bool {
        self.asked.lock().unwrap().iter().any(|n| n == name)
    }
}

impl Drop for TestResolver {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// `nslookup` in container `c`: its output if it succeeds, else its
/// output and errors.
fn nslookup(d: &Berthd, c: &str, name: &str) -> Result<String, String> {
    let out = d.docker(&["exec", c, "nslookup", name]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.success() {
        Ok(stdout)
    } else {
        Err(format!(
            "nslookup {name} in {c}: {}\n{stdout}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// A query for `name` (type A) with id 0x4242.
fn a_query(name: &str) -> Vec<u8> {
    let mut q = vec![0x42, 0x42, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    for label in name.split('.') {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.extend_from_slice(&[0, 0, 1, 0, 1]);
    q
}

/// The addresses in the A records of a reply to [`a_query`].
fn a_records(reply: &[u8], query_len: usize) -> Vec<std::net::Ipv4Addr> {
    let mut out = Vec::new();
    let mut pos = query_len;
    while pos + 16 <= reply.len() {
        if reply[pos + 2..pos + 4] == [0, 1] && reply[pos + 10..pos + 12] == [0, 4] {
            out.push(std::net::Ipv4Addr::new(
                reply[pos + 12],
                reply[pos + 13],
                reply[pos + 14],
                reply[pos + 15],
            ));
        }
        pos += 12 + usize::from(u16::from_be_bytes([reply[pos + 10], reply[pos + 11]]));
    }
    out
}

#[test]
fn embedded_dns_resolves_names_on_shared_networks_and_forwards_the_rest() {
    let test = "embedded_dns_resolves_names_on_shared_networks_and_forwards_the_rest";
    if !require_root(test) {
        return;
    }
    let resolver = TestResolver::start();
    let upstream = resolver.ip.to_string();
    let Some((mut d, _dir)) = daemon_with_busybox_args(test, &["--dns", &upstream]) else {
        return;
    };
    let net = berth_testutil::unique("dns");
    let other = berth_testutil::unique("dnso");
    ok(d.docker(&["network", "create", &net]));
    ok(d.docker(&["network", "create", &other]));
    let mut args = vec![
        "run",
        "-d",
        "--name",
        "srv",
        "--network",
        &net,
        "--network-alias",
        "web",
    ];
    args.extend_from_slice(HTTPD);
    let srv = ok(d.docker(&args)).trim().to_string();
    let key = format!("{{{{(index .NetworkSettings.Networks \"{net}\").IPAddress}}}}");
    let ip = inspect(&d, "srv", &key);
    ok(d.docker(&[
        "run",
        "-d",
        "--name",
        "cli",
        "--network",
        &net,
        // No search domain from the host (busybox's nslookup would try
        // `srv.<domain>` first).
        "--dns-search",
        ".",
        "busybox",
        "sleep",
        "300",
    ]));

    // resolv.conf names the embedded DNS, keeps --dns-search/--dns-option.
    // (Not on `cli`: busybox's nslookup always tries the search domains
    // first.)
    let resolv = ok(d.docker(&[
        "run",
        "--rm",
        "--network",
        &net,
        "--dns-search",
        "example.test",
        "--dns-option",
        "timeout:2",
        "busybox",
        "cat",
        "/etc/resolv.conf",
    ]));
    assert!(resolv.contains("nameserver 127.0.0.11\n"), "{resolv}");
    assert!(!resolv.contains(&upstream), "{resolv}");
    assert!(resolv.contains("search example.test\n"), "{resolv}");
    assert!(resolv.contains("options ndots:0 timeout:2\n"), "{resolv}");

    // By name, alias and short id, at 127.0.0.11 and through resolv.conf;
    // `name.network` too.
    let scoped = format!("srv.{net}");
    let alias_scoped = format!("web.{net}");
    for name in ["srv", "web", &srv[..12], "SRV", &scoped, &alias_scoped] {
        let out = nslookup(&d, "cli", name)
            .unwrap_or_else(|e| panic!("{name} did not resolve: {e}\nlog:\n{}", d.log()));
        assert!(out.contains(&ip), "{name}: {out}");
    }
    // Scoped to another network, the same name is not srv's.
    let elsewhere = nslookup(&d, "cli", &format!("srv.{other}"));
    assert!(
        elsewhere.as_ref().is_err() || elsewhere.as_ref().is_ok_and(|o| !o.contains(&ip)),
        "{elsewhere:?}"
    );
    let out = ok(d.docker(&["exec", "cli", "nslookup", "web", "127.0.0.11"]));
    assert!(out.contains(&ip), "{out}");
    // And a client connects by name (busybox nc; ping by name too).
    let fetch = "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 web 80";
    let got = ok(d.docker(&["exec", "cli", "sh", "-c", fetch]));
    assert!(got.contains("hello from berth"), "{got}");
    ok(d.docker(&["exec", "cli", "ping", "-c", "1", "-W", "2", "srv"]));

    // Two containers with one alias: both addresses.
    ok(d.docker(&[
        "run",
        "-d",
        "--name",
        "srv2",
        "--network",
        &net,
        "--network-alias",
        "web",
        "busybox",
        "sleep",
        "300",
    ]));
    let ip2 = inspect(&d, "srv2", &key);
    let out = nslookup(&d, "cli", "web").unwrap_or_else(|e| panic!("{e}"));
    assert!(out.contains(&ip) && out.contains(&ip2), "{out}");

    // Unknown names go to berthd's --dns, asked from the host's side.
    let out = nslookup(&d, "cli", "outside.test").unwrap_or_else(|e| panic!("{e}"));
    assert!(out.contains(OUTSIDE), "{out}");
    assert!(resolver.asked("outside.test"));
    assert!(!resolver.asked("srv"), "a name of ours was forwarded");

    // Another network does not see srv (its query is forwarded, and the
    // resolver has never heard of it); nor does the default bridge, whose
    // resolv.conf has berthd's --dns (the container's own loopback there).
    let out = d.docker(&[
        "run",
        "--rm",
        "--network",
        &other,
        "busybox",
        "nslookup",
        "srv",
    ]);
    assert!(!out.status.success(), "srv resolved on another network");
    assert!(resolver.asked("srv"));
    let resolv = ok(d.docker(&["run", "--rm", "busybox", "cat", "/etc/resolv.conf"]));
    assert!(
        resolv.contains(&format!("nameserver {upstream}\n")),
        "{resolv}"
    );
    assert!(!resolv.contains("127.0.0.11"), "{resolv}");
    let out = d.docker(&["run", "--rm", "busybox", "nslookup", "srv"]);
    assert!(!out.status.success(), "srv resolved on the default bridge");
    // Connected live to the network, a container resolves it.
    ok(d.docker(&[
        "run",
        "-d",
        "--name",
        "late",
        "--network",
        &other,
        "--dns-search",
        ".",
        "busybox",
        "sleep",
        "300",
    ]));
    assert!(nslookup(&d, "late", "srv").is_err());
    ok(d.docker(&["network", "connect", &net, "late"]));
    let out = nslookup(&d, "late", "srv").unwrap_or_else(|e| panic!("{e}"));
    assert!(out.contains(&ip), "{out}");
    ok(d.docker(&["network", "disconnect", &net, "late"]));
    assert!(nslookup(&d, "late", "srv").is_err());

    // A container on the default bridge connected live: from then on its
    // resolv.conf names the embedded DNS and its hosts file its address
    // on the network (dockerd rewrites both).
    ok(d.docker(&[
        "run",
        "-d",
        "--name",
        "plain",
        "--dns-search",
        ".",
        "busybox",
        "sleep",
        "300",
    ]));
    let before = ok(d.docker(&["exec", "plain", "cat", "/etc/resolv.conf"]));
    assert!(!before.contains("127.0.0.11"), "{before}");
    ok(d.docker(&["network", "connect", &net, "plain"]));
    let after = ok(d.docker(&["exec", "plain", "cat", "/etc/resolv.conf"]));
    assert!(after.contains("nameserver 127.0.0.11\n"), "{after}");
    let plain_ip = inspect(&d, "plain", &key);
    let hosts = ok(d.docker(&["exec", "plain", "cat", "/etc/hosts"]));
    assert!(hosts.contains(&format!("{plain_ip}\t")), "{hosts}");
    let out = nslookup(&d, "plain", "srv").unwrap_or_else(|e| panic!("{e}"));
    assert!(out.contains(&ip), "{out}");
    ok(d.docker(&["rm", "-f", "plain"]));

    // Over TCP, and malformed packets, from the test itself inside cli's
    // namespace.
    let cli = inspect(&d, "cli", "{{.Id}}");
    let netns = d.exec_root().join("netns").join(&cli);
    let query = a_query("web");
    let (tcp_reply, udp_reply) = berth_network::netns::run_in(Some(&netns), || {
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        udp.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        let mut buf = [0u8; 1500];
        // Garbage and a truncated query: FORMERR or nothing, never a crash.
        for junk in [
            &[0xffu8; 3][..],
            &[0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 63, b'a'],
        ] {
            udp.send_to(junk, "127.0.0.11:53").unwrap();
        }
        let _ = udp.recv_from(&mut buf);
        udp.send_to(&query, "127.0.0.11:53").unwrap();
        let mut udp_reply = Vec::new();
        for _ in 0..3 {
            if let Ok((n, _)) = udp.recv_from(&mut buf)
                && buf[..2] == [0x42, 0x42]
            {
                udp_reply = buf[..n].to_vec();
                break;
            }
        }
        let mut tcp = TcpStream::connect("127.0.0.11:53").unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        let mut msg = (query.len() as u16).to_be_bytes().to_vec();
        msg.extend_from_slice(&query);
        tcp.write_all(&msg).unwrap();
        let mut len = [0u8; 2];
        tcp.read_exact(&mut len).unwrap();
        let mut tcp_reply = vec![0u8; usize::from(u16::from_be_bytes(len))];
        tcp.read_exact(&mut tcp_reply).unwrap();
        (tcp_reply, udp_reply)
    })
    .unwrap();
    for reply in [&udp_reply, &tcp_reply] {
        let mut got = a_records(reply, query.len());
        got.sort();
        let mut want: Vec<std::net::Ipv4Addr> = vec![ip.parse().unwrap(), ip2.parse().unwrap()];
        want.sort();
        assert_eq!(got, want, "reply {reply:?}");
    }

    // After kill -9 and a restart of berthd, the running containers are
    // served again.
    d.kill9();
    d.restart();
    let out = nslookup(&d, "cli", "srv").unwrap_or_else(|e| panic!("{e}"));
    assert!(out.contains(&ip), "{out}");

    ok(d.docker(&["rm", "-f", "srv", "srv2", "cli", "late"]));
    ok(d.docker(&["network", "rm", &net, &other]));
}

/// Set in this test binary when it re-runs itself in private namespaces.
const PRIVATE_NETNS: &str = "BERTH_TEST_PRIVATE_NETNS";

/// Berth beside a live dockerd 20.10 with its iptables rules on. dockerd
/// turns forwarding on with the `filter FORWARD` policy set to DROP and
/// owns its chains; Berth's containers must still reach each other and
/// their published ports, Docker's containers keep working, and once
/// Berth's networks are gone no rule of Berth's is left in iptables while
/// Docker's are untouched.
///
/// dockerd's iptables changes are host-wide and it does not undo them, so
/// the test re-runs itself under `unshare --net --mount`: both daemons,
/// dockerd's chains and policy, both bridges and every rule live and die
/// in a network namespace of the test's own, which both daemons share as
/// they would share a host. The host's network is never touched.
#[test]
fn coexists_with_a_live_dockerd_and_its_drop_policy() {
    const TEST: &str = "coexists_with_a_live_dockerd_and_its_drop_policy";
    if !require_root(TEST) {
        return;
    }
    if std::env::var_os(PRIVATE_NETNS).is_none() {
        let status = std::process::Command::new("unshare")
            .args(["--net", "--mount", "--propagation", "slave", "--"])
            .arg(std::env::current_exe().unwrap())
            .args([TEST, "--exact", "--nocapture", "--test-threads=1"])
            .env(PRIVATE_NETNS, "1")
            .status()
            .expect("run unshare");
        assert!(status.success(), "{TEST} failed in its private namespace");
        return;
    }
    let sh = |args: &[&str]| {
        let out = std::process::Command::new(args[0])
            .args(&args[1..])
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    sh(&["ip", "link", "set", "lo", "up"]);
    // dockerd first, as on a Docker host: it finds forwarding off, turns
    // it on and sets the DROP policy. (A new namespace may inherit the
    // host's forwarding setting: turn it off, as on a fresh host.)
    std::fs::write("/proc/sys/net/ipv4/ip_forward", "0").unwrap();
    let flags = [
        "--iptables=true",
        "--ip-masq=true",
        "--bridge=",
        "--bip=172.31.0.1/16",
    ]
    .map(String::from);
    let Some(mut docker) = berth_testutil::dockerd::Dockerd::start(TEST, &flags) else {
        return;
    };
    let forward = || sh(&["iptables", "-w", "-S", "FORWARD"]);
    let before = forward();
    assert!(
        before.contains("-P FORWARD DROP"),
        "dockerd set no DROP policy:\n{before}"
    );
    assert!(
        before.contains("DOCKER"),
        "dockerd made no chains:\n{before}"
    );

    let Some((d, dir)) = daemon_with_busybox_args(TEST, &[]) else {
        return;
    };
    let tar = dir.path().join("rootfs.tar");
    let out = docker
        .docker(&["import", tar.to_str().unwrap(), "busybox:latest"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");

    // Berth: a user network, a server by name from another container, and
    // its published port from the host; the default bridge too.
    ok(d.docker(&["network", "create", "berthnet"]));
    let port = free_port();
    let map = format!("127.0.0.1:{port}:80");
    let mut args = vec![
        "run",
        "-d",
        "--name",
        "web",
        "--network",
        "berthnet",
        "-p",
        &map,
    ];
    args.extend_from_slice(HTTPD);
    ok(d.docker(&args));
    let mut args = vec!["run", "-d", "--name", "web0"];
    args.extend_from_slice(HTTPD);
    ok(d.docker(&args));
    let web0 = inspect(&d, "web0", "{{.NetworkSettings.IPAddress}}");
    assert!(
        http_get_soon(&format!("127.0.0.1:{port}")).is_some(),
        "Berth's published port is dropped beside dockerd; FORWARD:\n{}",
        forward()
    );
    // By name through the embedded DNS (busybox's nslookup: the static
    // busybox's own resolver calls crash in glibc), then busybox nc.
    let by_name = "ip=$(nslookup web | awk '/^Address/ {a=$NF} END {print a}'); \
                   printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 3 $ip 80";
    let fetched = ok(d.docker(&[
        "run",
        "--rm",
        "--network",
        "berthnet",
        "busybox",
        "sh",
        "-c",
        by_name,
    ]));
    assert!(fetched.contains("hello from berth"), "{fetched}");
    let by_ip = format!("printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 3 {web0} 80");
    let fetched = ok(d.docker(&["run", "--rm", "busybox", "sh", "-c", &by_ip]));
    assert!(fetched.contains("hello from berth"), "{fetched}");
    let during = forward();
    assert!(during.contains("--comment berth -j ACCEPT"), "{during}");
    assert!(
        during.contains("-P FORWARD DROP"),
        "Berth changed the policy:\n{during}"
    );

    // Docker's own container and published port work beside Berth's.
    let docker_port = free_port();
    let docker_map = format!("127.0.0.1:{docker_port}:80");
    let mut args = vec!["run", "-d", "--name", "dweb", "-p", &docker_map];
    args.extend_from_slice(HTTPD);
    let out = docker.docker(&args).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(
        http_get_soon(&format!("127.0.0.1:{docker_port}")).is_some(),
        "Docker's published port does not work beside Berth"
    );

    // Berth's rules go with its networks; Docker's stay as they were.
    ok(d.docker(&["rm", "-f", "web", "web0"]));
    ok(d.docker(&["network", "rm", "berthnet"]));
    drop(d);
    let after = forward();
    assert!(
        !after.contains("berth"),
        "Berth left FORWARD rules:\n{after}"
    );
    assert_eq!(
        before.lines().collect::<Vec<_>>(),
        after.lines().collect::<Vec<_>>(),
        "Docker's FORWARD chain changed"
    );
    assert!(
        http_get_soon(&format!("127.0.0.1:{docker_port}")).is_some(),
        "Docker's published port broke when Berth left"
    );
    for leak in docker.shutdown() {
        eprintln!("{TEST}: dockerd left: {leak}");
    }
}

/// Legacy links on the default bridge (environment, /etc/hosts, the
/// child's extra name, `rm --link`, Docker's errors) and links on a
/// user-defined network (an alias only the linking container resolves).
#[test]
fn links_legacy_and_on_user_networks() {
    let Some((d, _dir)) = daemon_with_busybox("links_legacy_and_on_user_networks") else {
        return;
    };
    ok(d.docker(&[
        "run", "-d", "--name", "db", "-e", "FOO=1", "--expose", "5432", "busybox", "sleep", "60",
    ]));
    let ip = inspect(&d, "db", "{{.NetworkSettings.IPAddress}}");
    let host = inspect(&d, "db", "{{.Config.Hostname}}");
    let out = ok(d.docker(&[
        "run",
        "--rm",
        "--link",
        "db:sql-db",
        "busybox",
        "sh",
        "-c",
        "env; cat /etc/hosts",
    ]));
    for want in [
        "SQL_DB_ENV_FOO=1".to_string(),
        format!("SQL_DB_PORT=tcp://{ip}:5432"),
        format!("SQL_DB_PORT_5432_TCP=tcp://{ip}:5432"),
        format!("SQL_DB_PORT_5432_TCP_ADDR={ip}"),
        "SQL_DB_PORT_5432_TCP_PORT=5432".to_string(),
        "SQL_DB_PORT_5432_TCP_PROTO=tcp".to_string(),
        format!("{ip}\tsql-db {host} db"),
    ] {
        assert!(out.contains(&want), "no {want:?} in:\n{out}");
    }
    assert!(out.contains("SQL_DB_NAME=/"), "{out}");
    assert!(!out.contains("SQL_DB_ENV_PATH"), "{out}");

    // A named parent: the recorded form, the child's extra name, rm --link.
    ok(d.docker(&[
        "create", "--name", "app", "--link", "db:sql", "busybox", "sleep", "60",
    ]));
    assert_eq!(
        inspect(&d, "app", "{{json .HostConfig.Links}}"),
        r#"["/db:/app/sql"]"#
    );
    ok(d.docker(&["start", "app"]));
    assert_eq!(inspect(&d, "app/sql", "{{.Name}}"), "/db");
    let ps: serde_json::Value = d.api("GET", "/containers/json", None).json();
    let db = ps
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["Names"][0] == "/db")
        .unwrap();
    assert_eq!(db["Names"], serde_json::json!(["/db", "/app/sql"]), "{db}");
    ok(d.docker(&["rm", "--link", "app/sql"]));
    assert_eq!(inspect(&d, "app", "{{len .HostConfig.Links}}"), "0");
    assert_eq!(inspect(&d, "db", "{{.State.Running}}"), "true");

    // Docker's errors: no such child, a child that is not running.
    let err = fails(
        d.docker(&["run", "--rm", "--link", "nosuch:x", "busybox", "true"]),
        125,
    );
    assert!(err.contains("could not get container for nosuch"), "{err}");
    ok(d.docker(&[
        "create", "--name", "app2", "--link", "db:sql", "busybox", "true",
    ]));
    ok(d.docker(&["stop", "-t", "0", "db"]));
    let err = fails(d.docker(&["start", "app2"]), 1);
    assert!(
        err.contains("Cannot link to a non running container: /db AS /app2/sql"),
        "{err}"
    );
    ok(d.docker(&["rm", "-f", "app", "app2", "db"]));

    // On a user-defined network a link is an alias for the linker only.
    ok(d.docker(&["network", "create", "linknet"]));
    ok(d.docker(&[
        "run",
        "-d",
        "--name",
        "target",
        "--network",
        "linknet",
        "busybox",
        "sleep",
        "60",
    ]));
    let target = inspect(
        &d,
        "target",
        "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
    );
    let linked = ok(d.docker(&[
        "run",
        "--rm",
        "--network",
        "linknet",
        "--link",
        "target:bar",
        "busybox",
        "nslookup",
        "bar",
    ]));
    assert!(linked.contains(&target), "{linked}");
    let other = d.docker(&[
        "run",
        "--rm",
        "--network",
        "linknet",
        "busybox",
        "nslookup",
        "bar",
    ]);
    assert!(
        !String::from_utf8_lossy(&other.stdout).contains(&target),
        "an unlinked container resolved the link alias: {other:?}"
    );
    ok(d.docker(&["rm", "-f", "target"]));
    ok(d.docker(&["network", "rm", "linknet"]));
}
