//! Mounts as docker's CLI reads them: `--mount` (docker's `MountOpt`:
//! CSV `key=value` fields for bind, volume and tmpfs mounts, turned into
//! the API's `Mount` object), `-v/--volume` (`[SRC:]DST[:MODE]`: with a
//! source it is a bind or named volume in `HostConfig.Binds`, a relative
//! `./path` made absolute; without, an anonymous volume in
//! `Config.Volumes`), and `--tmpfs` (`PATH[:OPTIONS]`).

use serde_json::{Map, Value, json};

use super::flags::ram_in_bytes;

/// Parse one `--mount` value.
pub fn parse_mount(s: &str) -> Result<Value, String> {
    let mut kind = "volume".to_string();
    let mut source = String::new();
    let mut target = String::new();
    let mut read_only = false;
    let mut consistency = String::new();
    let mut bind = Map::new();
    let mut volume = Map::new();
    let mut volume_labels = Map::new();
    let mut driver_name = String::new();
    let mut driver_opts = Map::new();
    let mut tmpfs = Map::new();
    for field in split_csv(s)? {
        let (key, value) = match field.split_once('=') {
            Some((k, v)) => (k.to_lowercase(), Some(v.to_string())),
            None => (field.to_lowercase(), None),
        };
        let Some(value) = value else {
            match key.as_str() {
                "readonly" | "ro" => {
                    read_only = true;
                    continue;
                }
                "volume-nocopy" => {
                    volume.insert("NoCopy".into(), Value::Bool(true));
                    continue;
                }
                "bind-nonrecursive" => {
                    return Err(
                        "bind-nonrecursive is deprecated, use bind-recursive=disabled instead"
                            .into(),
                    );
                }
                _ => {
                    return Err(format!("invalid field '{field}' must be a key=value pair"));
                }
            }
        };
        let as_bool = |v: &str| -> Result<bool, String> {
            super::flags::go_bool(v).map_err(|_| format!("invalid value for {key}: {v}"))
        };
        match key.as_str() {
            "type" => kind = value.to_lowercase(),
            "source" | "src" => source = value,
            "target" | "dst" | "destination" => target = value,
            "readonly" | "ro" => read_only = as_bool(&value)?,
            "consistency" => consistency = value,
            "bind-propagation" => {
                bind.insert("Propagation".into(), Value::String(value.to_lowercase()));
            }
            "bind-recursive" => match value.as_str() {
                "enabled" => {}
                "disabled" => {
                    bind.insert("NonRecursive".into(), Value::Bool(true));
                }
                "writable" => {
                    bind.insert("ReadOnlyNonRecursive".into(), Value::Bool(true));
                }
                "readonly" => {
                    bind.insert("ReadOnlyForceRecursive".into(), Value::Bool(true));
                }
                _ => {
                    return Err(format!(
                        "invalid value for {key}: {value} (must be \"enabled\", \"disabled\", \"writable\", or \"readonly\")"
                    ));
                }
            },
            "bind-create-host-path" => {
                if as_bool(&value)? {
                    bind.insert("CreateMountpoint".into(), Value::Bool(true));
                }
            }
            "volume-nocopy" => {
                volume.insert("NoCopy".into(), Value::Bool(as_bool(&value)?));
            }
            "volume-subpath" => {
                volume.insert("Subpath".into(), Value::String(value));
            }
            "volume-label" => {
                let (k, v) = value.split_once('=').unwrap_or((value.as_str(), ""));
                volume_labels.insert(k.to_string(), Value::String(v.to_string()));
            }
            "volume-driver" => driver_name = value,
            "volume-opt" => {
                let (k, v) = value.split_once('=').unwrap_or((value.as_str(), ""));
                driver_opts.insert(k.to_string(), Value::String(v.to_string()));
            }
            "tmpfs-size" => {
                let n = ram_in_bytes(&value)
                    .ok_or_else(|| format!("invalid value for {key}: {value}"))?;
                tmpfs.insert("SizeBytes".into(), json!(n));
            }
            "tmpfs-mode" => {
                let n = u32::from_str_radix(&value, 8)
                    .map_err(|_| format!("invalid value for {key}: {value}"))?;
                tmpfs.insert("Mode".into(), json!(n));
            }
            _ => return Err(format!("unexpected key '{key}' in '{field}'")),
        }
    }
    if !volume_labels.is_empty() {
        volume.insert("Labels".into(), Value::Object(volume_labels));
    }
    if !driver_name.is_empty() || !driver_opts.is_empty() {
        let mut dc = Map::new();
        dc.insert("Name".into(), Value::String(driver_name));
        if !driver_opts.is_empty() {
            dc.insert("Options".into(), Value::Object(driver_opts));
        }
        volume.insert("DriverConfig".into(), Value::Object(dc));
    }
    if target.is_empty() {
        return Err("target is required".into());
    }
    if kind != "bind" && !bind.is_empty() {
        return Err(format!(
            "cannot mix 'bind-*' options with mount type '{kind}'"
        ));
    }
    if kind != "volume" && !volume.is_empty() {
        return Err(format!(
            "cannot mix 'volume-*' options with mount type '{kind}'"
        ));
    }
    if kind != "tmpfs" && !tmpfs.is_empty() {
        return Err(format!(
            "cannot mix 'tmpfs-*' options with mount type '{kind}'"
        ));
    }
    let mut m = Map::new();
    m.insert("Type".into(), Value::String(kind));
    if !source.is_empty() {
        m.insert("Source".into(), Value::String(source));
    }
    m.insert("Target".into(), Value::String(target));
    if read_only {
        m.insert("ReadOnly".into(), Value::Bool(true));
    }
    if !consistency.is_empty() {
        m.insert("Consistency".into(), Value::String(consistency));
    }
    if !bind.is_empty() {
        m.insert("BindOptions".into(), Value::Object(bind));
    }
    if !volume.is_empty() {
        m.insert("VolumeOptions".into(), Value::Object(volume));
    }
    if !tmpfs.is_empty() {
        m.insert("TmpfsOptions".into(), Value::Object(tmpfs));
    }
    Ok(Value::Object(m))
}

/// Go's `csv.Reader` for one line: comma-separated, fields may be
/// double-quoted (`""` inside a quoted field is a quote).
fn split_csv(s: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = s.chars().peekable();
    let mut quoted = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    cur.push('"');
                    chars.next();
                } else {
                    quoted = false;
                }
            } else {
                cur.push(c);
            }
            continue;
        }
        match c {
            '"' if at_start => {
                quoted = true;
                at_start = false;
            }
            ',' => {
                out.push(std::mem::take(&mut cur));
                at_start = true;
            }
            _ => {
                cur.push(c);
                at_start = false;
            }
        }
    }
    if quoted {
        return Err(format!(
            "parse error on line 1, column {}: extraneous or missing \" in quoted-field",
            s.len() + 1
        ));
    }
    out.push(cur);
    Ok(out)
}

/// Where a `-v` value goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VolumeSpec {
    /// An anonymous volume at this container path (`Config.Volumes`).
    Anonymous(String),
    /// A bind or named volume (`HostConfig.Binds`).
    Bind(String),
}

/// Parse one `-v` value.
pub fn parse_volume(s: &str) -> Result<VolumeSpec, String> {
    let parts: Vec<&str> = s.split(':').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(format!("invalid spec: {s}: empty section between colons"));
    }
    match parts.len() {
        1 => Ok(VolumeSpec::Anonymous(s.to_string())),
        2 | 3 => {
            let mut host = parts[0].to_string();
            if !host.starts_with('/')
                && host.starts_with('.')
                && let Ok(cwd) = std::env::current_dir()
            {
                host = clean(&cwd.join(&host).display().to_string());
            }
            let rest = parts[1..].join(":");
            Ok(VolumeSpec::Bind(format!("{host}:{rest}")))
        }
        _ => Err(format!("invalid spec: {s}: too many colons")),
    }
}

/// Go's `filepath.Clean` for absolute paths.
pub fn clean(p: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            x => out.push(x),
        }
    }
    format!("/{}", out.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_specs() {
        assert_eq!(
            parse_mount("type=bind,src=/a,dst=/b,ro,bind-propagation=rshared").unwrap(),
            json!({"Type":"bind","Source":"/a","Target":"/b","ReadOnly":true,"BindOptions":{"Propagation":"rshared"}})
        );
        assert_eq!(
            parse_mount("type=tmpfs,target=/t,tmpfs-size=1m,tmpfs-mode=1770").unwrap(),
            json!({"Type":"tmpfs","Target":"/t","TmpfsOptions":{"SizeBytes":1048576,"Mode":1016}})
        );
        assert_eq!(
            parse_mount("source=v,target=/d,volume-label=a=b,volume-nocopy").unwrap(),
            json!({"Type":"volume","Source":"v","Target":"/d","VolumeOptions":{"NoCopy":true,"Labels":{"a":"b"}}})
        );
        assert_eq!(
            parse_mount("type=bind,src=/a").unwrap_err(),
            "target is required"
        );
        assert_eq!(
            parse_mount("type=volume,target=/a,bind-propagation=shared").unwrap_err(),
            "cannot mix 'bind-*' options with mount type 'volume'"
        );
        assert_eq!(
            parse_mount("target=/a,bogus=1").unwrap_err(),
            "unexpected key 'bogus' in 'bogus=1'"
        );
    }

    #[test]
    fn volume_specs() {
        assert_eq!(
            parse_volume("/data"),
            Ok(VolumeSpec::Anonymous("/data".into()))
        );
        assert_eq!(
            parse_volume("name:/data:ro"),
            Ok(VolumeSpec::Bind("name:/data:ro".into()))
        );
        assert!(parse_volume("a::b").is_err());
        assert_eq!(clean("/a/./b/../c"), "/a/c");
    }
}
