//! `POST /api/v1/performance-records/import` and `POST /api/v1/cost-records/import`: up to
//! 50,000 rows per request as `text/csv` or JSON `{"records": [...]}`, all or nothing. Bodies may
//! be up to [`IMPORT_BODY_LIMIT`] (larger than other requests' limit); with an
//! `Idempotency-Key` the general body limit applies, since the key's middleware keeps the body.

use actix_web::http::{header, StatusCode};
use actix_web::{post, web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::Deserialize;
use utoipa::ToSchema;

use super::costs::model::CostRecordCreate;
use super::import::{self, ImportMode, ImportParams, ImportResult, Kind};
use super::records::model::PerformanceRecordCreate;
use crate::access::Caller;
use crate::error::{ApiError, Code};
use crate::http::extract::Query;
use crate::http::{idempotency, reply::Reply};
use crate::state::AppState;

/// The largest import body: 50,000 rows of a few hundred bytes each.
pub const IMPORT_BODY_LIMIT: usize = 32 * 1024 * 1024;

/// The JSON form of a performance import (`records` only: the import refuses other keys).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PerformanceImport {
    /// 1–50,000 records, each as `POST /performance-records` takes it.
    #[schema(min_items = 1, max_items = 50000)]
    pub records: Vec<PerformanceRecordCreate>,
}

/// The JSON form of a cost import. With `mode=upsert` a record may also carry the `id` of the
/// cost record it replaces.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CostImport {
    #[schema(min_items = 1, max_items = 50000)]
    pub records: Vec<CostRecordCreate>,
}

async fn read_body(req: &HttpRequest, mut payload: web::Payload) -> Result<(String, web::Bytes), ApiError> {
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if essence != "text/csv" && essence != "application/json" {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Code::UnsupportedMediaType,
            "send the rows as Content-Type: text/csv (a header row with the field names) or application/json",
        ));
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk
            .map_err(|e| ApiError::bad_request(Code::MalformedBody, format!("the body could not be read: {e}")))?;
        if body.len() + chunk.len() > IMPORT_BODY_LIMIT {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                Code::PayloadTooLarge,
                format!("an import body may be up to {IMPORT_BODY_LIMIT} bytes; the CLI imports files of any size"),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((essence, body.freeze()))
}

async fn import(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    params: ImportParams,
    payload: web::Payload,
    kind: Kind,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_write()?;
    let (content_type, body) = read_body(&req, payload).await?;
    let (rows, unread) = crate::telemetry::run_blocking(move || import::parse_body(kind, &content_type, &body))
        .await
        .map_err(|e| ApiError::internal(format!("import parsing failed: {e}")))??;
    let mode = params.mode.unwrap_or(ImportMode::Insert);
    let actor = caller.actor();
    let reply = idempotency::write(&state.db, move |conn| {
        let result = import::run(conn, &actor, kind, (&rows, unread), mode)?;
        Ok(Reply::json(StatusCode::OK, &result))
    })
    .await?;
    Ok(reply.into_response())
}

/// Import performance records, all or nothing: any bad row is a 422 whose `errors[]` lists every
/// bad row (`row` 1 is the first record; in CSV the line after the header) and nothing is
/// written. CSV money: `revenue` in yuan (up to two decimals) or `revenue_minor` in fen.
/// `mode=upsert` replaces the record of the same partner, month and product line.
#[utoipa::path(
    operation_id = "import_performance_records",
    tag = "performance",
    params(ImportParams),
    request_body(content(
        (PerformanceImport = "application/json"),
        (String = "text/csv", example = "partner_id,period,product_line,revenue,units,orders,new_customers\n0192f0c4-3b9e-7c1a-8f00-000000000000,2026-03,,12345.60,40,12,3\n"),
    )),
    responses(
        (status = 200, description = "Written", body = ImportResult),
        (status = 413, description = "`payload_too_large`", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/performance-records/import")]
pub async fn import_performance(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    params: Query<ImportParams>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    import(req, state, caller, params.0, payload, Kind::Performance).await
}

/// Import cost records, all or nothing (as the performance import). CSV money: `amount` in yuan
/// or `amount_minor` in fen. `mode=upsert` replaces the cost records whose `id` a row gives.
#[utoipa::path(
    operation_id = "import_cost_records",
    tag = "costs",
    params(ImportParams),
    request_body(content(
        (CostImport = "application/json"),
        (String = "text/csv", example = "partner_id,period,category,amount\n0192f0c4-3b9e-7c1a-8f00-000000000000,2026-03,rebate,500.00\n"),
    )),
    responses(
        (status = 200, description = "Written", body = ImportResult),
        (status = 413, description = "`payload_too_large`", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/cost-records/import")]
pub async fn import_costs(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    params: Query<ImportParams>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    import(req, state, caller, params.0, payload, Kind::Costs).await
}
