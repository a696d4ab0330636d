//! The owner's results page of a cohort exam: per-domain chart, learners with their
//! extensions, item statistics; and its CSV.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use super::when;
use crate::error::AppError;
use crate::services::cohort_views as views;
use crate::services::cohorts::{self as svc, CohortRow, PASS_SHARE};
use crate::state::AppState;
use crate::web::session::SessionView;
use crate::web::{render_form, see_other, Csrf, PageError, PageUser};

pub struct DomainBar {
    pub label: String,
    pub y: i32,
    pub width: f64,
    pub percent: f64,
    pub meets: bool,
    pub attempts: usize,
}

pub struct LearnerLine {
    pub user_id: Uuid,
    pub name: String,
    pub email: String,
    pub status: String,
    pub score: String,
    pub scaled: String,
    pub passed: Option<bool>,
    pub time_used: String,
    pub extension_minutes: i32,
}

pub struct ItemLine {
    pub position: i32,
    pub domain: String,
    pub stem: String,
    pub facility: i64,
    pub discrimination: String,
    pub options: Vec<(String, i64, bool)>,
    pub flagged: bool,
}

#[derive(Template)]
#[template(path = "cohort_results.html")]
struct ResultsPage {
    user: Option<SessionView>,
    csrf: String,
    cohort: CohortRow,
    exam_id: Uuid,
    blueprint: String,
    window: String,
    finished: usize,
    started: usize,
    bars: Vec<DomainBar>,
    chart_height: i32,
    pass_line_x: f64,
    learners: Vec<LearnerLine>,
    items: Vec<ItemLine>,
    flagged: usize,
}

fn excerpt(s: &str, n: usize) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() <= n {
        s
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

fn duration(seconds: i64) -> String {
    format!("{}:{:02}", seconds / 60, seconds % 60)
}

async fn results_page(
    state: &AppState,
    user: SessionView,
    csrf: &Csrf,
    id: Uuid,
    exam: Uuid,
) -> Result<HttpResponse, PageError> {
    let views::ResultsView {
        cohort,
        results: r,
        extensions,
        blueprint,
    } = views::results(&state.pool, user.id, id, exam).await?;
    let bars: Vec<DomainBar> = r
        .domains
        .iter()
        .enumerate()
        .map(|(i, (d, (mean, n)))| DomainBar {
            label: d.clone(),
            y: 10 + i as i32 * 34,
            width: (mean * 3.0).max(1.0),
            percent: (mean * 10.0).round() / 10.0,
            meets: *mean >= PASS_SHARE * 100.0,
            attempts: *n,
        })
        .collect();
    let learners: Vec<LearnerLine> = r
        .learners
        .iter()
        .map(|l| {
            let res = l.row.result.as_ref();
            LearnerLine {
                user_id: l.row.user_id,
                name: l.row.display_name.clone(),
                email: l.row.email.clone(),
                status: l.status.replace('_', " "),
                score: res
                    .map(|r| format!("{}/{}", r.correct, r.total))
                    .unwrap_or_else(|| "—".into()),
                scaled: res
                    .map(|r| r.scaled_score.to_string())
                    .unwrap_or_else(|| "—".into()),
                passed: res.map(|r| r.passed),
                time_used: l
                    .time_used_seconds
                    .map(duration)
                    .unwrap_or_else(|| "—".into()),
                extension_minutes: extensions.get(&l.row.user_id).copied().unwrap_or(0),
            }
        })
        .collect();
    let items: Vec<ItemLine> = r
        .items
        .iter()
        .map(|it| {
            let correct = crate::domain::attempt::correct_ids(&it.item.options);
            let texts: Vec<(String, String)> = it
                .item
                .options
                .iter()
                .enumerate()
                .map(|(i, o)| {
                    (
                        o.id.clone(),
                        format!(
                            "{}. {}",
                            (b'A' + (i % 26) as u8) as char,
                            excerpt(&o.text, 60)
                        ),
                    )
                })
                .collect();
            let label = |o: &String| {
                texts
                    .iter()
                    .find(|(id, _)| id == o)
                    .map(|(_, t)| t.clone())
                    .unwrap_or_else(|| o.clone())
            };
            ItemLine {
                position: it.item.position,
                domain: it.item.domain.clone(),
                stem: excerpt(&it.item.stem, 110),
                facility: (it.stat.facility * 100.0).round() as i64,
                discrimination: it
                    .stat
                    .discrimination
                    .map(|d| format!("{d:.2}"))
                    .unwrap_or_else(|| "—".into()),
                options: {
                    // by letter, as the question lists them
                    let mut v: Vec<(String, i64, bool)> = it
                        .stat
                        .option_shares
                        .iter()
                        .map(|(o, s)| (label(o), (s * 100.0).round() as i64, correct.contains(o)))
                        .collect();
                    v.sort();
                    v
                },
                flagged: it.stat.flagged,
            }
        })
        .collect();
    let page = ResultsPage {
        user: Some(user),
        csrf: csrf.token.clone(),
        exam_id: exam,
        blueprint,
        window: format!("{} – {}", when(r.exam.opens_at), when(r.exam.closes_at)),
        finished: r.learners.iter().filter(|l| l.row.result.is_some()).count(),
        started: r
            .learners
            .iter()
            .filter(|l| l.row.attempt_id.is_some())
            .count(),
        chart_height: 20 + bars.len() as i32 * 34,
        pass_line_x: 120.0 + PASS_SHARE * 300.0,
        bars,
        learners,
        flagged: items.iter().filter(|i| i.flagged).count(),
        items,
        cohort,
    };
    render_form(StatusCode::OK, csrf, &page)
}

pub(super) async fn results(
    state: web::Data<AppState>,
    user: PageUser,
    csrf: Csrf,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, PageError> {
    let (id, exam) = path.into_inner();
    results_page(&state, user.0, &csrf, id, exam).await
}

pub(super) async fn results_csv(
    state: web::Data<AppState>,
    user: PageUser,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, PageError> {
    let (id, exam) = path.into_inner();
    let r = svc::results(&state.pool, user.0.id, id, exam).await?;
    Ok(crate::http::csv_attachment(
        "results.csv",
        svc::results_csv(&r),
    ))
}

#[derive(Deserialize)]
pub(super) struct ExtensionForm {
    csrf_token: String,
    user_id: Uuid,
    minutes: String,
}

pub(super) async fn extend(
    state: web::Data<AppState>,
    user: PageUser,
    csrf: Csrf,
    path: web::Path<(Uuid, Uuid)>,
    form: web::Form<ExtensionForm>,
) -> Result<HttpResponse, PageError> {
    csrf.verify(&form.csrf_token)?;
    let (id, exam) = path.into_inner();
    let minutes = form.minutes.trim().parse::<i64>().map_err(|_| {
        PageError(AppError::validation(
            "minutes",
            "must be a whole number of minutes",
        ))
    })?;
    svc::extend(&state.pool, user.0.id, id, exam, form.user_id, minutes).await?;
    Ok(see_other(format!(
        "/cohorts/{id}/exams/{exam}/results#learners"
    )))
}
