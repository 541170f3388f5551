//! One integration-test binary: every resource's file, each test run on SQLite and Postgres.

mod helpers;

mod advice;
mod api_keys;
mod audit;
mod bulletins;
mod calendar;
mod contacts;
mod contract_risks;
mod contracts;
mod key_accounts;
mod meeting_series;
mod meetings;
mod partners;
mod platform;
mod spec;
