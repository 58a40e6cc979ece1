//! The little of the DNS wire format (RFC 1035) the embedded server needs:
//! a query's header and its one question, and answers built from them.
//!
//! Why no crate: the server reads one question and writes A, AAAA or PTR
//! records or an empty answer with an rcode; everything else is relayed
//! to the forwarders as opaque bytes. That is about 150 lines here, while
//! `hickory-proto` would bring a large dependency tree for it and the small
//! crates (`dns-parser`, `simple-dns`) would still need code around them
//! for relaying. Every read is bounds-checked: a malformed packet is a
//! [`PacketError`], never a panic.

use std::net::IpAddr;

/// Record types the server answers itself.
pub const TYPE_A: u16 = 1;
pub const TYPE_PTR: u16 = 12;
pub const TYPE_AAAA: u16 = 28;
const CLASS_IN: u16 = 1;

/// Response codes.
pub const NOERROR: u8 = 0;
pub const FORMERR: u8 = 1;
pub const SERVFAIL: u8 = 2;
pub const NXDOMAIN: u8 = 3;

const HEADER: usize = 12;
/// Seconds a record of ours may be cached (Docker's: 600).
const TTL: u32 = 600;

/// Why a packet was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PacketError {
    #[error("shorter than a DNS header")]
    Short,
    #[error("not a query")]
    NotQuery,
    #[error("{0} questions (one is supported)")]
    Questions(u16),
    #[error("the question runs past the end of the packet")]
    Truncated,
    #[error("a compressed or invalid label in the question")]
    BadLabel,
}

/// A query's header fields and its one question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub id: u16,
    /// The second and third header bytes (opcode, RD…), kept for the reply.
    flags: u16,
    /// The name asked for, lower case, without the trailing dot.
    pub name: String,
    pub qtype: u16,
    pub qclass: u16,
    /// The question's bytes as they came (echoed in answers).
    question: Vec<u8>,
}

/// The query's id (the first two bytes), if it has any.
pub fn id_of(packet: &[u8]) -> Option<u16> {
    Some(u16::from_be_bytes([*packet.first()?, *packet.get(1)?]))
}

/// Rewrites the id of a packet in place (relaying with ids of our own).
pub fn set_id(packet: &mut [u8], id: u16) {
    if packet.len() >= 2 {
        packet[..2].copy_from_slice(&id.to_be_bytes());
    }
}

impl Query {
    /// Parses a query; anything but a standard query with one question is
    /// an error (answered FORMERR by the caller when it has an id).
    pub fn parse(packet: &[u8]) -> Result<Query, PacketError> {
        if packet.len() < HEADER {
            return Err(PacketError::Short);
        }
        let flags = u16::from_be_bytes([packet[2], packet[3]]);
        if flags & 0x8000 != 0 {
            return Err(PacketError::NotQuery);
        }
        let qdcount = u16::from_be_bytes([packet[4], packet[5]]);
        if qdcount != 1 {
            return Err(PacketError::Questions(qdcount));
        }
        let mut pos = HEADER;
        let mut labels: Vec<String> = Vec::new();
        loop {
            let len = *packet.get(pos).ok_or(PacketError::Truncated)? as usize;
            pos += 1;
            if len == 0 {
                break;
            }
            // Compression pointers (0xC0) and the reserved kinds do not
            // belong in a query's first question.
            if len & 0xC0 != 0 {
                return Err(PacketError::BadLabel);
            }
            let label = packet.get(pos..pos + len).ok_or(PacketError::Truncated)?;
            labels.push(String::from_utf8_lossy(label).to_ascii_lowercase());
            pos += len;
        }
        let fixed = packet.get(pos..pos + 4).ok_or(PacketError::Truncated)?;
        let qtype = u16::from_be_bytes([fixed[0], fixed[1]]);
        let qclass = u16::from_be_bytes([fixed[2], fixed[3]]);
        Ok(Query {
            id: u16::from_be_bytes([packet[0], packet[1]]),
            flags,
            name: labels.join("."),
            qtype,
            qclass,
            question: packet[HEADER..pos + 4].to_vec(),
        })
    }

    /// Is it a question in class IN?
    pub fn is_internet(&self) -> bool {
        self.qclass == CLASS_IN
    }

    /// The answer to this query: `rcode` and the given records (addresses
    /// for A/AAAA, a name for PTR), the question echoed.
    pub fn answer(&self, rcode: u8, records: &[Record]) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER + self.question.len() + 28 * records.len());
        out.extend_from_slice(&self.id.to_be_bytes());
        // QR=1, opcode and RD from the query, AA=0, RA=1, the rcode.
        let flags = 0x8000 | (self.flags & 0x7900) | 0x0080 | u16::from(rcode & 0x0F);
        out.extend_from_slice(&flags.to_be_bytes());
        out.extend_from_slice(&1u16.to_be_bytes());
        let count = u16::try_from(records.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&count.to_be_bytes());
        out.extend_from_slice(&[0, 0, 0, 0]);
        out.extend_from_slice(&self.question);
        for r in records.iter().take(usize::from(count)) {
            // The owner is the question's name: a pointer to offset 12.
            out.extend_from_slice(&[0xC0, 0x0C]);
            let (rtype, data) = match r {
                Record::Addr(IpAddr::V4(a)) => (TYPE_A, a.octets().to_vec()),
                Record::Addr(IpAddr::V6(a)) => (TYPE_AAAA, a.octets().to_vec()),
                Record::Name(n) => (TYPE_PTR, encode_name(n)),
            };
            out.extend_from_slice(&rtype.to_be_bytes());
            out.extend_from_slice(&CLASS_IN.to_be_bytes());
            out.extend_from_slice(&TTL.to_be_bytes());
            let len = u16::try_from(data.len()).unwrap_or(0);
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(&data[..usize::from(len)]);
        }
        out
    }
}

/// An empty answer with `rcode` to a packet that did not parse but has an
/// id (FORMERR), so the client stops waiting.
pub fn error_reply(packet: &[u8], rcode: u8) -> Option<Vec<u8>> {
    let id = id_of(packet)?;
    if packet.len() >= 3 && packet[2] & 0x80 != 0 {
        return None; // never answer a response
    }
    let mut out = Vec::with_capacity(HEADER);
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&(0x8080u16 | u16::from(rcode & 0x0F)).to_be_bytes());
    out.extend_from_slice(&[0; 8]);
    Some(out)
}

/// One record of an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// A (IPv4) or AAAA (IPv6).
    Addr(IpAddr),
    /// PTR to this name.
    Name(String),
}

/// `a.b.c` as labels; over-long labels are cut to 63 bytes.
fn encode_name(name: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(name.len() + 2);
    for label in name
        .trim_end_matches('.')
        .split('.')
        .filter(|l| !l.is_empty())
    {
        let bytes = &label.as_bytes()[..label.len().min(63)];
        out.push(bytes.len() as u8);
        out.extend_from_slice(bytes);
    }
    out.push(0);
    out
}

/// The address a reverse name (`4.3.2.1.in-addr.arpa`, or nibbles under
/// `ip6.arpa`) stands for.
pub fn reverse_address(name: &str) -> Option<IpAddr> {
    if let Some(v4) = name.strip_suffix(".in-addr.arpa") {
        let parts: Vec<u8> = v4
            .split('.')
            .map(|p| p.parse::<u8>().ok())
            .collect::<Option<_>>()?;
        let [d, c, b, a] = parts.as_slice() else {
            return None;
        };
        return Some(IpAddr::from([*a, *b, *c, *d]));
    }
    let v6 = name.strip_suffix(".ip6.arpa")?;
    let nibbles: Vec<u8> = v6
        .split('.')
        .map(|p| u8::from_str_radix(p, 16).ok().filter(|_| p.len() == 1))
        .collect::<Option<_>>()?;
    if nibbles.len() != 32 {
        return None;
    }
    let mut octets = [0u8; 16];
    for (i, pair) in nibbles.rchunks(2).enumerate() {
        octets[i] = (pair[1] << 4) | pair[0];
    }
    Some(IpAddr::from(octets))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(name: &str, qtype: u16) -> Vec<u8> {
        let mut p = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        p.extend_from_slice(&encode_name(name));
        p.extend_from_slice(&qtype.to_be_bytes());
        p.extend_from_slice(&CLASS_IN.to_be_bytes());
        p
    }

    #[test]
    fn parses_a_query_and_answers_it() {
        let q = Query::parse(&query("Web.Example", TYPE_A)).unwrap();
        assert_eq!(q.id, 0x1234);
        assert_eq!(q.name, "web.example");
        assert_eq!(q.qtype, TYPE_A);
        assert!(q.is_internet());
        let a = q.answer(
            NOERROR,
            &[
                Record::Addr("10.0.0.2".parse().unwrap()),
                Record::Addr("10.0.0.3".parse().unwrap()),
            ],
        );
        assert_eq!(&a[..2], &[0x12, 0x34]);
        assert_eq!(a[2] & 0x80, 0x80, "QR set");
        assert_eq!(a[2] & 0x01, 0x01, "RD kept");
        assert_eq!(a[3] & 0x0F, NOERROR);
        assert_eq!(u16::from_be_bytes([a[6], a[7]]), 2);
        assert!(a.ends_with(&[0, 4, 10, 0, 0, 3]));
    }

    #[test]
    fn malformed_packets_are_errors_not_panics() {
        let full = query("abc.def", TYPE_A);
        for n in 0..full.len() {
            let _ = Query::parse(&full[..n]);
        }
        assert_eq!(Query::parse(&full[..5]), Err(PacketError::Short));
        assert_eq!(Query::parse(&full[..15]), Err(PacketError::Truncated));
        let mut pointer = full.clone();
        pointer[12] = 0xC0;
        assert_eq!(Query::parse(&pointer), Err(PacketError::BadLabel));
        let mut two = full.clone();
        two[5] = 2;
        assert_eq!(Query::parse(&two), Err(PacketError::Questions(2)));
        let reply = error_reply(&two, FORMERR).unwrap();
        assert_eq!(reply.len(), 12);
        assert_eq!(reply[3] & 0x0F, FORMERR);
        assert_eq!(error_reply(&[1], FORMERR), None);
    }

    #[test]
    fn reverse_names() {
        assert_eq!(
            reverse_address("4.3.2.10.in-addr.arpa"),
            Some("10.2.3.4".parse().unwrap())
        );
        let v6 = "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa";
        assert_eq!(reverse_address(v6), Some("2001:db8::1".parse().unwrap()));
        assert_eq!(reverse_address("x.in-addr.arpa"), None);
        assert_eq!(reverse_address("example.com"), None);
        let q = Query::parse(&query("4.3.2.10.in-addr.arpa", TYPE_PTR)).unwrap();
        let a = q.answer(NOERROR, &[Record::Name("web".into())]);
        assert!(a.ends_with(&[0, 5, 3, b'w', b'e', b'b', 0]));
    }
}
