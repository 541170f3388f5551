//! Regular partner meetings (定期会议): minutes, decisions, action items carried into the next
//! meeting's review, recurring series, iCalendar export, and the reminder/overdue scan.

pub mod api;
pub mod events;
pub mod ics;
pub mod model;
pub mod reminders;
pub mod series;
pub mod series_store;
pub mod store;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(api::create)
        .service(api::list)
        .service(api::get)
        .service(api::update)
        .service(api::calendar_one)
        .service(api::create_action_item)
        .service(api::list_meeting_action_items)
        .service(api::list_action_items)
        .service(api::get_action_item)
        .service(api::update_action_item)
        .service(api::calendar_feed)
        .service(api::create_series)
        .service(api::list_series)
        .service(api::get_series)
        .service(api::update_series);
}
