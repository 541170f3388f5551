//! Key account queries: names unique by comparison key, one primary partner per product line,
//! audited writes.

use diesel::prelude::*;

use super::model::*;
use crate::access::Actor;
use crate::audit;
use crate::db::like_pattern;
use crate::db::schema::{key_account_assignments as a, key_account_primary_lines as pl, key_accounts as ka, partners};
use crate::db::{self, DbConn};
use crate::error::{ApiError, Code};
use crate::http::etag;
use crate::http::pagination::PageRequest;
use crate::validation::comparison_key;

fn name_taken(name: &str) -> ApiError {
    ApiError::conflict(
        Code::KeyAccountNameTaken,
        format!("a key account named {name:?} already exists (names are unique ignoring case and width)"),
    )
}

/// Names of current key accounts are unique, compared by `validation::comparison_key`.
fn ensure_name_free(conn: &mut DbConn, name: &str, except_id: Option<&str>) -> Result<(), ApiError> {
    let mut q = ka::table.filter(ka::name_key.eq(comparison_key(name)).and(ka::archived_at.is_null())).into_boxed();
    if let Some(id) = except_id {
        q = q.filter(ka::id.ne(id.to_string()));
    }
    if q.count().get_result::<i64>(conn)? > 0 {
        return Err(name_taken(name));
    }
    Ok(())
}

pub fn create(conn: &mut DbConn, actor: &Actor, input: &KeyAccountCreate) -> Result<KeyAccount, ApiError> {
    ensure_name_free(conn, &input.name, None)?;
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
    diesel::insert_into(ka::table)
        .values((account.clone(), ka::name_key.eq(comparison_key(&account.name))))
        .execute(conn)
        // Two requests racing past the check above: the unique index decides.
        .map_err(|e| if db::is_unique_violation(&e) { name_taken(&account.name) } else { e.into() })?;
    audit::record(conn, actor, "create", "key_account", &account.id, audit::diff(None::<&KeyAccount>, Some(&account)))?;
    Ok(account)
}

/// Upgrade `comparison_keys_v1`: gives every key account its `name_key`. A current account whose
/// name the rule calls the same as an earlier one's stays without a key (logged) until renamed.
pub fn rekey_names(conn: &mut DbConn) -> Result<usize, ApiError> {
    let mut changed = 0;
    let mut after = String::new();
    loop {
        let rows: Vec<(String, String, Option<String>)> = ka::table
            .filter(ka::id.gt(&after))
            .order(ka::id.asc())
            .limit(db::upgrades::BATCH)
            .select((ka::id, ka::name, ka::name_key))
            .load(conn)?;
        let Some(last) = rows.last() else { break };
        after = last.0.clone();
        for (id, name, old) in rows {
            let key = comparison_key(&name);
            if old.as_deref() == Some(key.as_str()) {
                continue;
            }
            let set = |c: &mut DbConn| diesel::update(ka::table.find(&id)).set(ka::name_key.eq(&key)).execute(c);
            if db::upgrades::try_in_savepoint(conn, set)? {
                changed += 1;
            } else {
                tracing::warn!(key_account_id = %id, name = %name, "key account name equals another's; rename one");
            }
        }
    }
    Ok(changed)
}

pub fn get(conn: &mut DbConn, id: &str) -> Result<KeyAccount, ApiError> {
    let account: Option<KeyAccount> = ka::table.find(id).select(KeyAccount::as_select()).first(conn).optional()?;
    account.ok_or_else(|| ApiError::not_found(Code::KeyAccountNotFound))
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
    Ok(q.order(ka::id.desc()).limit(page.limit + 1).select(KeyAccount::as_select()).load(conn)?)
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
    if comparison_key(&next.name) != comparison_key(&current.name) {
        ensure_name_free(conn, &next.name, Some(id))?;
    }
    save(conn, &current, &mut next)?;
    audit::record(conn, actor, "update", "key_account", id, changes)?;
    Ok(next)
}

fn save(conn: &mut DbConn, current: &KeyAccount, next: &mut KeyAccount) -> Result<(), ApiError> {
    next.version = current.version + 1;
    next.updated_at = db::now().and_utc();
    let updated = diesel::update(ka::table.filter(ka::id.eq(&current.id).and(ka::version.eq(current.version))))
        .set((next.clone(), ka::name_key.eq(comparison_key(&next.name))))
        .execute(conn)
        .map_err(|e| if db::is_unique_violation(&e) { name_taken(&next.name) } else { e.into() })?;
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
    diesel::insert_into(a::table).values(assignment.clone()).execute(conn)?;
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
    let assignment: Option<Assignment> = a::table
        .filter(a::id.eq(id).and(a::key_account_id.eq(key_account_id)))
        .select(Assignment::as_select())
        .first(conn)
        .optional()?;
    assignment.ok_or_else(|| ApiError::not_found(Code::AssignmentNotFound))
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
    Ok(q.order(a::id.asc()).limit(page.limit + 1).select(Assignment::as_select()).load(conn)?)
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
        .set(next.clone())
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
