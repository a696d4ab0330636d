//! The guard before a once-only cohort exam: `/cohorts/{id}/exams/{exam}/start` shows the exam's
//! length, its time limit and that it cannot be restarted, and starts it only on an explicit
//! confirm (the POST of the same path, in `cohorts/actions.rs`). Works without JavaScript.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use uuid::Uuid;

use super::session::SessionView;
use super::{render_form, see_other, Csrf, PageError, PageUser};
use crate::services::cohort_views as views;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/cohorts/{id}/exams/{exam}/start",
        web::get().to(confirm_start),
    );
}

#[derive(Template)]
#[template(path = "cohort_exam_start.html")]
struct StartPage {
    user: Option<SessionView>,
    csrf: String,
    cohort_id: Uuid,
    cohort_name: String,
    exam_id: Uuid,
    exam_name: String,
    questions: i64,
    time_limit_minutes: Option<i32>,
    closes: String,
    extension_minutes: i32,
}

async fn confirm_start(
    state: web::Data<AppState>,
    user: PageUser,
    csrf: Csrf,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, PageError> {
    let (id, exam) = path.into_inner();
    let Some(views::StartView {
        cohort,
        exam: v,
        blueprint,
    }) = views::start(&state.pool, user.0.id, id, exam).await?
    else {
        // unknown, already started, or outside the window: the cohort page says which
        return Ok(see_other(format!("/cohorts/{id}")));
    };
    let page = StartPage {
        user: Some(user.0),
        csrf: csrf.token.clone(),
        cohort_id: id,
        cohort_name: cohort.name,
        exam_id: exam,
        exam_name: blueprint
            .as_ref()
            .map(|b| b.name.clone())
            .unwrap_or_else(|| v.exam.blueprint.clone()),
        questions: v.exam.question_count,
        time_limit_minutes: blueprint.and_then(|b| b.time_limit_minutes),
        closes: v.exam.closes_at.format("%Y-%m-%d %H:%M UTC").to_string(),
        extension_minutes: v.extension_minutes,
    };
    render_form(StatusCode::OK, &csrf, &page)
}
