//! One integration-test binary: every resource's file, each test run on SQLite and Postgres.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "tests fail by panicking")]

mod fake_robot;
mod helpers;
mod idempotency;
mod import;

mod advice;
mod api_keys;
mod architecture;
mod audit;
mod bulletins;
mod calendar;
mod calendar_feeds;
mod callbacks;
mod chat_commands;
mod cli_import;
mod competitors;
mod conflicts;
mod contacts;
mod contract_risks;
mod contracts;
mod deals;
mod delivery;
mod demo_data;
mod evaluation_messages;
mod event_payloads;
mod incentives;
mod key_accounts;
mod market_share;
mod mdf;
mod meeting_series;
mod meetings;
mod names;
mod notify;
mod partner_views;
mod partners;
mod performance;
mod platform;
mod recruitment;
mod retry_window;
mod room_delivery;
mod room_messages;
mod scoping;
mod scorecards;
mod secrets;
mod spec;
mod targets;
mod wire;
