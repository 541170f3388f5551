//! The rows of a bulk import and the checks every kind of row goes through: a row as the JSON
//! object its record type reads, numbered through the whole input; errors that name the row and
//! the field. Shared by the performance and cost import (`import`) and the partners file
//! (`import_partners`), below both.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::error::{ApiError, FieldError};
use crate::validation::Check;

/// What an import wrote.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct ImportResult {
    pub created: u64,
    pub updated: u64,
}

/// One row as the JSON object its record type reads, with its number.
#[derive(Debug, Clone)]
pub struct Row {
    pub number: u64,
    pub fields: Map<String, Value>,
}

pub(crate) fn row_error(row: u64, field: &str, message: impl Into<String>) -> FieldError {
    FieldError { row: Some(row), ..FieldError::new(field, message) }
}

/// Reads a row as `T`, naming the field that failed.
pub(crate) fn typed<T: serde::de::DeserializeOwned>(row: &Row, errors: &mut Vec<FieldError>) -> Option<T> {
    let bytes = serde_json::to_vec(&row.fields).unwrap_or_default();
    match crate::http::extract::parse_json::<T>(&bytes) {
        Ok(v) => Some(v),
        // An error without field errors (the row is not a JSON object of the expected shape at
        // all) must still be reported: otherwise the row would silently be dropped.
        Err(e) if e.errors.is_empty() => {
            errors.push(row_error(row.number, "body", format!("is not a record of this import: {}", e.detail)));
            None
        }
        Err(e) => {
            errors.extend(e.errors.into_iter().map(|f| row_error(row.number, &f.field, f.message)));
            None
        }
    }
}

/// Checks of one row on its own, as the single-record endpoints do.
pub(crate) fn checked<T>(
    row: &Row,
    value: Option<T>,
    check: impl Fn(&T, &mut Check),
    errors: &mut Vec<FieldError>,
) -> Option<T> {
    let value = value?;
    let mut c = Check::new();
    check(&value, &mut c);
    match c.finish() {
        Ok(()) => Some(value),
        Err(e) => {
            errors.extend(e.errors.into_iter().map(|f| row_error(row.number, &f.field, f.message)));
            None
        }
    }
}

/// A row's value checked by a rule that answers as the single-record endpoints do.
pub(crate) fn checked_api<T>(
    number: u64,
    value: Option<T>,
    validate: impl Fn(&T) -> Result<(), ApiError>,
    errors: &mut Vec<FieldError>,
) -> Option<T> {
    let value = value?;
    match validate(&value) {
        Ok(()) => Some(value),
        Err(e) if e.errors.is_empty() => {
            errors.push(row_error(number, "body", e.detail));
            None
        }
        Err(e) => {
            errors.extend(e.errors.into_iter().map(|f| row_error(number, &f.field, f.message)));
            None
        }
    }
}

/// A failure of the database itself while planning: reported as one error without a row.
pub(crate) fn internal(e: ApiError) -> FieldError {
    FieldError::new("database", e.to_string())
}
