//! Cohort pages: `/cohorts` (mine, join with a code, create: [`index`]), `/cohorts/{id}`
//! (members, exams with their windows and a start button, the group's weak areas, a domain ×
//! member heatmap for the owner: [`show`], [`heatmap`]), the owner's and members' actions on it
//! ([`actions`]) and the owner's results page (per-domain chart, learners, item statistics,
//! CSV: [`results`]). The pages read through [`crate::services::cohort_views`].

mod actions;
pub mod heatmap;
mod index;
mod results;
mod show;

use actix_web::http::StatusCode;
use actix_web::web;
use chrono::{DateTime, Utc};

use crate::error::AppError;

pub use heatmap::heat_fill;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/cohorts", web::get().to(index::index))
        .route("/cohorts", web::post().to(index::create))
        .route("/cohorts/join", web::post().to(index::join))
        .route("/cohorts/{id}", web::get().to(show::show))
        .route("/cohorts/{id}/code", web::post().to(actions::rotate_code))
        .route(
            "/cohorts/{id}/leaderboard",
            web::post().to(actions::leaderboard),
        )
        .route(
            "/cohorts/{id}/members/{member}/remove",
            web::post().to(actions::remove_member),
        )
        .route("/cohorts/{id}/exams", web::post().to(actions::schedule))
        .route(
            "/cohorts/{id}/exams/{exam}/start",
            web::post().to(actions::start),
        )
        .route(
            "/cohorts/{id}/exams/{exam}/results",
            web::get().to(results::results),
        )
        .route(
            "/cohorts/{id}/exams/{exam}/results.csv",
            web::get().to(results::results_csv),
        )
        .route(
            "/cohorts/{id}/exams/{exam}/extensions",
            web::post().to(results::extend),
        );
}

/// The messages a form error is shown with, when it is one a form shows.
fn messages(e: &AppError) -> Option<Vec<String>> {
    match e {
        AppError::Validation(errs) => Some(
            errs.iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect(),
        ),
        AppError::Conflict(_, m) => Some(vec![m.clone()]),
        _ => None,
    }
}

/// The status a form error is shown with.
fn error_status(e: &AppError) -> StatusCode {
    match e {
        AppError::Conflict(..) => StatusCode::CONFLICT,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}
