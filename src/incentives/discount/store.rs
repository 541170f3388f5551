//! The discount offers of a partner on a day, read from the active discount programs of the
//! day's month and the partner's contracts in effect on the day.

use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;

use super::model::*;
use crate::access::Scope;
use crate::contracts::model::ContractStatus;
use crate::contracts::terms::model::{Params, TermKind};
use crate::db::schema::{contract_terms as ct, contracts as c};
use crate::db::DbConn;
use crate::error::{ApiError, Code};
use crate::incentives::programs::model::{ProgramKind, Rules};
use crate::incentives::programs::store::{active_in, addresses, candidate};
use crate::performance::period::Month;

pub fn discount(
    conn: &mut DbConn,
    partner_id: &str,
    on: NaiveDate,
    scope: &Scope,
) -> Result<PartnerDiscount, ApiError> {
    let not_found = || ApiError::not_found(Code::PartnerNotFound);
    if !scope.allows(partner_id) {
        return Err(not_found());
    }
    let partner = candidate(conn, partner_id)?.ok_or_else(not_found)?;
    let month = Month::new(on.year(), on.month())
        .ok_or_else(|| ApiError::field("on", "must be a day of the years 1970–9999"))?;
    let mut offers = Vec::new();
    for program in active_in(conn, ProgramKind::Discount, &month.to_string())? {
        let Rules::Discount(rules) = &program.rules else { continue };
        if !addresses(&program.audience, &partner) {
            continue;
        }
        if let Some(rate_bp) = rules.by_tier.rate(partner.tier) {
            offers.push(DiscountOffer {
                source: DiscountSource::Program,
                program_id: Some(program.id.clone()),
                contract_id: None,
                term_id: None,
                name: program.name.clone(),
                rate_bp,
            });
        }
    }
    let day = on.to_string();
    type Row = (String, String, String, String, String);
    let rows: Vec<Row> = c::table
        .inner_join(ct::table.on(ct::contract_id.eq(c::id)))
        .filter(c::partner_id.eq(partner_id).and(c::status.eq(ContractStatus::Active.as_str())))
        .filter(c::effective_from.is_null().or(c::effective_from.le(&day)))
        .filter(c::effective_to.is_null().or(c::effective_to.ge(&day)))
        .filter(ct::kind.eq(TermKind::Discount.as_str()))
        .order((c::id.asc(), ct::id.asc()))
        .select((c::id, c::number, ct::id, ct::title, ct::params))
        .load(conn)?;
    for (contract_id, number, term_id, title, params) in rows {
        let value: serde_json::Value = serde_json::from_str(&params).map_err(ApiError::internal)?;
        let Params::Discount(d) = Params::from_stored(TermKind::Discount, &value)? else { continue };
        offers.push(DiscountOffer {
            source: DiscountSource::ContractTerm,
            program_id: None,
            contract_id: Some(contract_id),
            term_id: Some(term_id),
            name: format!("{number} · {title}"),
            rate_bp: d.rate_bp,
        });
    }
    Ok(choose(partner.id, on, offers))
}
