//! Use cases: each opens a transaction, calls `db` and `domain`, and commits.

pub mod accounts;
pub mod attempts;
pub mod calibration;
pub mod catalog;
pub mod citus;
pub mod cohort_views;
pub mod cohorts;
pub mod idempotency;
pub mod learning;
pub mod notes;
pub mod ops;
pub mod password_resets;
pub mod practice;
pub mod questions;
pub mod results;
pub mod seeding;
pub mod sessions;
