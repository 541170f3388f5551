//! Operational endpoints: liveness, readiness, metrics. No authentication: load balancers and
//! scrapers call them.

use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::state::AppState;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(healthz).service(readyz).service(metrics);
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok`
    pub status: String,
}

/// Liveness: the process answers.
#[utoipa::path(tag = "ops", responses((status = 200, description = "Up", body = Health)), security(()))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok".into() })
}

/// How long `/readyz` waits for the database before it answers 503.
pub const READY_WITHIN: std::time::Duration = std::time::Duration::from_millis(900);

/// Readiness: the database answers (within a second) and every migration is applied.
#[utoipa::path(
    tag = "ops",
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "Database unreachable or not migrated", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(()),
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    // A probe must answer quickly even while the database is away: a load balancer waits on it.
    let probe = state.db.read(|conn| crate::db::is_migrated(conn).map_err(ApiError::unavailable));
    let migrated = tokio::time::timeout(READY_WITHIN, probe)
        .await
        .map_err(|_| ApiError::unavailable(format!("the database did not answer within {READY_WITHIN:?}")))??;
    if !migrated {
        return Err(ApiError::unavailable("migrations pending"));
    }
    Ok(HttpResponse::Ok().json(Health { status: "ok".into() }))
}

/// Prometheus metrics: requests and latency by route and status, database pool gauges.
#[utoipa::path(
    tag = "ops",
    responses((status = 200, description = "Prometheus text exposition", body = String, content_type = "text/plain; version=0.0.4")),
    security(()),
)]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(state.metrics.render(
        state.db.pool_state(),
        state.db.pool_max_size(),
        state.db.waiting(),
    ))
}
