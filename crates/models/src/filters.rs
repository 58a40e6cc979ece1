//! The `filters` query parameter (moby `filters.Args`): a JSON object from
//! a filter name to its values, `{"dangling":["true"]}`, or in the legacy
//! form `{"dangling":{"true":true}}` that old clients send.

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    by_name: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FilterError {
    /// Docker's wording: `invalid filter 'x'`.
    #[error("invalid filter '{0}'")]
    UnknownFilter(String),
    #[error("invalid filter value for {name}: {value}")]
    InvalidValue { name: String, value: String },
    #[error("invalid filters argument: {0}")]
    Malformed(String),
}

impl Filters {
    /// Parses the query value; empty means no filter.
    pub fn parse(query: &str) -> Result<Self, FilterError> {
        if query.trim().is_empty() {
            return Ok(Filters::default());
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Values {
            List(Vec<String>),
            Set(BTreeMap<String, bool>),
        }
        let raw: BTreeMap<String, Values> =
            serde_json::from_str(query).map_err(|e| FilterError::Malformed(e.to_string()))?;
        let by_name = raw
            .into_iter()
            .map(|(name, values)| {
                let values = match values {
                    Values::List(list) => list,
                    Values::Set(set) => set
                        .into_iter()
                        .filter(|(_, on)| *on)
                        .map(|(v, _)| v)
                        .collect(),
                };
                (name, values)
            })
            .collect();
        Ok(Filters { by_name })
    }

    /// Adds one value (client side).
    pub fn add(&mut self, name: &str, value: &str) {
        self.by_name
            .entry(name.to_string())
            .or_default()
            .push(value.to_string());
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// Refuses names not in `allowed`, as dockerd does before filtering.
    pub fn validate(&self, allowed: &[&str]) -> Result<(), FilterError> {
        match self
            .by_name
            .keys()
            .find(|name| !allowed.contains(&name.as_str()))
        {
            Some(name) => Err(FilterError::UnknownFilter(name.clone())),
            None => Ok(()),
        }
    }

    /// The values given for `name` (empty if none).
    pub fn get(&self, name: &str) -> &[String] {
        self.by_name.get(name).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Every filter name with its values.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Vec<String>)> {
        self.by_name.iter()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    /// A boolean filter such as `dangling=true`: `None` when absent, an error
    /// for a value that is not a boolean or when both are asked.
    pub fn get_bool(&self, name: &str) -> Result<Option<bool>, FilterError> {
        let mut result = None;
        for value in self.get(name) {
            let b = match value.to_ascii_lowercase().as_str() {
                "true" | "1" => true,
                "false" | "0" => false,
                _ => {
                    return Err(FilterError::InvalidValue {
                        name: name.to_string(),
                        value: value.clone(),
                    });
                }
            };
            if result.is_some_and(|r| r != b) {
                return Err(FilterError::InvalidValue {
                    name: name.to_string(),
                    value: value.clone(),
                });
            }
            result = Some(b);
        }
        Ok(result)
    }

    /// Whether a `label` filter matches these labels: every value is `key`
    /// (present) or `key=value` (equal).
    pub fn match_labels(&self, name: &str, labels: &BTreeMap<String, String>) -> bool {
        self.get(name)
            .iter()
            .all(|want| match want.split_once('=') {
                Some((k, v)) => labels.get(k).is_some_and(|have| have == v),
                None => labels.contains_key(want.as_str()),
            })
    }

    /// The query value in the current form.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.by_name).unwrap_or_else(|_| "{}".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_parse() {
        let a = Filters::parse(r#"{"dangling":["true"],"label":["a=b","c"]}"#).unwrap();
        let b =
            Filters::parse(r#"{"dangling":{"true":true},"label":{"a=b":true,"c":true}}"#).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.get_bool("dangling"), Ok(Some(true)));
        assert_eq!(a.get("label"), ["a=b", "c"]);
        assert!(Filters::parse("").unwrap().is_empty());
    }

    #[test]
    fn rejects_unknown_names_and_values() {
        let f = Filters::parse(r#"{"nope":["1"]}"#).unwrap();
        assert_eq!(
            f.validate(&["dangling"]).unwrap_err().to_string(),
            "invalid filter 'nope'"
        );
        let f = Filters::parse(r#"{"dangling":["maybe"]}"#).unwrap();
        assert!(f.get_bool("dangling").is_err());
        assert!(Filters::parse("{garbage").is_err());
    }

    #[test]
    fn labels_match_by_key_and_value() {
        let mut labels = BTreeMap::new();
        labels.insert("a".to_string(), "b".to_string());
        let f = Filters::parse(r#"{"label":["a=b"]}"#).unwrap();
        assert!(f.match_labels("label", &labels));
        let f = Filters::parse(r#"{"label":["a=c"]}"#).unwrap();
        assert!(!f.match_labels("label", &labels));
        let f = Filters::parse(r#"{"label":["a"]}"#).unwrap();
        assert!(f.match_labels("label", &labels));
    }
}
