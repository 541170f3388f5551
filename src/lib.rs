//! channeldesk: channel management for key-account marketing.

pub mod access;
pub mod advice;
pub mod api_keys;
pub mod app;
pub mod audit;
pub mod bots;
pub mod bulletins;
pub mod competitors;
pub mod config;
pub mod conflicts;
pub mod contracts;
pub mod db;
pub mod deals;
pub mod demo;
pub mod error;
pub mod events;
pub mod http;
pub mod incentives;
pub mod jobs;
pub mod key_accounts;
pub mod meetings;
pub mod notify;
pub mod openapi;
pub mod ops;
pub mod partners;
pub mod performance;
pub mod platforms;
pub mod recruitment;
pub mod scorecards;
pub mod secrets;
pub mod state;
pub mod targets;
pub mod telemetry;
pub mod validation;

pub use app::Application;
