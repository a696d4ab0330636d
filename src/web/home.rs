//! The home page.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;

use super::session::SessionView;
use super::{render, MaybeUser, PageError};
use crate::services::catalog::{self, DomainRow};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home));
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    user: Option<SessionView>,
    domains: Vec<DomainRow>,
    total: i64,
}

async fn home(state: web::Data<AppState>, user: MaybeUser) -> Result<HttpResponse, PageError> {
    let domains = catalog::list_domains(&state.pool).await?;
    let total = domains.iter().map(|d| d.question_count).sum();
    render(
        StatusCode::OK,
        &HomePage {
            user: user.0,
            domains,
            total,
        },
    )
}
