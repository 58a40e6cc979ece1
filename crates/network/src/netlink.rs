//! A small synchronous rtnetlink client: the link, address and route calls
//! the bridge driver needs, over a blocking `NETLINK_ROUTE` socket.
//!
//! Why not the `rtnetlink` crate: it is async and needs a runtime and an
//! extra task per connection; the engine's network path is synchronous and
//! makes a handful of requests per container, so packet types
//! (`netlink-packet-route`) plus a blocking socket (`netlink-sys`) are all
//! it takes, with a leaner dependency tree.
//!
//! A [`Netlink`] talks to the namespace it was opened in ([`Netlink::open_in`]
//! opens the socket on a thread inside another namespace; the socket keeps
//! that namespace for its life, whichever thread then uses it).

use std::net::IpAddr;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::path::Path;

use netlink_packet_core::{
    NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage,
    NetlinkPayload,
};
use netlink_packet_route::address::{AddressAttribute, AddressFlags, AddressMessage};
use netlink_packet_route::link::{
    InfoBridgePort, InfoData, InfoKind, InfoPortData, InfoPortKind, InfoVeth, LinkAttribute,
    LinkFlags, LinkInfo, LinkMessage,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_ROUTE};

use crate::ipam::Subnet;
use crate::netns::{self, NetnsError};

/// A failed netlink request; `op` names the step ("add bridge berth0").
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetlinkError {
    /// The socket could not be opened in the namespace.
    #[error("open a netlink socket")]
    Open(#[source] std::io::Error),
    /// The namespace to open it in could not be entered.
    #[error("open a netlink socket")]
    Netns(#[from] NetnsError),
    /// The kernel refused or the exchange failed.
    #[error("{op}")]
    Request {
        /// What was asked.
        op: String,
        /// The kernel's error.
        #[source]
        source: std::io::Error,
    },
    /// A named link does not exist.
    #[error("no such link: {0}")]
    NoSuchLink(String),
}

impl NetlinkError {
    /// The errno the kernel answered, if this is a refused request.
    pub fn errno(&self) -> Option<i32> {
        match self {
            NetlinkError::Request { source, .. } => source.raw_os_error(),
            _ => None,
        }
    }
}

type Result<T, E = NetlinkError> = std::result::Result<T, E>;

/// A link as the kernel reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Interface index.
    pub index: u32,
    /// Interface name.
    pub name: String,
    /// Hardware address (empty for links without one).
    pub mac: Vec<u8>,
    /// MTU.
    pub mtu: u32,
    /// `IFLA_INFO_KIND` ("bridge", "veth"), if any.
    pub kind: Option<String>,
    /// Index of the bridge this link is a port of.
    pub master: Option<u32>,
    /// Administratively up.
    pub up: bool,
}

/// An address on a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// The link's index.
    pub index: u32,
    /// The address.
    pub addr: IpAddr,
    /// Its prefix length.
    pub prefix: u8,
}

/// A route of the main table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Destination network (`0.0.0.0/0` or `::/0` for a default route).
    pub dst: Subnet,
    /// Next hop, if any.
    pub gateway: Option<IpAddr>,
    /// Output link index, if any.
    pub oif: Option<u32>,
}

/// A blocking rtnetlink socket bound to one network namespace.
#[derive(Debug)]
pub struct Netlink {
    socket: Socket,
    seq: u32,
}

impl Netlink {
    /// A socket in the caller's network namespace.
    pub fn open() -> Result<Netlink> {
        let mut socket = Socket::new(NETLINK_ROUTE).map_err(NetlinkError::Open)?;
        socket.bind_auto().map_err(NetlinkError::Open)?;
        socket
            .connect(&SocketAddr::new(0, 0))
            .map_err(NetlinkError::Open)?;
        Ok(Netlink { socket, seq: 0 })
    }

    /// A socket in the namespace at `netns` (`None`: the caller's).
    pub fn open_in(netns: Option<&Path>) -> Result<Netlink> {
        netns::run_in(netns, Netlink::open)?
    }

    /// Sends one request and collects the answer: the messages of a dump,
    /// or nothing for an acknowledged change.
    fn request(
        &mut self,
        op: String,
        msg: RouteNetlinkMessage,
        flags: u16,
    ) -> Result<Vec<RouteNetlinkMessage>> {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let mut packet = NetlinkMessage::new(NetlinkHeader::default(), NetlinkPayload::from(msg));
        let dump = flags & NLM_F_DUMP == NLM_F_DUMP;
        packet.header.flags = NLM_F_REQUEST | flags | if dump { 0 } else { NLM_F_ACK };
        packet.header.sequence_number = seq;
        packet.finalize();
        let mut buf = vec![0; packet.buffer_len()];
        packet.serialize(&mut buf);
        let fail = |source| NetlinkError::Request {
            op: op.clone(),
            source,
        };
        self.socket.send(&buf, 0).map_err(fail)?;
        let mut out = Vec::new();
        loop {
            let (bytes, _) = self.socket.recv_from_full().map_err(fail)?;
            let mut offset = 0;
            while offset < bytes.len() {
                let reply: NetlinkMessage<RouteNetlinkMessage> =
                    NetlinkMessage::deserialize(&bytes[offset..])
                        .map_err(|e| fail(std::io::Error::other(format!("bad reply: {e}"))))?;
                let len = reply.header.length as usize;
                if reply.header.sequence_number == seq {
                    match reply.payload {
                        NetlinkPayload::Error(err) => {
                            return match err.code {
                                None => Ok(out),
                                Some(code) => {
                                    Err(fail(std::io::Error::from_raw_os_error(-code.get())))
                                }
                            };
                        }
                        NetlinkPayload::Done(_) => return Ok(out),
                        NetlinkPayload::InnerMessage(m) => out.push(m),
                        _ => {}
                    }
                }
                if len == 0 {
                    break;
                }
                offset += len;
            }
        }
    }

    fn change(&mut self, op: String, msg: RouteNetlinkMessage, flags: u16) -> Result<()> {
        self.request(op, msg, flags).map(|_| ())
    }

    /// Every link of the namespace.
    pub fn links(&mut self) -> Result<Vec<Link>> {
        let msgs = self.request(
            "list links".into(),
            RouteNetlinkMessage::GetLink(LinkMessage::default()),
            NLM_F_DUMP,
        )?;
        Ok(msgs
            .into_iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewLink(l) => Some(link_of(l)),
                _ => None,
            })
            .collect())
    }

    /// The link called `name`, if there is one.
    pub fn link(&mut self, name: &str) -> Result<Option<Link>> {
        Ok(self.links()?.into_iter().find(|l| l.name == name))
    }

    fn index_of(&mut self, name: &str) -> Result<u32> {
        self.link(name)?
            .map(|l| l.index)
            .ok_or_else(|| NetlinkError::NoSuchLink(name.to_owned()))
    }

    /// Creates a bridge (`ip link add NAME type bridge`), with `mtu` if set.
    pub fn add_bridge(&mut self, name: &str, mtu: Option<u32>) -> Result<()> {
        let mut msg = LinkMessage::default();
        msg.attributes.push(LinkAttribute::IfName(name.to_owned()));
        if let Some(mtu) = mtu {
            msg.attributes.push(LinkAttribute::Mtu(mtu));
        }
        msg.attributes
            .push(LinkAttribute::LinkInfo(vec![LinkInfo::Kind(
                InfoKind::Bridge,
            )]));
        self.change(
            format!("add bridge {name}"),
            RouteNetlinkMessage::NewLink(msg),
            NLM_F_CREATE | NLM_F_EXCL,
        )
    }

    /// Creates a veth pair: `host` in this namespace, `peer` created directly
    /// inside the namespace `peer_netns` (so a peer called `eth0` never
    /// collides with the host's own `eth0`), with MAC `peer_mac` and `mtu`.
    pub fn add_veth(
        &mut self,
        host: &str,
        peer: &str,
        peer_netns: BorrowedFd<'_>,
        peer_mac: Option<[u8; 6]>,
        mtu: Option<u32>,
    ) -> Result<()> {
        let mut peer_msg = LinkMessage::default();
        peer_msg
            .attributes
            .push(LinkAttribute::IfName(peer.to_owned()));
        peer_msg
            .attributes
            .push(LinkAttribute::NetNsFd(peer_netns.as_raw_fd()));
        if let Some(mac) = peer_mac {
            peer_msg
                .attributes
                .push(LinkAttribute::Address(mac.to_vec()));
        }
        if let Some(mtu) = mtu {
            peer_msg.attributes.push(LinkAttribute::Mtu(mtu));
        }
        let mut msg = LinkMessage::default();
        msg.attributes.push(LinkAttribute::IfName(host.to_owned()));
        if let Some(mtu) = mtu {
            msg.attributes.push(LinkAttribute::Mtu(mtu));
        }
        msg.attributes.push(LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::Veth),
            LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(peer_msg))),
        ]));
        self.change(
            format!("add veth pair {host} / {peer}"),
            RouteNetlinkMessage::NewLink(msg),
            NLM_F_CREATE | NLM_F_EXCL,
        )
    }

    fn set_link(
        &mut self,
        op: String,
        index: u32,
        attrs: Vec<LinkAttribute>,
        up: bool,
    ) -> Result<()> {
        let mut msg = LinkMessage::default();
        msg.header.index = index;
        if up {
            msg.header.flags = LinkFlags::Up;
            msg.header.change_mask = LinkFlags::Up;
        }
        msg.attributes = attrs;
        self.change(op, RouteNetlinkMessage::SetLink(msg), 0)
    }

    /// Brings the link up.
    pub fn set_up(&mut self, name: &str) -> Result<()> {
        let index = self.index_of(name)?;
        self.set_link(format!("set {name} up"), index, Vec::new(), true)
    }

    /// Makes `port` a port of `bridge`, with hairpin mode on (so a container
    /// can reach itself through a published port).
    pub fn enslave(&mut self, port: &str, bridge: &str) -> Result<()> {
        let index = self.index_of(port)?;
        let master = self.index_of(bridge)?;
        self.set_link(
            format!("attach {port} to bridge {bridge}"),
            index,
            vec![LinkAttribute::Controller(master)],
            false,
        )?;
        // Port options (IFLA_INFO_SLAVE_DATA) are applied by RTM_NEWLINK on
        // an existing link; RTM_SETLINK ignores them.
        let mut msg = LinkMessage::default();
        msg.header.index = index;
        msg.attributes.push(LinkAttribute::LinkInfo(vec![
            LinkInfo::PortKind(InfoPortKind::Bridge),
            LinkInfo::PortData(InfoPortData::BridgePort(vec![InfoBridgePort::HairpinMode(
                true,
            )])),
        ]));
        self.change(
            format!("set hairpin mode on {port}"),
            RouteNetlinkMessage::NewLink(msg),
            0,
        )
    }

    /// Deletes a link; deleting one end of a veth deletes both. A link that
    /// does not exist is not an error.
    pub fn del_link(&mut self, name: &str) -> Result<()> {
        match self.link(name)? {
            Some(link) => self.del_link_index(link.index, name),
            None => Ok(()),
        }
    }

    /// Deletes the link with this index (`name` is for messages). Unlike a
    /// name, an index is never given to another link soon after, so this
    /// cannot delete a link made later with the same name. A link that is
    /// gone already is not an error.
    pub fn del_link_index(&mut self, index: u32, name: &str) -> Result<()> {
        let mut msg = LinkMessage::default();
        msg.header.index = index;
        match self.change(
            format!("delete link {name}"),
            RouteNetlinkMessage::DelLink(msg),
            0,
        ) {
            Err(e) if e.errno() == Some(libc_enodev()) => Ok(()),
            r => r,
        }
    }

    /// Adds `addr/prefix` to the link (IPv6 without duplicate address
    /// detection, so it is usable at once).
    pub fn add_address(&mut self, name: &str, addr: IpAddr, prefix: u8) -> Result<()> {
        let index = self.index_of(name)?;
        let mut msg = AddressMessage::default();
        msg.header.index = index;
        msg.header.prefix_len = prefix;
        match addr {
            IpAddr::V4(v4) => {
                msg.header.family = AddressFamily::Inet;
                msg.attributes.push(AddressAttribute::Local(addr));
                msg.attributes.push(AddressAttribute::Address(addr));
                if prefix < 31 {
                    let host_bits = u32::MAX.checked_shr(u32::from(prefix)).unwrap_or(0);
                    msg.attributes.push(AddressAttribute::Broadcast(
                        (u32::from(v4) | host_bits).into(),
                    ));
                }
            }
            IpAddr::V6(_) => {
                msg.header.family = AddressFamily::Inet6;
                msg.attributes.push(AddressAttribute::Address(addr));
                msg.attributes
                    .push(AddressAttribute::Flags(AddressFlags::Nodad));
            }
        }
        self.change(
            format!("add address {addr}/{prefix} to {name}"),
            RouteNetlinkMessage::NewAddress(msg),
            NLM_F_CREATE | NLM_F_EXCL,
        )
    }

    /// Every address of the namespace.
    pub fn addresses(&mut self) -> Result<Vec<Address>> {
        let msgs = self.request(
            "list addresses".into(),
            RouteNetlinkMessage::GetAddress(AddressMessage::default()),
            NLM_F_DUMP,
        )?;
        let mut out = Vec::new();
        for m in msgs {
            let RouteNetlinkMessage::NewAddress(a) = m else {
                continue;
            };
            let addr = a.attributes.iter().find_map(|at| match at {
                AddressAttribute::Local(ip) => Some(*ip),
                _ => None,
            });
            let addr = addr.or_else(|| {
                a.attributes.iter().find_map(|at| match at {
                    AddressAttribute::Address(ip) => Some(*ip),
                    _ => None,
                })
            });
            if let Some(addr) = addr {
                out.push(Address {
                    index: a.header.index,
                    addr,
                    prefix: a.header.prefix_len,
                });
            }
        }
        Ok(out)
    }

    /// Adds a default route via `gateway` out of link `name`.
    pub fn add_default_route(&mut self, name: &str, gateway: IpAddr) -> Result<()> {
        let index = self.index_of(name)?;
        let mut msg = RouteMessage::default();
        msg.header.address_family = match gateway {
            IpAddr::V4(_) => AddressFamily::Inet,
            IpAddr::V6(_) => AddressFamily::Inet6,
        };
        msg.header.table = RouteHeader::RT_TABLE_MAIN;
        msg.header.protocol = RouteProtocol::Boot;
        msg.header.scope = RouteScope::Universe;
        msg.header.kind = RouteType::Unicast;
        msg.attributes
            .push(RouteAttribute::Gateway(route_addr(gateway)));
        msg.attributes.push(RouteAttribute::Oif(index));
        self.change(
            format!("add default route via {gateway} dev {name}"),
            RouteNetlinkMessage::NewRoute(msg),
            NLM_F_CREATE | NLM_F_EXCL,
        )
    }

    /// The unicast routes of the main table, both families.
    pub fn routes(&mut self) -> Result<Vec<Route>> {
        let mut out = Vec::new();
        for family in [AddressFamily::Inet, AddressFamily::Inet6] {
            let mut msg = RouteMessage::default();
            msg.header.address_family = family;
            let msgs = self.request(
                "list routes".into(),
                RouteNetlinkMessage::GetRoute(msg),
                NLM_F_DUMP,
            )?;
            for m in msgs {
                let RouteNetlinkMessage::NewRoute(r) = m else {
                    continue;
                };
                if r.header.table != RouteHeader::RT_TABLE_MAIN
                    || r.header.kind != RouteType::Unicast
                {
                    continue;
                }
                let v6 = r.header.address_family == AddressFamily::Inet6;
                let mut dst = None;
                let mut gateway = None;
                let mut oif = None;
                for a in &r.attributes {
                    match a {
                        RouteAttribute::Destination(d) => dst = ip_of(d),
                        RouteAttribute::Gateway(g) => gateway = ip_of(g),
                        RouteAttribute::Oif(i) => oif = Some(*i),
                        _ => {}
                    }
                }
                let dst = dst.unwrap_or(if v6 {
                    IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED)
                } else {
                    IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)
                });
                if let Ok(dst) = Subnet::new(dst, r.header.destination_prefix_length) {
                    out.push(Route { dst, gateway, oif });
                }
            }
        }
        Ok(out)
    }
}

fn libc_enodev() -> i32 {
    rustix::io::Errno::NODEV.raw_os_error()
}

fn route_addr(ip: IpAddr) -> RouteAddress {
    match ip {
        IpAddr::V4(v4) => RouteAddress::Inet(v4),
        IpAddr::V6(v6) => RouteAddress::Inet6(v6),
    }
}

fn ip_of(a: &RouteAddress) -> Option<IpAddr> {
    match a {
        RouteAddress::Inet(v4) => Some(IpAddr::V4(*v4)),
        RouteAddress::Inet6(v6) => Some(IpAddr::V6(*v6)),
        _ => None,
    }
}

fn link_of(l: LinkMessage) -> Link {
    let mut link = Link {
        index: l.header.index,
        name: String::new(),
        mac: Vec::new(),
        mtu: 0,
        kind: None,
        master: None,
        up: l.header.flags.contains(LinkFlags::Up),
    };
    for a in l.attributes {
        match a {
            LinkAttribute::IfName(n) => link.name = n,
            LinkAttribute::Address(m) => link.mac = m,
            LinkAttribute::Mtu(m) => link.mtu = m,
            LinkAttribute::Controller(m) => link.master = Some(m),
            LinkAttribute::LinkInfo(infos) => {
                for i in infos {
                    if let LinkInfo::Kind(k) = i {
                        link.kind = Some(k.to_string());
                    }
                }
            }
            _ => {}
        }
    }
    link
}
