//! Published and exposed ports as go-connections' `nat` package reads
//! them: `-p [IP:][HOST_PORT:]CONTAINER_PORT[/PROTO]` (ranges allowed, or
//! the long `published=,target=,protocol=` form) into `ExposedPorts` and
//! `PortBindings`, `--expose PORT[-PORT][/PROTO]` into `ExposedPorts`.

use serde_json::{Map, Value, json};

/// `nat.ParsePortRange`: `80` or `8000-8010`.
pub fn parse_port_range(s: &str) -> Result<(u64, u64), String> {
    if s.is_empty() {
        return Err("empty string specified for ports".into());
    }
    let one = |p: &str| -> Result<u64, String> {
        p.parse::<u16>()
            .map(u64::from)
            .map_err(|_| format!("strconv.ParseUint: parsing {p:?}: invalid syntax"))
    };
    match s.split_once('-') {
        None => {
            let p = one(s)?;
            Ok((p, p))
        }
        Some((a, b)) => {
            let (a, b) = (one(a)?, one(b)?);
            if b < a {
                return Err(format!("invalid range specified for port: {s}"));
            }
            Ok((a, b))
        }
    }
}

/// `nat.SplitProtoPort`.
pub fn split_proto_port(raw: &str) -> (String, String) {
    let parts: Vec<&str> = raw.split('/').collect();
    if raw.is_empty() || parts[0].is_empty() {
        return (String::new(), String::new());
    }
    if parts.len() == 1 || parts[1].is_empty() {
        return ("tcp".into(), parts[0].to_string());
    }
    (parts[1].to_string(), parts[0].to_string())
}

/// One `HostIp`/`HostPort` pair for one container port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    /// `80/tcp`
    pub port: String,
    /// The host address (empty: all).
    pub host_ip: String,
    /// The host port (empty: any).
    pub host_port: String,
}

/// `convertToStandardNotation` then `nat.ParsePortSpec`.
pub fn parse_publish(raw: &str) -> Result<Vec<Mapping>, String> {
    let raw = if raw.contains('=') {
        let mut published = String::new();
        let mut target = String::new();
        let mut proto = "tcp".to_string();
        for param in raw.split(',') {
            let Some((k, v)) = param.split_once('=').filter(|(k, _)| !k.is_empty()) else {
                return Err(format!(
                    "invalid publish opts format (should be name=value but got '{param}')"
                ));
            };
            match k {
                "published" => published = v.to_string(),
                "target" => target = v.to_string(),
                "protocol" => proto = v.to_string(),
                _ => {}
            }
        }
        format!("{published}:{target}/{proto}")
    } else {
        raw.to_string()
    };
    let parts: Vec<&str> = raw.split(':').collect();
    let n = parts.len();
    let container = parts[n - 1];
    let (mut ip, host) = match n {
        1 => (String::new(), ""),
        2 => (String::new(), parts[0]),
        3 => (parts[0].to_string(), parts[1]),
        _ => (parts[..n - 2].join(":"), parts[n - 2]),
    };
    let (proto, container) = split_proto_port(container);
    if ip.starts_with('[') {
        ip = ip.trim_start_matches('[').trim_end_matches(']').to_string();
    }
    if !ip.is_empty() && ip.parse::<std::net::IpAddr>().is_err() {
        return Err(format!("invalid IP address: {ip}"));
    }
    if container.is_empty() {
        return Err(format!("no port specified: {raw}<empty>"));
    }
    let (start, end) =
        parse_port_range(&container).map_err(|_| format!("invalid containerPort: {container}"))?;
    let (mut hstart, mut hend) = (0, 0);
    if !host.is_empty() {
        (hstart, hend) = parse_port_range(host).map_err(|_| format!("invalid hostPort: {host}"))?;
    }
    if !host.is_empty() && end - start != hend - hstart && end != start {
        return Err(format!(
            "invalid ranges specified for container and host Ports: {container} and {host}"
        ));
    }
    let proto_l = proto.to_lowercase();
    if !["tcp", "udp", "sctp"].contains(&proto_l.as_str()) {
        return Err(format!("invalid proto: {proto}"));
    }
    let mut out = Vec::new();
    for i in 0..=(end - start) {
        let mut host_port = String::new();
        if !host.is_empty() {
            host_port = (hstart + i).to_string();
        }
        if start == end && hstart != hend {
            host_port = format!("{host_port}-{hend}");
        }
        out.push(Mapping {
            port: format!("{}/{proto_l}", start + i),
            host_ip: ip.clone(),
            host_port,
        });
    }
    Ok(out)
}

/// `ExposedPorts` and `PortBindings` for `-p` and `--expose` values.
pub fn ports(publish: &[String], expose: &[String]) -> Result<(Value, Value), String> {
    let mut exposed = Map::new();
    let mut bindings: Map<String, Value> = Map::new();
    for p in publish {
        for m in parse_publish(p)? {
            exposed.insert(m.port.clone(), json!({}));
            let entry = bindings.entry(m.port.clone()).or_insert_with(|| json!([]));
            if let Some(a) = entry.as_array_mut() {
                a.push(json!({"HostIp": m.host_ip, "HostPort": m.host_port}));
            }
        }
    }
    for e in expose {
        let (proto, port) = split_proto_port(e);
        let (start, end) = parse_port_range(&port)
            .map_err(|err| format!("invalid range format for --expose: {e}, error: {err}"))?;
        for p in start..=end {
            exposed.insert(format!("{p}/{}", proto.to_lowercase()), json!({}));
        }
    }
    Ok((Value::Object(exposed), Value::Object(bindings)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_specs() {
        let m = parse_publish("127.0.0.1:8080:80/udp").unwrap();
        assert_eq!(
            m,
            vec![Mapping {
                port: "80/udp".into(),
                host_ip: "127.0.0.1".into(),
                host_port: "8080".into()
            }]
        );
        assert_eq!(parse_publish("80").unwrap()[0].port, "80/tcp");
        assert_eq!(parse_publish("8000-8001:80-81").unwrap().len(), 2);
        assert_eq!(
            parse_publish("99999:1").unwrap_err(),
            "invalid hostPort: 99999"
        );
        assert_eq!(
            parse_publish("1:99999").unwrap_err(),
            "invalid containerPort: 99999"
        );
        assert_eq!(parse_publish("1:2/foo").unwrap_err(), "invalid proto: foo");
        assert_eq!(
            parse_publish("published=8080,target=80").unwrap()[0].host_port,
            "8080"
        );
        let (e, b) = ports(&["8080:80".into()], &["90-91/udp".into()]).unwrap();
        assert_eq!(e, json!({"80/tcp":{}, "90/udp":{}, "91/udp":{}}));
        assert_eq!(b, json!({"80/tcp":[{"HostIp":"","HostPort":"8080"}]}));
    }
}
