use actix_web::http::StatusCode;
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use diesel::prelude::*;

use super::model::*;
use super::{send, store};
use crate::access::Caller;
use crate::db::schema::bot_send_log as sl;
use crate::error::{ApiError, Code};
use crate::http::etag;
use crate::http::extract::{Json, Query};
use crate::http::pagination::{Page, PageParams};
use crate::http::{idempotency, reply::Reply};
use crate::platforms::format::{self, Message};
use crate::state::AppState;
use crate::validation::path_id;

const PROBLEM: &str = "application/problem+json";

// ---- bot channels ----

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
    let actor = caller.actor();
    let reply = idempotency::write(&state.db, move |conn| {
        let ch = store::create_channel(conn, &actor, &settings)?;
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
    let (filter, request) = (filter.0, page.clone());
    let rows = state.db.read(move |conn| store::list_channels(conn, &filter, &request)).await?;
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
    let ch = state.db.read(move |conn| store::get_channel(conn, &id)).await?;
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
    let ch = state.db.write(move |conn| store::update_channel(conn, &actor, &id, &expected, &patch, &hosts)).await?;
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
    let actor = caller.actor();
    state.db.write(move |conn| store::delete_channel(conn, &actor, &id, &expected)).await?;
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
    let row = state
        .db
        .write(move |conn| {
            let row = store::channel_row(conn, &id)?;
            let now = crate::db::now();
            let since = now - chrono::Duration::seconds(60);
            let recent: i64 =
                sl::table.filter(sl::target_id.eq(&id).and(sl::sent_at.gt(since))).count().get_result(conn)?;
            if recent >= rate {
                return Err(ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    Code::RateLimited,
                    format!("this robot already had {rate} messages in the last minute; try again shortly"),
                )
                .with_header(actix_web::http::header::RETRY_AFTER, "60"));
            }
            diesel::insert_into(sl::table)
                .values((sl::id.eq(crate::db::new_id()), sl::target_id.eq(&id), sl::sent_at.eq(now)))
                .execute(conn)?;
            Ok(row)
        })
        .await?;
    let platform = row.platform()?;
    let message = Message {
        title: "channeldesk 测试消息".into(),
        lines: vec![format!("机器人「{}」已接通，渠道通知将发送到这里。", super::render::plain(&row.name))],
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

// ---- subscriptions ----

fn subscription_location(channel_id: &str, id: &str) -> String {
    format!("/api/v1/bot-channels/{channel_id}/subscriptions/{id}")
}

/// Subscribe a bot channel to event types (admin), optionally filtered by partner tier, region,
/// partner and bulletin importance.
#[utoipa::path(
    tag = "bot-channels",
    params(("id" = uuid::Uuid, Path, description = "Bot channel id")),
    request_body = SubscriptionCreate,
    responses((status = 201, description = "Created", body = Subscription, headers(("Location" = String), ("ETag" = String)))),
)]
#[post("/bot-channels/{id}/subscriptions")]
pub async fn create_subscription(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<SubscriptionCreate>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let channel_id = path_id("id", &id)?;
    let filters = body.0.filters();
    filters.validate()?;
    let filters = filters.normalized();
    let actor = caller.actor();
    let reply = idempotency::write(&state.db, move |conn| {
        let sub = store::create_subscription(conn, &actor, &channel_id, &filters)?;
        let location = subscription_location(&sub.channel_id, &sub.id);
        Ok(Reply::created(&sub, location))
    })
    .await?;
    Ok(reply.into_response())
}

/// A bot channel's subscriptions (admin), in the order they were made.
#[utoipa::path(
    tag = "bot-channels",
    params(("id" = uuid::Uuid, Path, description = "Bot channel id"), PageParams),
    responses((status = 200, description = "A page of subscriptions", body = Page<Subscription>)),
)]
#[get("/bot-channels/{id}/subscriptions")]
pub async fn list_subscriptions(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    page: Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let channel_id = path_id("id", &id)?;
    let page = page.request(1)?;
    let request = page.clone();
    let rows = state.db.read(move |conn| store::list_subscriptions(conn, &channel_id, &request)).await?;
    Ok(Page::by_id(rows, &page).respond(&req))
}

/// Get a subscription (admin).
#[utoipa::path(
    tag = "bot-channels",
    params(("id" = uuid::Uuid, Path, description = "Bot channel id"), ("subscription_id" = uuid::Uuid, Path, description = "Subscription id")),
    responses((status = 200, description = "The subscription", body = Subscription, headers(("ETag" = String)))),
)]
#[get("/bot-channels/{id}/subscriptions/{subscription_id}")]
pub async fn get_subscription(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let (channel_id, id) = (path_id("id", &path.0)?, path_id("subscription_id", &path.1)?);
    let sub = state.db.read(move |conn| store::get_subscription(conn, &channel_id, &id)).await?;
    Ok(etag::ok(&sub))
}

/// Change a subscription (admin; JSON merge patch).
#[utoipa::path(
    tag = "bot-channels",
    params(("id" = uuid::Uuid, Path, description = "Bot channel id"), ("subscription_id" = uuid::Uuid, Path, description = "Subscription id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    request_body = SubscriptionUpdate,
    responses(
        (status = 200, description = "Updated", body = Subscription, headers(("ETag" = String))),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = PROBLEM),
    ),
)]
#[patch("/bot-channels/{id}/subscriptions/{subscription_id}")]
pub async fn update_subscription(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    body: Json<SubscriptionUpdate>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let (channel_id, id) = (path_id("id", &path.0)?, path_id("subscription_id", &path.1)?);
    let expected = etag::if_match(&req)?;
    let (actor, patch) = (caller.actor(), body.0);
    let sub = state
        .db
        .write(move |conn| store::update_subscription(conn, &actor, &channel_id, &id, &expected, &patch))
        .await?;
    Ok(etag::ok(&sub))
}

/// Remove a subscription (admin).
#[utoipa::path(
    tag = "bot-channels",
    params(("id" = uuid::Uuid, Path, description = "Bot channel id"), ("subscription_id" = uuid::Uuid, Path, description = "Subscription id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = PROBLEM),
    ),
)]
#[delete("/bot-channels/{id}/subscriptions/{subscription_id}")]
pub async fn delete_subscription(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let (channel_id, id) = (path_id("id", &path.0)?, path_id("subscription_id", &path.1)?);
    let expected = etag::if_match(&req)?;
    let actor = caller.actor();
    state.db.write(move |conn| store::delete_subscription(conn, &actor, &channel_id, &id, &expected)).await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---- webhooks ----

/// Register a signed webhook (admin): `POST {url}` with `{id, type, occurred_at, data}`,
/// `X-Channeldesk-Timestamp` (Unix seconds) and `X-Channeldesk-Signature` = hex
/// HMAC-SHA256(secret, timestamp + "." + body).
#[utoipa::path(
    tag = "webhooks",
    request_body = WebhookCreate,
    responses((status = 201, description = "Created", body = Webhook, headers(("Location" = String), ("ETag" = String)))),
)]
#[post("/webhooks")]
pub async fn create_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<WebhookCreate>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let settings = body.0.settings();
    settings.validate(&state.config.notify.outbound_allow_hosts)?;
    let actor = caller.actor();
    let reply = idempotency::write(&state.db, move |conn| {
        let hook = store::create_webhook(conn, &actor, &settings)?;
        let location = format!("/api/v1/webhooks/{}", hook.id);
        Ok(Reply::created(&hook, location))
    })
    .await?;
    Ok(reply.into_response())
}

/// List webhooks (admin), newest first.
#[utoipa::path(
    tag = "webhooks",
    params(PageParams),
    responses((status = 200, description = "A page of webhooks", body = Page<Webhook>)),
)]
#[get("/webhooks")]
pub async fn list_webhooks(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    page: Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let page = page.request(1)?;
    let request = page.clone();
    let rows = state.db.read(move |conn| store::list_webhooks(conn, &request)).await?;
    Ok(Page::by_id(rows, &page).respond(&req))
}

/// Get a webhook (admin).
#[utoipa::path(
    tag = "webhooks",
    params(("id" = uuid::Uuid, Path, description = "Webhook id")),
    responses((status = 200, description = "The webhook", body = Webhook, headers(("ETag" = String)))),
)]
#[get("/webhooks/{id}")]
pub async fn get_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let id = path_id("id", &id)?;
    let hook = state.db.read(move |conn| store::get_webhook(conn, &id)).await?;
    Ok(etag::ok(&hook))
}

/// Change a webhook (admin; JSON merge patch).
#[utoipa::path(
    tag = "webhooks",
    params(("id" = uuid::Uuid, Path, description = "Webhook id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    request_body = WebhookUpdate,
    responses(
        (status = 200, description = "Updated", body = Webhook, headers(("ETag" = String))),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = PROBLEM),
    ),
)]
#[patch("/webhooks/{id}")]
pub async fn update_webhook(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<WebhookUpdate>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let id = path_id("id", &id)?;
    let expected = etag::if_match(&req)?;
    let (actor, patch, hosts) = (caller.actor(), body.0, state.config.notify.outbound_allow_hosts.clone());
    let hook = state.db.write(move |conn| store::update_webhook(conn, &actor, &id, &expected, &patch, &hosts)).await?;
    Ok(etag::ok(&hook))
}

/// Delete a webhook (admin); its undelivered messages are cancelled.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = uuid::Uuid, Path, description = "Webhook id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = PROBLEM),
    ),
)]
#[delete("/webhooks/{id}")]
pub async fn delete_webhook(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let id = path_id("id", &id)?;
    let expected = etag::if_match(&req)?;
    let actor = caller.actor();
    state.db.write(move |conn| store::delete_webhook(conn, &actor, &id, &expected)).await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---- deliveries ----

/// Deliveries to bot channels and webhooks (admin), newest first, with attempts and the last error.
#[utoipa::path(
    tag = "deliveries",
    params(DeliveryFilter, PageParams),
    responses((status = 200, description = "A page of deliveries", body = Page<Delivery>)),
)]
#[get("/deliveries")]
pub async fn list_deliveries(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    filter: Query<DeliveryFilter>,
    page: Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    filter.validate()?;
    let page = page.request(1)?;
    let (filter, request) = (filter.0, page.clone());
    let rows = state.db.read(move |conn| store::list_deliveries(conn, &filter, &request)).await?;
    Ok(Page::by_id(rows, &page).respond(&req))
}

/// Get a delivery (admin).
#[utoipa::path(
    tag = "deliveries",
    params(("id" = uuid::Uuid, Path, description = "Delivery id")),
    responses((status = 200, description = "The delivery", body = Delivery, headers(("ETag" = String)))),
)]
#[get("/deliveries/{id}")]
pub async fn get_delivery(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let id = path_id("id", &id)?;
    let d = state.db.read(move |conn| store::delivery_row(conn, &id)?.to_model()).await?;
    Ok(etag::ok(&d))
}

/// Re-queue a failed or dead delivery (admin): it goes back to its channel's queue in its
/// original place with a fresh attempt budget.
#[utoipa::path(
    tag = "deliveries",
    params(("id" = uuid::Uuid, Path, description = "Delivery id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    responses(
        (status = 200, description = "Queued again", body = Delivery, headers(("ETag" = String))),
        (status = 409, description = "`delivery_not_retryable`: it is pending, sent or cancelled", body = crate::error::Problem, content_type = PROBLEM),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = PROBLEM),
    ),
)]
#[post("/deliveries/{id}/retry")]
pub async fn retry_delivery(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let id = path_id("id", &id)?;
    let expected = etag::if_match(&req)?;
    let actor = caller.actor();
    let reply = idempotency::write(&state.db, move |conn| {
        let d = store::retry_delivery(conn, &actor, &id, &expected)?;
        Ok(Reply::ok(&d))
    })
    .await?;
    Ok(reply.into_response())
}
