//! One integration-test binary: every resource's file, each test run on SQLite and Postgres.

mod fake_robot;
mod helpers;

mod advice;
mod api_keys;
mod audit;
mod callbacks;
mod contacts;
mod delivery;
mod key_accounts;
mod notify;
mod partners;
mod platform;
mod spec;
