//! Handlers of `/bot-channels`: the group robots events are pushed to (admin only), and the test
//! message that checks a robot is wired up.

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};

use super::model::*;
use super::store;
use crate::access::Caller;
use crate::error::ApiError;
use crate::http::etag;
use crate::http::extract::{Json, Query};
use crate::http::pagination::{Page, PageParams};
use crate::http::{idempotency, reply::Reply};
use crate::notify::send;
use crate::platforms::format::{self, Message};
use crate::state::AppState;
use crate::validation::path_id;

const PROBLEM: &str = "application/problem+json";

/// Add a WeCom or DingTalk group robot (admin). The URL's key/token and the secret are
/// write-only: responses mask them.
#[utoipa::path(
    tag = "bot-channels",
    request_body = BotChannelCreate,
    responses(
        (status = 201, description = "Created", body = BotChannel, headers(("Location" = String), ("ETag" = String))),
        (status = 409, description = "`chat_id_taken`", body = crate::error::Problem, content_type = PROBLEM),
    ),
)]
#[post("/bot-channels")]
pub async fn create_channel(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<BotChannelCreate>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let settings = body.0.settings();
    settings.validate(&state.config.notify.outbound_allow_hosts)?;
    let (actor, sealer) = (caller.actor(), state.config.notify.sealer()?);
    let reply = idempotency::write(&state.db, move |conn| {
        let ch = store::create(conn, &actor, &settings, &sealer)?;
        let location = format!("/api/v1/bot-channels/{}", ch.id);
        Ok(Reply::created(&ch, location))
    })
    .await?;
    Ok(reply.into_response())
}

/// List bot channels (admin), newest first.
#[utoipa::path(
    tag = "bot-channels",
    params(BotChannelFilter, PageParams),
    responses((status = 200, description = "A page of bot channels", body = Page<BotChannel>)),
)]
#[get("/bot-channels")]
pub async fn list_channels(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    filter: Query<BotChannelFilter>,
    page: Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    filter.validate()?;
    let page = page.request(1)?;
    let (filter, request, sealer) = (filter.0, page.clone(), state.config.notify.sealer()?);
    let rows = state.db.read(move |conn| store::list(conn, &filter, &request, &sealer)).await?;
    Ok(Page::by_id(rows, &page).respond(&req))
}

/// Get a bot channel (admin).
#[utoipa::path(
    tag = "bot-channels",
    params(("id" = uuid::Uuid, Path, description = "Bot channel id")),
    responses((status = 200, description = "The bot channel", body = BotChannel, headers(("ETag" = String)))),
)]
#[get("/bot-channels/{id}")]
pub async fn get_channel(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let id = path_id("id", &id)?;
    let sealer = state.config.notify.sealer()?;
    let ch = state.db.read(move |conn| store::get(conn, &id, &sealer)).await?;
    Ok(etag::ok(&ch))
}

/// Change a bot channel (admin; JSON merge patch). `"secret": null` removes the signing secret.
#[utoipa::path(
    tag = "bot-channels",
    params(("id" = uuid::Uuid, Path, description = "Bot channel id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read; 412 if the channel changed since")),
    request_body = BotChannelUpdate,
    responses(
        (status = 200, description = "Updated", body = BotChannel, headers(("ETag" = String))),
        (status = 409, description = "`chat_id_taken`", body = crate::error::Problem, content_type = PROBLEM),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = PROBLEM),
    ),
)]
#[patch("/bot-channels/{id}")]
pub async fn update_channel(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<BotChannelUpdate>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let id = path_id("id", &id)?;
    let expected = etag::if_match(&req)?;
    let (actor, patch, hosts) = (caller.actor(), body.0, state.config.notify.outbound_allow_hosts.clone());
    let sealer = state.config.notify.sealer()?;
    let ch = state.db.write(move |conn| store::update(conn, &actor, &id, &expected, &patch, &hosts, &sealer)).await?;
    Ok(etag::ok(&ch))
}

/// Delete a bot channel (admin) with its subscriptions; its undelivered messages are cancelled.
#[utoipa::path(
    tag = "bot-channels",
    params(("id" = uuid::Uuid, Path, description = "Bot channel id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = PROBLEM),
    ),
)]
#[delete("/bot-channels/{id}")]
pub async fn delete_channel(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let id = path_id("id", &id)?;
    let expected = etag::if_match(&req)?;
    let (actor, sealer) = (caller.actor(), state.config.notify.sealer()?);
    state.db.write(move |conn| store::delete(conn, &actor, &id, &expected, &sealer)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Send a test message to the robot now (admin) and return the platform's answer. It counts
/// toward the robot's per-minute limit; at the limit the answer is 429.
#[utoipa::path(
    tag = "bot-channels",
    params(("id" = uuid::Uuid, Path, description = "Bot channel id")),
    responses(
        (status = 200, description = "The platform's answer (`ok` false when it refused)", body = TestResult),
        (status = 429, description = "`rate_limited`: the robot had its messages for this minute", body = crate::error::Problem, content_type = PROBLEM,
            headers(("Retry-After" = String, description = "Seconds to wait"))),
    ),
)]
#[post("/bot-channels/{id}/test")]
pub async fn test_channel(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let id = path_id("id", &id)?;
    let rate = state.config.notify.bot_rate_per_minute;
    let sealer = state.config.notify.sealer()?;
    let row = state.db.write(move |conn| store::reserve_test_send(conn, &id, rate)).await?.open(&sealer)?;
    let platform = row.platform()?;
    let message = Message {
        title: "channeldesk 测试消息".into(),
        lines: vec![format!("机器人「{}」已接通，渠道通知将发送到这里。", format::plain(&row.name))],
        link: None,
        mentions: Vec::new(),
    };
    let style = format::Style { keyword: row.keyword.clone(), base_url: None };
    let body = format::single_body(platform, &message, &style);
    let client = send::client(state.config.notify.delivery_timeout_ms).map_err(ApiError::internal)?;
    let to = send::Destination::Robot { platform, webhook_url: row.webhook_url, secret: row.secret };
    let attempt = send::send(&client, &to, &body, chrono::Utc::now(), state.config.notify.delivery_timeout_ms).await;
    let delivered = attempt.outcome == send::Outcome::Delivered;
    let no_answer = attempt.http_status.is_none();
    Ok(HttpResponse::Ok().json(TestResult {
        ok: delivered,
        http_status: attempt.http_status,
        errcode: attempt.errcode,
        errmsg: if no_answer { None } else { attempt.error.clone() },
        error: if no_answer { attempt.error } else { None },
    }))
}
