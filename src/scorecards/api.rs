//! `/api/v1/scorecards` (the ranking) and `/api/v1/partners/{id}/scorecard` (one partner, month
//! by month). Every role reads; a partner key's scorecards cover its own partner only (another
//! partner's scorecard is 404, as its records are).

use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};

use super::model::*;
use super::{chart, store};
use crate::access::Caller;
use crate::error::ApiError;
use crate::http::csv::{self, Format};
use crate::http::extract::Query;
use crate::http::pagination::{Page, PageParams};
use crate::state::AppState;
use crate::validation::path_id;

const IMAGE_SVG: &str = "image/svg+xml";

/// Rank partners, or channel types, kinds, tiers or regions, by how their effect (growth,
/// attainment, market share, satisfaction) weighs against their cost (cost ratio) over a window
/// of up to 36 months.
///
/// Each component is put on 0–100: **growth** −50 % → 0, 0 % → 50, +50 % → 100 (clamped);
/// **attainment** 0 % → 0, 100 % or more → 100; **share** bp / 100; **satisfaction** as is;
/// **cost** cost ratio 0 % → 100, 50 % or more → 0. The score is their weighted mean, with the
/// default weights `growth:30,attainment:30,share:10,satisfaction:10,cost:20` or the request's
/// `weights`. A component that cannot be computed (no revenue before the window, no revenue
/// target, no share or satisfaction recorded) is left out and the others' weights renormalised.
/// An item without performance records in the window has a null score and rank and is listed
/// last. `sort` orders highest first, except `cost_ratio`: lowest first. Revenue and cost are
/// CNY; revenue is the whole-business records' (or the `product_line`'s). A partner key sees
/// its own partner only. `Accept: text/csv` gives the page as CSV (UTF-8 with BOM, a header
/// row of the field names; the next page in `Link`).
#[utoipa::path(
    operation_id = "list_scorecards",
    tag = "scorecards",
    params(WindowParams, ScorecardFilter, PageParams),
    responses((status = 200, description = "A page of the ranking", headers(("Link" = Option<String>, description = "The next page")),
        content((Page<ScorecardItem> = "application/json"), (String = "text/csv")))),
)]
#[get("/scorecards")]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    window: Query<WindowParams>,
    filter: Query<ScorecardFilter>,
    page: Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let scope = caller.read_scope();
    let window = window.validate()?;
    filter.validate()?;
    let page = page.request(2)?;
    let after = page.after.as_deref().map(cursor_key).transpose()?;
    let sort = filter.sort.unwrap_or(SortBy::Score);
    let selection = store::Selection { group_by: filter.group_by, filter: filter.0, partner_id: None };
    let limit = page.limit;
    let items = state
        .db
        .read(move |conn| {
            let items = store::items(conn, &selection, &window, sort, &scope)?;
            Ok(items
                .into_iter()
                .filter(|item| after.as_ref().is_none_or(|a| &order_key(item, sort) > a))
                .take(usize::try_from(limit + 1).unwrap_or(usize::MAX))
                .collect::<Vec<_>>())
        })
        .await?;
    let page = Page::from_rows(items, &page, |item| cursor_parts(item, sort), |item| item);
    if csv::negotiate(&req, &[Format::Csv]) == Format::Csv {
        let body = csv::write(CSV_HEADER, page.items.iter().map(ScorecardItem::csv_row))?;
        return Ok(csv::respond(body, page.next_link(&req)));
    }
    Ok(page.respond(&req))
}

/// One partner's scorecard: the ranking's figures (without the rank: that is the list's) and
/// every month of the window (revenue, cost, target, units, new customers). `Accept:
/// image/svg+xml` gives a chart of monthly revenue (bars) against target (line): a
/// self-contained SVG without scripts, external fonts or links.
#[utoipa::path(
    operation_id = "get_partner_scorecard",
    tag = "scorecards",
    params(("id" = uuid::Uuid, Path, description = "Partner id"), WindowParams),
    responses(
        (status = 200, description = "The partner's scorecard", content((PartnerScorecard = "application/json"), (String = "image/svg+xml"))),
        (status = 404, description = "`partner_not_found`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/partners/{id}/scorecard")]
pub async fn partner(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    window: Query<WindowParams>,
) -> Result<HttpResponse, ApiError> {
    let scope = caller.read_scope();
    let id = path_id("id", &id)?;
    let window = window.validate()?;
    let card = state
        .db
        .read(move |conn| {
            let partner = crate::partners::store::get(conn, &id, &scope)?;
            let selection = store::Selection { partner_id: Some(partner.id.clone()), ..Default::default() };
            let item = store::items(conn, &selection, &window, SortBy::Score, &scope)?
                .into_iter()
                .next()
                .ok_or_else(|| ApiError::internal("the partner's scorecard item is missing"))?;
            let months = store::months(conn, &partner.id, &window)?;
            Ok(PartnerScorecard {
                partner_id: partner.id,
                name: partner.name,
                from: window.from.to_string(),
                to: window.to.to_string(),
                figures: item.figures,
                months,
            })
        })
        .await?;
    if csv::negotiate(&req, &[Format::Svg]) == Format::Svg {
        return Ok(HttpResponse::Ok().insert_header((header::CONTENT_TYPE, IMAGE_SVG)).body(chart::render(&card)));
    }
    Ok(HttpResponse::Ok().json(card))
}
