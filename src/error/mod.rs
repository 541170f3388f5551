//! The one error type. Every failure leaves the service as `application/problem+json` (RFC 9457)
//! with a stable `code`; 5xx details are logged with the request id and never shown.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

mod codes;
pub use codes::Code;

/// One invalid input: `field` is the JSON path (`params.tiers[1].threshold_minor`) or the query
/// or path parameter name.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct FieldError {
    /// The row of a bulk import the error is in (1 = the first record; 0 = the CSV header).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub row: Option<u64>,
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { row: None, field: field.into(), message: message.into() }
    }
}

/// The problem+json body.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference naming the problem type.
    #[schema(example = "https://channeldesk.dev/problems/validation_failed")]
    pub r#type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable, snake_case machine code, e.g. `partner_not_found`, `version_mismatch`.
    pub code: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(nullable = false)]
    pub errors: Vec<FieldError>,
    /// The request id, also sent as the `X-Request-Id` header; quote it when reporting a 5xx.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub request_id: Option<String>,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: Code,
    pub detail: String,
    pub errors: Vec<FieldError>,
    /// Headers the response must carry (e.g. `Allow` on 405, `WWW-Authenticate` on 401).
    pub headers: Vec<(header::HeaderName, String)>,
    /// What really went wrong, for the log only (5xx).
    internal: Option<String>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.detail)?;
        if let Some(internal) = &self.internal {
            write!(f, " ({internal})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

impl ApiError {
    pub fn new(status: StatusCode, code: Code, detail: impl Into<String>) -> Self {
        Self { status, code, detail: detail.into(), errors: Vec::new(), headers: Vec::new(), internal: None }
    }

    pub fn with_header(mut self, name: header::HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// 404 with a `…_not_found` code, e.g. `not_found(Code::PartnerNotFound)`: "partner not found".
    pub fn not_found(code: Code) -> Self {
        let what = code.as_str().strip_suffix("_not_found").unwrap_or("resource").replace('_', " ");
        Self::new(StatusCode::NOT_FOUND, code, format!("{what} not found"))
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one @ FieldError { row: Some(row), .. }] => format!("row {row}, {}: {}", one.field, one.message),
            [one] => format!("{}: {}", one.field, one.message),
            many if many.iter().any(|e| e.row.is_some()) => {
                let rows: std::collections::BTreeSet<u64> = many.iter().filter_map(|e| e.row).collect();
                format!("{} rows are invalid; nothing was written", rows.len())
            }
            _ => format!("{} fields are invalid", errors.len()),
        };
        Self { errors, ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, Code::ValidationFailed, detail) }
    }

    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldError::new(field, message)])
    }

    pub fn bad_request(code: Code, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }

    pub fn conflict(code: Code, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, detail)
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, Code::Unauthorized, detail).with_header(header::WWW_AUTHENTICATE, "Bearer")
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, Code::Forbidden, detail)
    }

    pub fn version_mismatch() -> Self {
        Self::new(
            StatusCode::PRECONDITION_FAILED,
            Code::VersionMismatch,
            "the resource changed since it was read: fetch it again and reapply your change",
        )
    }

    /// 503 with `Retry-After`: the database is away or busy past its wait limit.
    pub fn unavailable(internal: impl Into<String>) -> Self {
        Self {
            internal: Some(internal.into()),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                Code::ServiceUnavailable,
                "the service is temporarily unavailable; retry shortly",
            )
            .with_header(header::RETRY_AFTER, "2")
        }
    }

    /// 503 without `Retry-After`: the server lacks a setting the operation needs (`code` says
    /// which); retrying will not help until an operator sets it.
    pub fn misconfigured(code: Code, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, code, detail)
    }

    pub fn internal(internal: impl std::fmt::Display) -> Self {
        Self {
            internal: Some(internal.to_string()),
            ..Self::new(StatusCode::INTERNAL_SERVER_ERROR, Code::InternalError, "an unexpected error occurred")
        }
    }

    pub fn problem(&self, request_id: Option<String>) -> Problem {
        Problem {
            r#type: format!("https://channeldesk.dev/problems/{}", self.code.as_str()),
            title: self.status.canonical_reason().unwrap_or("Error").to_string(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            code: self.code.as_str().to_string(),
            errors: self.errors.clone(),
            request_id,
        }
    }
}

pub const PROBLEM_JSON: &str = "application/problem+json";

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let request_id = crate::telemetry::current_request_id();
        if self.status.is_server_error() {
            tracing::error!(request_id = request_id.as_deref().unwrap_or("-"), error = %self, "request failed");
        }
        let mut res = HttpResponse::build(self.status);
        res.insert_header((header::CONTENT_TYPE, PROBLEM_JSON));
        for (name, value) in &self.headers {
            res.insert_header((name.clone(), value.clone()));
        }
        res.body(serde_json::to_string(&self.problem(request_id)).unwrap_or_default())
    }
}

impl From<r2d2::Error> for ApiError {
    fn from(e: r2d2::Error) -> Self {
        ApiError::unavailable(format!("database pool: {e}"))
    }
}
