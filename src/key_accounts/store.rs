use diesel::prelude::*;

use super::model::*;
use crate::access::Actor;
use crate::audit;
use crate::db::like_pattern;
use crate::db::schema::{key_account_assignments as a, key_account_primary_lines as pl, key_accounts as ka, partners};
use crate::db::{self, json as dbjson, DbConn};
use crate::error::{ApiError, Code};
use crate::http::etag;
use crate::http::pagination::PageRequest;

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = ka)]
#[diesel(treat_none_as_null = true)]
struct AccountRow {
    id: String,
    name: String,
    industry: Option<String>,
    region: Option<String>,
    owner: Option<String>,
    version: i64,
    created_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
    archived_at: Option<chrono::NaiveDateTime>,
}

impl AccountRow {
    fn into_model(self) -> KeyAccount {
        KeyAccount {
            id: self.id,
            name: self.name,
            industry: self.industry,
            region: self.region,
            owner: self.owner,
            version: self.version,
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
            archived_at: self.archived_at.map(|t| t.and_utc()),
        }
    }

    fn from_model(k: &KeyAccount) -> Self {
        AccountRow {
            id: k.id.clone(),
            name: k.name.clone(),
            industry: k.industry.clone(),
            region: k.region.clone(),
            owner: k.owner.clone(),
            version: k.version,
            created_at: k.created_at.naive_utc(),
            updated_at: k.updated_at.naive_utc(),
            archived_at: k.archived_at.map(|t| t.naive_utc()),
        }
    }
}

pub fn create(conn: &mut DbConn, actor: &Actor, input: &KeyAccountCreate) -> Result<KeyAccount, ApiError> {
    let now = db::now().and_utc();
    let account = KeyAccount {
        id: db::new_id(),
        name: input.name.clone(),
        industry: input.industry.clone(),
        region: input.region.clone(),
        owner: input.owner.clone(),
        version: 1,
        created_at: now,
        updated_at: now,
        archived_at: None,
    };
    diesel::insert_into(ka::table).values(AccountRow::from_model(&account)).execute(conn)?;
    audit::record(conn, actor, "create", "key_account", &account.id, audit::diff(None::<&KeyAccount>, Some(&account)))?;
    Ok(account)
}

pub fn get(conn: &mut DbConn, id: &str) -> Result<KeyAccount, ApiError> {
    let row: Option<AccountRow> = ka::table.find(id).select(AccountRow::as_select()).first(conn).optional()?;
    Ok(row.ok_or_else(|| ApiError::not_found(Code::KeyAccountNotFound))?.into_model())
}

fn writable(conn: &mut DbConn, id: &str) -> Result<KeyAccount, ApiError> {
    let account = get(conn, id)?;
    if account.archived_at.is_some() {
        return Err(ApiError::conflict(
            Code::KeyAccountArchived,
            "the key account is archived and can no longer change",
        ));
    }
    Ok(account)
}

/// Current key accounts, newest first.
pub fn list(conn: &mut DbConn, filter: &KeyAccountFilter, page: &PageRequest) -> Result<Vec<KeyAccount>, ApiError> {
    let mut q = ka::table.filter(ka::archived_at.is_null()).into_boxed();
    if let Some(v) = &filter.industry {
        q = q.filter(ka::industry.eq(v.clone()));
    }
    if let Some(v) = &filter.region {
        q = q.filter(ka::region.eq(v.clone()));
    }
    if let Some(v) = &filter.owner {
        q = q.filter(ka::owner.eq(v.clone()));
    }
    if let Some(v) = &filter.q {
        // Names keep their case; both sides are lowered for a case-insensitive match.
        q = q.filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>("lower(name) LIKE ")
                .bind::<diesel::sql_types::Text, _>(like_pattern(&v.to_lowercase()))
                .sql(" ESCAPE '\\'"),
        );
    }
    if let Some(after) = &page.after {
        q = q.filter(ka::id.lt(after[0].clone()));
    }
    let rows: Vec<AccountRow> =
        q.order(ka::id.desc()).limit(page.limit + 1).select(AccountRow::as_select()).load(conn)?;
    Ok(rows.into_iter().map(AccountRow::into_model).collect())
}

pub fn update(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    expected: &Option<Vec<i64>>,
    patch: &KeyAccountUpdate,
) -> Result<KeyAccount, ApiError> {
    let current = writable(conn, id)?;
    etag::check(expected, current.version)?;
    let mut next = patch.apply(&current);
    let changes = audit::diff(Some(&current), Some(&next));
    if changes.as_object().is_some_and(|m| m.is_empty()) {
        return Ok(current);
    }
    save(conn, &current, &mut next)?;
    audit::record(conn, actor, "update", "key_account", id, changes)?;
    Ok(next)
}

fn save(conn: &mut DbConn, current: &KeyAccount, next: &mut KeyAccount) -> Result<(), ApiError> {
    next.version = current.version + 1;
    next.updated_at = db::now().and_utc();
    let updated = diesel::update(ka::table.filter(ka::id.eq(&current.id).and(ka::version.eq(current.version))))
        .set(AccountRow::from_model(next))
        .execute(conn)?;
    if updated != 1 {
        return Err(ApiError::version_mismatch());
    }
    Ok(())
}

pub fn archive(conn: &mut DbConn, actor: &Actor, id: &str, expected: &Option<Vec<i64>>) -> Result<(), ApiError> {
    let current = get(conn, id)?;
    etag::check(expected, current.version)?;
    if current.archived_at.is_some() {
        return Ok(());
    }
    let mut next = current.clone();
    next.archived_at = Some(db::now().and_utc());
    save(conn, &current, &mut next)?;
    audit::record(conn, actor, "delete", "key_account", id, audit::diff(Some(&current), Some(&next)))?;
    Ok(())
}

// ---- assignments ----

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = a)]
struct AssignmentRow {
    id: String,
    key_account_id: String,
    partner_id: String,
    role: String,
    product_lines: String,
    version: i64,
    created_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
}

impl AssignmentRow {
    fn into_model(self) -> Result<Assignment, ApiError> {
        Ok(Assignment {
            id: self.id,
            key_account_id: self.key_account_id,
            partner_id: self.partner_id,
            role: AssignmentRole::from_db(&self.role)?,
            product_lines: dbjson::decode(&self.product_lines)?,
            version: self.version,
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
        })
    }

    fn from_model(m: &Assignment) -> Self {
        AssignmentRow {
            id: m.id.clone(),
            key_account_id: m.key_account_id.clone(),
            partner_id: m.partner_id.clone(),
            role: m.role.as_str().into(),
            product_lines: dbjson::encode(&m.product_lines),
            version: m.version,
            created_at: m.created_at.naive_utc(),
            updated_at: m.updated_at.naive_utc(),
        }
    }
}

/// Claims the primary slot of each product line; the table's key makes a second primary fail.
fn claim_primary_lines(conn: &mut DbConn, assignment: &Assignment) -> Result<(), ApiError> {
    diesel::delete(pl::table.filter(pl::assignment_id.eq(&assignment.id))).execute(conn)?;
    if assignment.role != AssignmentRole::Primary {
        return Ok(());
    }
    for line in &assignment.product_lines {
        let holder: Option<String> = pl::table
            .filter(pl::key_account_id.eq(&assignment.key_account_id).and(pl::product_line.eq(line)))
            .select(pl::assignment_id)
            .first(conn)
            .optional()?;
        let taken = || {
            ApiError::conflict(
                Code::PrimaryPartnerTaken,
                format!("the key account already has a primary partner for product line {line:?}"),
            )
        };
        if holder.is_some() {
            return Err(taken());
        }
        diesel::insert_into(pl::table)
            .values((
                pl::key_account_id.eq(&assignment.key_account_id),
                pl::product_line.eq(line),
                pl::assignment_id.eq(&assignment.id),
            ))
            .execute(conn)
            .map_err(|e| if db::is_unique_violation(&e) { taken() } else { e.into() })?;
    }
    Ok(())
}

pub fn create_assignment(
    conn: &mut DbConn,
    actor: &Actor,
    key_account_id: &str,
    input: &AssignmentCreate,
) -> Result<Assignment, ApiError> {
    writable(conn, key_account_id)?;
    let partner_ok: i64 = partners::table
        .filter(partners::id.eq(&input.partner_id).and(partners::archived_at.is_null()))
        .count()
        .get_result(conn)?;
    if partner_ok == 0 {
        return Err(ApiError::field("partner_id", "no such partner"));
    }
    let now = db::now().and_utc();
    let assignment = Assignment {
        id: db::new_id(),
        key_account_id: key_account_id.to_string(),
        partner_id: input.partner_id.clone(),
        role: input.role,
        product_lines: input.product_lines.clone(),
        version: 1,
        created_at: now,
        updated_at: now,
    };
    diesel::insert_into(a::table).values(AssignmentRow::from_model(&assignment)).execute(conn)?;
    claim_primary_lines(conn, &assignment)?;
    audit::record(
        conn,
        actor,
        "create",
        "assignment",
        &assignment.id,
        audit::diff(None::<&Assignment>, Some(&assignment)),
    )?;
    Ok(assignment)
}

pub fn get_assignment(conn: &mut DbConn, key_account_id: &str, id: &str) -> Result<Assignment, ApiError> {
    get(conn, key_account_id)?;
    let row: Option<AssignmentRow> = a::table
        .filter(a::id.eq(id).and(a::key_account_id.eq(key_account_id)))
        .select(AssignmentRow::as_select())
        .first(conn)
        .optional()?;
    row.ok_or_else(|| ApiError::not_found(Code::AssignmentNotFound))?.into_model()
}

pub fn list_assignments(
    conn: &mut DbConn,
    key_account_id: &str,
    page: &PageRequest,
) -> Result<Vec<Assignment>, ApiError> {
    get(conn, key_account_id)?;
    let mut q = a::table.filter(a::key_account_id.eq(key_account_id.to_string())).into_boxed();
    if let Some(after) = &page.after {
        q = q.filter(a::id.gt(after[0].clone()));
    }
    let rows: Vec<AssignmentRow> =
        q.order(a::id.asc()).limit(page.limit + 1).select(AssignmentRow::as_select()).load(conn)?;
    rows.into_iter().map(AssignmentRow::into_model).collect()
}

pub fn update_assignment(
    conn: &mut DbConn,
    actor: &Actor,
    key_account_id: &str,
    id: &str,
    expected: &Option<Vec<i64>>,
    patch: &AssignmentUpdate,
) -> Result<Assignment, ApiError> {
    writable(conn, key_account_id)?;
    let current = get_assignment(conn, key_account_id, id)?;
    etag::check(expected, current.version)?;
    let mut next = current.clone();
    if let Some(role) = patch.role {
        next.role = role;
    }
    if let Some(lines) = &patch.product_lines {
        next.product_lines = lines.clone();
    }
    let changes = audit::diff(Some(&current), Some(&next));
    if changes.as_object().is_some_and(|m| m.is_empty()) {
        return Ok(current);
    }
    next.version = current.version + 1;
    next.updated_at = db::now().and_utc();
    let updated = diesel::update(a::table.filter(a::id.eq(id).and(a::version.eq(current.version))))
        .set(AssignmentRow::from_model(&next))
        .execute(conn)?;
    if updated != 1 {
        return Err(ApiError::version_mismatch());
    }
    claim_primary_lines(conn, &next)?;
    audit::record(conn, actor, "update", "assignment", id, changes)?;
    Ok(next)
}

pub fn delete_assignment(
    conn: &mut DbConn,
    actor: &Actor,
    key_account_id: &str,
    id: &str,
    expected: &Option<Vec<i64>>,
) -> Result<(), ApiError> {
    let current = get_assignment(conn, key_account_id, id)?;
    etag::check(expected, current.version)?;
    diesel::delete(pl::table.filter(pl::assignment_id.eq(id))).execute(conn)?;
    diesel::delete(a::table.filter(a::id.eq(id))).execute(conn)?;
    audit::record(conn, actor, "delete", "assignment", id, audit::diff(Some(&current), None::<&Assignment>))?;
    Ok(())
}
