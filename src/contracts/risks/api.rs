//! The risk endpoints: one contract's warnings and every current warning, computed from the
//! data at the time of the request and cut into pages in list order.

use actix_web::{get, web, HttpRequest, HttpResponse};
use chrono::Utc;
use serde::Deserialize;
use utoipa::IntoParams;

use super::model::{business_date, list_order, visible, Risk, RiskCode, Severity};
use super::{rules, store};
use crate::access::Caller;
use crate::contracts::model::ContractStatus;
use crate::error::ApiError;
use crate::http::extract::Query;
use crate::http::pagination::{Page, PageParams, PageRequest};
use crate::state::AppState;
use crate::validation::{input_id, path_id};

/// Risks in list order (most severe first, then by code, contract and identity), cut to the page.
fn risk_page(mut risks: Vec<Risk>, page: &PageRequest) -> Page<Risk> {
    risks.sort_by_key(list_order);
    if let Some(after) = &page.after {
        risks.retain(|r| list_order(r) > after[0]);
    }
    risks.truncate(page.limit as usize + 1);
    Page::from_rows(risks, page, |r| vec![list_order(r)], |r| r)
}

/// The risk warnings (风险预警) of one contract, computed from the data now.
#[utoipa::path(
    tag = "contracts",
    params(("id" = uuid::Uuid, Path, description = "Contract id"), PageParams),
    responses((status = 200, description = "A page of risks, most severe first", body = Page<Risk>)),
)]
#[get("/contracts/{id}/risks")]
pub async fn list_contract_risks(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    page: Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let scope = caller.read_scope();
    let contract_id = path_id("id", &id)?;
    let page = page.request(1)?;
    let today = business_date(Utc::now());
    let found = state
        .db
        .read(move |conn| {
            let contract = crate::contracts::store::get(conn, &contract_id, &scope)?;
            if contract.status != ContractStatus::Active {
                return Ok(Vec::new());
            }
            let subjects = store::risk_subjects(conn)?;
            let all = rules::assess(&subjects, today).into_iter().filter(|r| r.contract_id == contract_id).collect();
            Ok(visible(all, &scope))
        })
        .await?;
    Ok(risk_page(found, &page).respond(&req))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RiskFilter {
    pub code: Option<RiskCode>,
    pub severity: Option<Severity>,
    #[param(format = Uuid)]
    pub partner_id: Option<String>,
}

/// Every current risk warning (风险预警) across active contracts, most severe first. Partner keys
/// see only their own, without the other partner's details.
#[utoipa::path(
    tag = "contracts",
    params(RiskFilter, PageParams),
    responses((status = 200, description = "A page of risks", body = Page<Risk>)),
)]
#[get("/risks")]
pub async fn list_risks(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    filter: Query<RiskFilter>,
    page: Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let scope = caller.read_scope();
    let partner_id = match &filter.partner_id {
        Some(p) => Some(input_id("partner_id", p)?),
        None => None,
    };
    let (code, severity) = (filter.code, filter.severity);
    let page = page.request(1)?;
    let today = business_date(Utc::now());
    let found = state.db.read(move |conn| store::current_risks(conn, &scope, today)).await?;
    let found = found
        .into_iter()
        .filter(|r| code.is_none_or(|c| r.code == c))
        .filter(|r| severity.is_none_or(|s| r.severity == s))
        .filter(|r| partner_id.as_ref().is_none_or(|p| &r.partner_id == p))
        .collect();
    Ok(risk_page(found, &page).respond(&req))
}
