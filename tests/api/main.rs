//! Integration tests: ONE test binary, many modules. Each test gets a fresh database
//! (`#[sqlx::test]`) and a real server on port 0, and talks HTTP to it.

mod a11y;
mod account;
mod admission;
mod answer_batch;
mod answer_cache;
mod attempts;
mod auth;
mod browser;
mod citus;
mod cohort_pages;
mod cohorts;
mod confirmations;
mod conflicts;
mod contract;
mod errors;
mod exam_day;
mod exam_page;
mod fault;
mod helpers;
mod mastery;
mod measurement;
mod openapi;
mod ops;
mod pages;
mod processes;
mod questions;
mod readiness;
mod scenario;
mod seeding;
