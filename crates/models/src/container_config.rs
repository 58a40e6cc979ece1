//! A container's portable configuration (moby `container.Config`): the
//! `Config` of an image's inspect output, and later of container create
//! and inspect. Go's `nil` slices and maps are `None` here so that they
//! serialise as `null`, as dockerd's do.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// An empty JSON object: the value type of Docker's "set" maps
/// (`ExposedPorts`, `Volumes`), `{"80/tcp": {}}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Empty {}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerConfig {
    #[serde(default)]
    pub hostname: String,
    #[serde(default)]
    pub domainname: String,
    #[serde(default)]
    pub user: String,
    #[serde(default)]
    pub attach_stdin: bool,
    #[serde(default)]
    pub attach_stdout: bool,
    #[serde(default)]
    pub attach_stderr: bool,
    #[serde(default, skip_serializing_if = "is_empty_map")]
    pub exposed_ports: Option<BTreeMap<String, Empty>>,
    #[serde(default)]
    pub tty: bool,
    #[serde(default)]
    pub open_stdin: bool,
    #[serde(default)]
    pub stdin_once: bool,
    #[serde(default)]
    pub env: Option<Vec<String>>,
    #[serde(default, deserialize_with = "string_or_list")]
    pub cmd: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<HealthConfig>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub args_escaped: bool,
    #[serde(default)]
    pub image: String,
    #[serde(default)]
    pub volumes: Option<BTreeMap<String, Empty>>,
    #[serde(default)]
    pub working_dir: String,
    #[serde(default, deserialize_with = "string_or_list")]
    pub entrypoint: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub network_disabled: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub mac_address: String,
    #[serde(default)]
    pub on_build: Option<Vec<String>>,
    #[serde(default)]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub stop_signal: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_timeout: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shell: Option<Vec<String>>,
}

/// How a container's health is checked (moby `container.HealthConfig`;
/// durations in nanoseconds).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct HealthConfig {
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub test: Vec<String>,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "is_zero"
    )]
    pub interval: i64,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "is_zero"
    )]
    pub timeout: i64,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "is_zero"
    )]
    pub start_period: i64,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "is_zero"
    )]
    pub start_interval: i64,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "is_zero"
    )]
    pub retries: i64,
}

/// `null` read as the zero value, as Go's decoder leaves a non-pointer
/// field untouched on `null` (docker-py sends `"StartPeriod": null`).
fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

fn is_zero(v: &i64) -> bool {
    *v == 0
}

fn is_empty_map<V>(m: &Option<BTreeMap<String, V>>) -> bool {
    m.as_ref().is_none_or(BTreeMap::is_empty)
}

/// Docker's `StrSlice`: a command given as one string or as a list.
fn string_or_list<'de, D>(d: D) -> Result<Option<Vec<String>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum StrSlice {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Option::<StrSlice>::deserialize(d)? {
        None => None,
        Some(StrSlice::One(s)) => Some(vec![s]),
        Some(StrSlice::Many(v)) => Some(v),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nil_fields_serialise_as_null_or_vanish_like_go() {
        let json = serde_json::to_value(ContainerConfig::default()).unwrap();
        assert_eq!(json["Env"], serde_json::Value::Null);
        assert_eq!(json["Volumes"], serde_json::Value::Null);
        assert!(json.get("ExposedPorts").is_none());
        assert!(json.get("Healthcheck").is_none());
        assert!(json.get("StopSignal").is_none());
        assert_eq!(json["Hostname"], "");
    }

    #[test]
    fn cmd_accepts_a_string() {
        let c: ContainerConfig = serde_json::from_str(r#"{"Cmd":"sh","Entrypoint":null}"#).unwrap();
        assert_eq!(c.cmd, Some(vec!["sh".to_string()]));
        assert_eq!(c.entrypoint, None);
    }
}
