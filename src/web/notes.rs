//! `/notes` and `/notes/{domain}`: the study notes.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;

use super::session::SessionView;
use super::{render, MaybeUser, PageError};
use crate::error::AppError;
use crate::services::notes::RenderedNote;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/notes", web::get().to(index))
        .route("/notes/{domain}", web::get().to(show));
}

#[derive(Template)]
#[template(path = "notes_index.html")]
struct NotesIndex<'a> {
    user: Option<SessionView>,
    notes: Vec<&'a RenderedNote>,
}

#[derive(Template)]
#[template(path = "notes_show.html")]
struct NotesShow<'a> {
    user: Option<SessionView>,
    note: &'a RenderedNote,
}

async fn index(state: web::Data<AppState>, user: MaybeUser) -> Result<HttpResponse, PageError> {
    render(
        StatusCode::OK,
        &NotesIndex {
            user: user.0,
            notes: state.notes.notes.values().collect(),
        },
    )
}

async fn show(
    state: web::Data<AppState>,
    user: MaybeUser,
    domain: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let note = state
        .notes
        .notes
        .get(domain.as_str())
        .ok_or_else(|| AppError::NotFound("no notes for that domain".into()))?;
    render(StatusCode::OK, &NotesShow { user: user.0, note })
}
