//! A finalized attempt's pages: `/attempts/{id}/result` (score, per-domain SVG chart, exam-guide
//! domains, pacing) and `/attempts/{id}/review` (every question, or the wrong or flagged ones).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::attempt::AttemptStatus;
use crate::services::attempts as svc;
use crate::services::results::{self, AttemptResult, ReviewQuestion};
use crate::state::AppState;
use crate::web::session::SessionView;
use crate::web::{render, see_other, PageError, PageUser};

pub struct Bar {
    pub label: String,
    pub y: i32,
    pub width: f64,
    pub percent: f64,
    pub meets: bool,
    pub detail: String,
}

/// Horizontal bars, one per domain, 0–100 % over 300 px, with the pass line.
pub fn domain_bars(r: &AttemptResult) -> Vec<Bar> {
    r.domains
        .iter()
        .enumerate()
        .map(|(i, d)| Bar {
            label: d.domain.clone(),
            y: 10 + i as i32 * 34,
            width: (d.percent * 3.0).max(1.0),
            percent: d.percent,
            meets: d.verdict == crate::domain::scoring::MEETS,
            detail: format!("{}/{}", d.correct, d.total),
        })
        .collect()
}

/// Where the pass mark lies on the 0–100 % axis (720 scaled = 68.9 %).
pub fn pass_x(pass_mark: i32) -> f64 {
    120.0 + ((pass_mark - 100) as f64 / 900.0 * 100.0) * 3.0
}

#[derive(Template)]
#[template(path = "attempt_result.html")]
struct ResultPage {
    user: Option<SessionView>,
    attempt_id: Uuid,
    /// time ran out: the page says so and how many answers counted
    expired: bool,
    r: AttemptResult,
    /// (exam-guide domain, score, verdict), in the guide's order
    exam_rows: Vec<(String, String, String)>,
    /// "50 scored, 15 unscored" when some questions did not count
    unscored_note: Option<String>,
    bars: Vec<Bar>,
    chart_height: i32,
    pass_line_x: f64,
    avg_seconds: i64,
}

pub(super) async fn result(
    state: web::Data<AppState>,
    user: PageUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, PageError> {
    let s = svc::get(&state.pool, user.0.id, *id).await?;
    let Some(r) = s.attempt.result else {
        return Ok(see_other(format!("/attempts/{}?q=1", *id)));
    };
    let bars = domain_bars(&r);
    let names: std::collections::HashMap<String, String> =
        crate::services::catalog::exam_domains(&state.pool)
            .await?
            .into_iter()
            .map(|d| (d.slug, d.name))
            .collect();
    let exam_rows = r
        .exam_domains
        .iter()
        .map(|d| {
            (
                names
                    .get(&d.domain)
                    .cloned()
                    .unwrap_or_else(|| d.domain.clone()),
                format!("{}/{} ({}%)", d.correct, d.total, d.percent),
                d.verdict.clone(),
            )
        })
        .collect();
    let unscored_note = r.unscored.filter(|u| *u > 0).map(|u| {
        format!(
            "{} scored questions counted; {u} unscored ones did not, as on the real exam.",
            r.scored.unwrap_or(r.total)
        )
    });
    let page = ResultPage {
        user: Some(user.0),
        attempt_id: *id,
        exam_rows,
        unscored_note,
        expired: s.attempt.status == AttemptStatus::Expired,
        chart_height: 20 + bars.len() as i32 * 34,
        pass_line_x: pass_x(r.pass_mark),
        avg_seconds: r.pacing.average_ms / 1000,
        bars,
        r,
    };
    render(StatusCode::OK, &page)
}

#[derive(Deserialize)]
pub(super) struct ReviewQuery {
    filter: Option<String>,
}

#[derive(Template)]
#[template(path = "attempt_review.html")]
struct ReviewPage {
    user: Option<SessionView>,
    attempt_id: Uuid,
    filter: String,
    items: Vec<ReviewQuestion>,
}

pub(super) async fn review(
    state: web::Data<AppState>,
    user: PageUser,
    id: web::Path<Uuid>,
    q: web::Query<ReviewQuery>,
) -> Result<HttpResponse, PageError> {
    let s = svc::get(&state.pool, user.0.id, *id).await?;
    if s.attempt.result.is_none() {
        return Ok(see_other(format!("/attempts/{}?q=1", *id)));
    }
    let filter = q.filter.clone().filter(|f| f == "wrong" || f == "flagged");
    let items = results::review_questions(&s.items, filter.as_deref());
    render(
        StatusCode::OK,
        &ReviewPage {
            user: Some(user.0),
            attempt_id: *id,
            filter: filter.unwrap_or_default(),
            items,
        },
    )
}
