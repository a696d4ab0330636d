//! `/dashboard` (weak areas, readiness, progress, reviews due, recent attempts) and `/practice`.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::session::SessionView;
use super::{render, render_form, Csrf, PageError, PageUser};
use crate::domain::mastery::Belief;
use crate::error::AppError;
use crate::services::attempts::{self as exams, AttemptSummary};
use crate::services::{learning, practice};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/dashboard", web::get().to(dashboard))
        .route("/practice", web::get().to(practice_page))
        .route("/practice", web::post().to(start_practice));
}

/// One topic area in the weak-areas chart: its label above a full-width bar (360 units, so
/// the text stays at its size on a phone).
pub struct WeakBar {
    pub domain: String,
    pub y: i32,
    pub width: f64,
    pub low: f64,
    pub high: f64,
    pub percent: i64,
    pub answered: i32,
}

/// Answers the readiness estimate needs before it is shown.
pub const READINESS_MIN_ANSWERS: i64 = 20;
const BAR_W: f64 = 360.0;
const BAR_ROW: i32 = 40;

pub struct Line {
    pub domain: String,
    pub color: &'static str,
    pub points: String,
}

const COLORS: [&str; 7] = [
    "#1a5fb4", "#c62828", "#2e7d32", "#f0b400", "#6a1b9a", "#00838f", "#5d4037",
];

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    user: Option<SessionView>,
    csrf: String,
    bars: Vec<WeakBar>,
    bars_height: i32,
    weakest: Vec<(String, i64)>,
    /// answers still needed before the readiness estimate means anything (0: show it)
    needed: i64,
    predicted: i64,
    low: i64,
    high: i64,
    pass_percent: i64,
    /// Per exam-guide domain, in the guide's order: (name, predicted percent, likely range,
    /// chance of "meets competencies" in percent).
    exam_rows: Vec<(String, i64, String, i64)>,
    lines: Vec<Line>,
    days: usize,
    due: i64,
    attempts: Vec<AttemptSummary>,
}

impl DashboardPage {
    fn score_of(&self, a: &AttemptSummary) -> String {
        a.result
            .as_ref()
            .map(|r| r.scaled_score.to_string())
            .unwrap_or_else(|| "—".into())
    }
}

async fn dashboard(
    state: web::Data<AppState>,
    user: PageUser,
    csrf: Csrf,
) -> Result<HttpResponse, PageError> {
    let uid = user.0.id;
    let m = learning::mastery(&state.pool, uid).await?;
    let bars = m
        .domains
        .iter()
        .enumerate()
        .map(|(i, d)| WeakBar {
            domain: d.area.clone(),
            y: 4 + i as i32 * BAR_ROW,
            width: d.estimate * BAR_W,
            low: (d.estimate - 1.96 * d.uncertainty).max(0.0) * BAR_W,
            high: (d.estimate + 1.96 * d.uncertainty).min(1.0) * BAR_W,
            percent: (d.estimate * 100.0).round() as i64,
            answered: d.answered,
        })
        .collect::<Vec<_>>();
    let (r, _) = learning::readiness_for(&state.pool, uid, "dva-c02").await?;
    let names: BTreeMap<String, String> = crate::services::catalog::exam_domains(&state.pool)
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
                    .get(&d.exam_domain)
                    .cloned()
                    .unwrap_or_else(|| d.exam_domain.clone()),
                d.predicted_percent.round() as i64,
                format!("{:.0}–{:.0}%", d.interval.0, d.interval.1),
                (d.meets_probability * 100.0).round() as i64,
            )
        })
        .collect();
    let history = learning::history(&state.pool, uid, 30).await?;
    let mut days: Vec<chrono::NaiveDate> = history.iter().map(|h| h.day).collect();
    days.sort();
    days.dedup();
    let mut series: BTreeMap<String, Vec<(usize, f64)>> = BTreeMap::new();
    for h in &history {
        let x = days.iter().position(|d| *d == h.day).unwrap_or(0);
        series.entry(h.domain.clone()).or_default().push((
            x,
            Belief {
                mu: h.ability,
                var: h.variance,
            }
            .estimate(),
        ));
    }
    let span = (days.len().max(2) - 1) as f64;
    let lines = series
        .into_iter()
        .enumerate()
        .map(|(i, (domain, pts))| Line {
            domain,
            color: COLORS[i % COLORS.len()],
            points: pts
                .iter()
                .map(|(x, e)| {
                    format!(
                        "{:.1},{:.1}",
                        40.0 + *x as f64 / span * 310.0,
                        10.0 + (1.0 - e) * 180.0
                    )
                })
                .collect::<Vec<_>>()
                .join(" "),
        })
        .collect();
    let due = learning::due_count(&state.pool, uid).await?;
    let mut attempts = exams::list(&state.pool, uid).await?;
    attempts.truncate(5);
    let page = DashboardPage {
        user: Some(user.0),
        csrf: csrf.token.clone(),
        bars_height: 8 + bars.len() as i32 * BAR_ROW,
        needed: (READINESS_MIN_ANSWERS
            - m.domains.iter().map(|d| i64::from(d.answered)).sum::<i64>())
        .max(0),
        bars,
        weakest: m
            .weakest
            .iter()
            .take(3)
            .map(|w| (w.area.clone(), (w.estimate * 100.0).round() as i64))
            .collect(),
        predicted: r.predicted_scaled_score.round() as i64,
        low: r.interval.0.round() as i64,
        high: r.interval.1.round() as i64,
        pass_percent: (r.pass_probability * 100.0).round() as i64,
        exam_rows,
        lines,
        days: days.len(),
        due,
        attempts,
    };
    render_form(StatusCode::OK, &csrf, &page)
}

#[derive(Template)]
#[template(path = "practice.html")]
struct PracticePage {
    user: Option<SessionView>,
    csrf: String,
    message: Option<String>,
    due: i64,
}

async fn practice_page(
    state: web::Data<AppState>,
    user: PageUser,
    csrf: Csrf,
) -> Result<HttpResponse, PageError> {
    let due = learning::due_count(&state.pool, user.0.id).await?;
    let page = PracticePage {
        user: Some(user.0),
        csrf: csrf.token.clone(),
        message: None,
        due,
    };
    render_form(StatusCode::OK, &csrf, &page)
}

#[derive(Deserialize)]
struct PracticeForm {
    csrf_token: String,
    source: String,
    count: Option<i64>,
}

async fn start_practice(
    state: web::Data<AppState>,
    user: PageUser,
    csrf: Csrf,
    form: web::Form<PracticeForm>,
) -> Result<HttpResponse, PageError> {
    csrf.verify(&form.csrf_token)?;
    match practice::start(
        &state.pool,
        user.0.id,
        form.count.unwrap_or(10),
        &form.source,
        None,
    )
    .await
    {
        Ok(id) => Ok(HttpResponse::SeeOther()
            .insert_header(("location", format!("/attempts/{id}?q=1")))
            .finish()),
        Err(AppError::Conflict(_, msg)) | Err(AppError::BadRequest(msg)) => {
            let due = learning::due_count(&state.pool, user.0.id).await?;
            render(
                StatusCode::CONFLICT,
                &PracticePage {
                    user: Some(user.0),
                    csrf: csrf.token.clone(),
                    message: Some(msg),
                    due,
                },
            )
        }
        Err(e) => Err(e.into()),
    }
}
