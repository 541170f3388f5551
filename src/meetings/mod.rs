//! Regular partner meetings (定期会议): minutes, decisions, action items carried into the next
//! meeting's review, recurring series, iCalendar export, and the reminder/overdue scan.
//!
//! One room, one file set per sub-resource: `meetings/` (the meetings themselves),
//! `action_items/` (what a meeting decided someone must do), `series/` (recurring meetings made up
//! front), `calendar/` (iCalendar export) and `feeds/` (calendar subscription URLs). What they
//! share sits here: attendees and field checks (`model`), wall-clock time in IANA zones (`time`),
//! the queries they all need (`store`), the event payloads (`events`) and the scan job
//! (`reminders`).
//!
//! Imports run one way: series → meetings → action items → the shared files, so holding a
//! meeting may create its action items while an action item reads its meeting through `store`.

pub mod action_items;
pub mod calendar;
pub mod events;
pub mod feeds;
#[allow(
    clippy::module_inception,
    reason = "the room's file set for its main resource, beside action_items/ and series/"
)]
pub mod meetings;
pub mod model;
pub mod reminders;
pub mod series;
pub mod store;
pub mod time;

/// Every endpoint of the room, in the order the API document lists them.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(meetings::api::create)
        .service(meetings::api::list)
        .service(meetings::api::get)
        .service(meetings::api::update)
        .service(calendar::api::calendar_one)
        .service(action_items::api::create_action_item)
        .service(action_items::api::list_meeting_action_items)
        .service(action_items::api::list_action_items)
        .service(action_items::api::get_action_item)
        .service(action_items::api::update_action_item)
        .service(calendar::api::calendar_feed)
        .service(series::api::create_series)
        .service(series::api::list_series)
        .service(series::api::get_series)
        .service(series::api::update_series)
        .service(feeds::api::create)
        .service(feeds::api::list)
        .service(feeds::api::get)
        .service(feeds::api::revoke);
}

/// The endpoints outside `/api/v1`: calendar feed URLs, which authenticate by their own token.
pub fn public_routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(feeds::api::read);
}
