//! Label and field selectors, as kube-apiserver parses and applies them.
//!
//! INTERFACE STUB (issue 17, step 0): only the empty selector parses.

use serde_json::Value;

/// A parsed `labelSelector`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LabelSelector {
    _private: (),
}

/// A parsed `fieldSelector`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldSelector {
    _private: (),
}

/// Parses a `labelSelector` (`None` or empty: everything).
pub fn labels(text: Option<&str>) -> Result<LabelSelector, String> {
    match text.unwrap_or_default() {
        "" => Ok(LabelSelector::default()),
        other => Err(format!("label selectors are not supported yet: {other:?}")),
    }
}

/// Parses a `fieldSelector` (`None` or empty: everything).
pub fn fields(text: Option<&str>) -> Result<FieldSelector, String> {
    match text.unwrap_or_default() {
        "" => Ok(FieldSelector::default()),
        other => Err(format!("field selectors are not supported yet: {other:?}")),
    }
}

impl LabelSelector {
    /// Whether `object`'s `metadata.labels` match.
    pub fn matches(&self, _object: &Value) -> bool {
        true
    }
}

impl FieldSelector {
    /// Whether `object`'s fields match.
    pub fn matches(&self, _object: &Value) -> bool {
        true
    }
}
