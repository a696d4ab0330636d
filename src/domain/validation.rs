//! Validation results: what the rules say about an invalid field, before any transport shapes
//! them (error.rs turns a list of these into a 422 problem).

use serde::Serialize;

/// One invalid field of a request body or query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// JSON path of the field, e.g. `options[2].rationale`.
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}
