//! JSON values kept in portable TEXT columns. Rows hold the text; these two helpers are the only
//! way in and out, so a malformed value can only come from outside the service (and is a 500).

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::ApiError;

pub fn encode<T: Serialize + ?Sized>(value: &T) -> String {
    // Serializing our own plain data (strings, numbers, vectors, string-keyed maps) cannot fail.
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_string())
}

pub fn decode<T: DeserializeOwned>(text: &str) -> Result<T, ApiError> {
    serde_json::from_str(text).map_err(|e| ApiError::internal(format!("stored JSON is malformed: {e}")))
}
