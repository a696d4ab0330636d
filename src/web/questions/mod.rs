//! `/questions` (browse and search, no answers: [`browse`]) and `/author/questions` (list,
//! create, edit, retire, reports; instructors and admins: [`author`]).

mod author;
mod browse;

use actix_web::web;

use super::PageError;
use crate::services::catalog;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/questions", web::get().to(browse::browse))
        .route("/author/questions", web::get().to(author::author_list))
        .route("/author/questions/new", web::get().to(author::new_form))
        .route("/author/questions/new", web::post().to(author::create))
        .route("/author/questions/{id}", web::get().to(author::edit_form))
        .route("/author/questions/{id}", web::post().to(author::update))
        .route(
            "/author/questions/{id}/retire",
            web::post().to(author::retire),
        )
        .route(
            "/author/questions/{id}/reports/{report}/resolve",
            web::post().to(author::resolve),
        );
}

pub(super) fn non_empty(s: &Option<String>) -> Option<String> {
    s.as_ref()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

pub(super) async fn domain_options(state: &AppState) -> Result<Vec<(String, String)>, PageError> {
    Ok(catalog::list_domains(&state.pool)
        .await?
        .into_iter()
        .map(|d| (d.slug, d.name))
        .collect())
}
