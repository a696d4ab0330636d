//! Plain types and pure rules of the product: no I/O, unit-tested in place.

pub mod answer;
pub mod assembly;
pub mod attempt;
pub mod calibration;
pub mod cohort;
pub mod distribution;
pub mod equating;
pub mod gift;
pub mod itemstats;
pub mod learning;
pub mod lenient;
pub mod mastery;
pub mod question;
pub mod readiness;
pub mod result;
pub mod reviews;
pub mod scoring;
pub mod slug;
pub mod two_way;
pub mod user;
pub mod validation;
pub mod window;
