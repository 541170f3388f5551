//! Cross-cutting HTTP: authentication, extractors, pagination, ETags, idempotency, request ids,
//! the latency metric, and the answers for unknown paths and methods.

pub mod auth;
pub mod csv;
pub mod etag;
pub mod extract;
pub mod idempotency;
pub mod pagination;
pub mod reply;
pub mod transport;

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest, HttpResponse};
use tracing::Instrument;

use crate::error::{ApiError, Code};
use crate::state::AppState;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Outermost middleware: a request id (the client's `X-Request-Id` when it is sane, else a new
/// one), a span carrying it, the latency metric, the id echoed on the response, and every error
/// answer as problem+json — also those that come from outside our handlers (the Swagger UI's own
/// 404s, actix's extractor and routing errors), which [`as_problem`] rewrites.
pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let request_id = req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty() && v.len() <= 64 && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let span = tracing::info_span!("request", request_id = %request_id, method = %req.method(), path = %req.path());
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let method = req.method().to_string();
    let started = Instant::now();

    let refused = state
        .as_ref()
        .and_then(|s| s.routes.shadowed_refusal(req.path(), req.method()))
        .map(|allow| method_not_allowed(req.method(), allow));
    let outcome = match refused {
        Some(err) => Ok(req.into_response(actix_web::ResponseError::error_response(&err))),
        None => crate::telemetry::with_request_id(request_id.clone(), next.call(req).instrument(span.clone()))
            .await
            .map(ServiceResponse::map_into_boxed_body),
    };
    let mut res = match outcome {
        Ok(res) => as_problem(res, &request_id).await,
        // An error that escaped as `Err` is rendered by actix from the error: make it ours.
        Err(err) => {
            let status = err.as_response_error().status_code();
            let detail = status.canonical_reason().unwrap_or("error").to_lowercase();
            return Err(ApiError::new(status, code_for_status(status), detail).into());
        }
    };

    let status = res.status().as_u16();
    let route = res.request().match_pattern().unwrap_or_else(|| "unmatched".to_string());
    let elapsed = started.elapsed();
    if let Some(state) = state {
        state.metrics.observe(&method, &route, status, elapsed.as_secs_f64());
    }
    span.in_scope(|| {
        tracing::info!(status, route = %route, latency_ms = elapsed.as_secs_f64() * 1000.0, "handled");
    });
    if let Ok(value) = header::HeaderValue::from_str(&request_id) {
        res.headers_mut().insert(header::HeaderName::from_static(REQUEST_ID_HEADER), value);
    }
    Ok(res)
}

/// An error answer that is not problem+json yet (produced outside our handlers) replaced by one
/// with the same status; everything else unchanged.
async fn as_problem(res: ServiceResponse<BoxBody>, request_id: &str) -> ServiceResponse<BoxBody> {
    let status = res.status();
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(crate::error::PROBLEM_JSON));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return res;
    }
    let (http_req, original) = res.into_parts();
    let mut reply = problem_for_status(status, request_id);
    for name in [header::ALLOW, header::RETRY_AFTER, header::WWW_AUTHENTICATE] {
        if let Some(value) = original.headers().get(&name).and_then(|v| v.to_str().ok()) {
            reply = reply.header(name, value);
        }
    }
    ServiceResponse::new(http_req, reply.into_response())
}

/// The code an error status has when nothing more specific is known.
pub fn code_for_status(status: StatusCode) -> Code {
    match status {
        StatusCode::BAD_REQUEST => Code::MalformedBody,
        StatusCode::UNAUTHORIZED => Code::Unauthorized,
        StatusCode::FORBIDDEN => Code::Forbidden,
        StatusCode::NOT_FOUND => Code::RouteNotFound,
        StatusCode::METHOD_NOT_ALLOWED => Code::MethodNotAllowed,
        StatusCode::REQUEST_TIMEOUT => Code::RequestTimeout,
        StatusCode::PAYLOAD_TOO_LARGE => Code::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => Code::UnsupportedMediaType,
        StatusCode::UNPROCESSABLE_ENTITY => Code::ValidationFailed,
        StatusCode::TOO_MANY_REQUESTS => Code::RateLimited,
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => Code::HeadersTooLarge,
        StatusCode::SERVICE_UNAVAILABLE => Code::ServiceUnavailable,
        s if s.is_server_error() => Code::InternalError,
        _ => Code::MalformedBody,
    }
}

/// A problem+json answer for `status` alone.
pub fn problem_for_status(status: StatusCode, request_id: &str) -> reply::Reply {
    let detail = status.canonical_reason().unwrap_or("error").to_lowercase();
    let err = ApiError::new(status, code_for_status(status), detail);
    reply::Reply::json(status, &err.problem(Some(request_id.to_string())))
        .header(header::CONTENT_TYPE, crate::error::PROBLEM_JSON)
}

/// The app's default service: 405 with `Allow` on a known path, else 404; both problem+json.
pub async fn fallback(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    match state.routes.allowed(req.path()) {
        Some(methods) => Err(method_not_allowed(req.method(), methods)),
        None => Err(ApiError::not_found(Code::RouteNotFound)),
    }
}

fn method_not_allowed(method: &Method, allowed: &[Method]) -> ApiError {
    let allow = allowed.iter().map(Method::as_str).collect::<Vec<_>>().join(", ");
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        Code::MethodNotAllowed,
        format!("{method} is not allowed here; allowed: {allow}"),
    )
    .with_header(header::ALLOW, allow)
}
