//! Mastery, readiness, adaptive practice and the review queue.

use actix_web::http::header;
use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::api::attempts::AttemptDto;
use crate::auth::AuthUser;
use crate::domain::mastery::Belief;
use crate::error::{AppError, AppResult, Problem};
use crate::services::learning::{self, AreaView};
use crate::services::practice;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(mastery)
        .service(history)
        .service(readiness)
        .service(start_practice)
        .service(reviews_due);
}

#[derive(Serialize, ToSchema)]
pub struct AreaDto {
    /// The topic area's slug (domain entries).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// The tag (tag entries).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// The domain or tag. Deprecated: read `domain` or `tag` (SPEC §4); kept for old clients.
    #[schema(deprecated)]
    pub area: String,
    /// Probability of answering a typical (difficulty 2) question of this area correctly, 0..1.
    pub estimate: f64,
    /// Standard deviation of that probability.
    pub uncertainty: f64,
    pub answered: i32,
    pub correct: i32,
    /// Change of the estimate over the last 7 days.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trend: Option<f64>,
    /// Domains: how much improving this area would raise the predicted exam score.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub improvement: Option<f64>,
}

fn dto(a: AreaView) -> AreaDto {
    let is_domain = a.kind == "domain";
    AreaDto {
        domain: is_domain.then(|| a.area.clone()),
        tag: (!is_domain).then(|| a.area.clone()),
        area: a.area,
        estimate: round3(a.estimate),
        uncertainty: round3(a.uncertainty),
        answered: a.answered,
        correct: a.correct,
        trend: a.trend.map(round3),
        improvement: is_domain.then(|| round3(a.improvement)),
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[derive(Serialize, ToSchema)]
pub struct MasteryDto {
    pub domains: Vec<AreaDto>,
    /// Tags the learner has answered, weakest first.
    pub tags: Vec<AreaDto>,
    /// Domains ranked by how much improving them would raise the predicted exam score.
    pub weakest: Vec<AreaDto>,
}

/// Per domain and tag: estimate, uncertainty, answers and trend; weakest first.
#[utoipa::path(
    operation_id = "getMyMastery",tag = "mastery", security(("bearer" = [])), responses((status = 200, body = MasteryDto)))]
#[get("/me/mastery")]
pub async fn mastery(state: web::Data<AppState>, user: AuthUser) -> AppResult<HttpResponse> {
    let v = learning::mastery(&state.pool, user.id).await?;
    Ok(HttpResponse::Ok().json(MasteryDto {
        domains: v.domains.into_iter().map(dto).collect(),
        tags: v.tags.into_iter().map(dto).collect(),
        weakest: v.weakest.into_iter().map(dto).collect(),
    }))
}

#[derive(Deserialize, IntoParams)]
pub struct HistoryQuery {
    /// How many days back (default 30, at most 365).
    pub days: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct HistoryPoint {
    pub day: NaiveDate,
    pub domain: String,
    pub estimate: f64,
    pub uncertainty: f64,
    pub answered: i32,
}

/// Mastery per domain over time: one snapshot per domain and day with answers.
#[utoipa::path(
    operation_id = "getMyMasteryHistory",tag = "mastery", params(HistoryQuery), security(("bearer" = [])), responses((status = 200, body = Vec<HistoryPoint>)))]
#[get("/me/mastery/history")]
pub async fn history(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<HistoryQuery>,
) -> AppResult<HttpResponse> {
    let days = q.days.unwrap_or(30);
    if !(1..=365).contains(&days) {
        return Err(AppError::validation("days", "must be 1 to 365"));
    }
    let rows = learning::history(&state.pool, user.id, days).await?;
    let out: Vec<HistoryPoint> = rows
        .into_iter()
        .map(|s| {
            let b = Belief {
                mu: s.ability,
                var: s.variance,
            };
            HistoryPoint {
                day: s.day,
                domain: s.domain,
                estimate: round3(b.estimate()),
                uncertainty: round3(b.uncertainty()),
                answered: s.answered,
            }
        })
        .collect();
    Ok(HttpResponse::Ok().json(out))
}

#[derive(Deserialize, IntoParams)]
pub struct ReadinessQuery {
    /// Default `dva-c02`.
    pub blueprint: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ReadinessDto {
    pub blueprint: String,
    /// Mean of the simulated scaled scores (100..1000).
    pub predicted_scaled_score: f64,
    /// 10th and 90th percentile of the simulated scaled score.
    pub interval: [f64; 2],
    /// Chance of reaching the pass mark: the share of simulated sittings at or above it, once
    /// calibration has fitted the blueprint's map recalibrated against finished attempts'
    /// outcomes (`method` says which).
    pub pass_probability: f64,
    pub pass_mark: i32,
    /// How it was computed.
    pub method: String,
    /// One per exam-guide domain on the blueprint's form, in the exam guide's order (empty
    /// when the bank has no exam-guide domains for it).
    pub exam_domains: Vec<ExamDomainReadinessDto>,
}

/// The prediction for one exam-guide domain.
#[derive(Serialize, ToSchema)]
pub struct ExamDomainReadinessDto {
    /// `development`, `security`, `deployment` or `troubleshooting`.
    pub domain: String,
    /// Scored questions of this domain on a typical form.
    pub questions: i64,
    /// Mean simulated percent correct on them (0..100, one decimal).
    pub predicted_percent: f64,
    /// 10th and 90th percentile of that percent.
    pub interval: [f64; 2],
    /// Probability that the score report says "meets competencies" for this domain.
    pub meets_probability: f64,
}

/// Predicted scaled score with an interval and the probability of passing.
#[utoipa::path(
    operation_id = "getMyReadiness",
    tag = "mastery",
    params(ReadinessQuery),
    security(("bearer" = [])),
    responses((status = 200, body = ReadinessDto), (status = 422, body = Problem))
)]
#[get("/me/readiness")]
pub async fn readiness(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<ReadinessQuery>,
) -> AppResult<HttpResponse> {
    let bp = q.blueprint.clone().unwrap_or_else(|| "dva-c02".into());
    let (r, pass_mark) = learning::readiness_for(&state.pool, user.id, &bp).await?;
    Ok(HttpResponse::Ok().json(ReadinessDto {
        blueprint: bp,
        predicted_scaled_score: r.predicted_scaled_score.round(),
        interval: [r.interval.0.round(), r.interval.1.round()],
        pass_probability: round3(r.pass_probability),
        pass_mark,
        method: format!(
            "Monte Carlo: {} simulated sittings of a typical form (calibrated difficulties, scored \
             as the blueprint's attempts are) from the per-area ability beliefs (fixed seed){}",
            crate::domain::readiness::READINESS_DRAWS,
            match r.recalibrated_on {
                Some(n) => format!(
                    "; pass probability recalibrated on {n} finished attempts' outcomes"
                ),
                None => String::new(),
            }
        ),
        exam_domains: r
            .exam_domains
            .iter()
            .map(|d| ExamDomainReadinessDto {
                domain: d.exam_domain.clone(),
                questions: d.questions as i64,
                predicted_percent: (d.predicted_percent * 10.0).round() / 10.0,
                interval: [
                    (d.interval.0 * 10.0).round() / 10.0,
                    (d.interval.1 * 10.0).round() / 10.0,
                ],
                meets_probability: round3(d.meets_probability),
            })
            .collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct PracticeRequest {
    /// 1 to 100 (default 10).
    #[serde(default, deserialize_with = "crate::domain::lenient::opt_int")]
    pub count: Option<i64>,
    /// `weak` (in proportion to weakness, favouring uncertain areas), `mistakes` (answered wrong
    /// before and not since answered right) or `due` (spaced repetition).
    pub source: String,
    pub domain: Option<String>,
}

/// Start an untimed practice attempt from weak areas, past mistakes or due reviews.
#[utoipa::path(
    operation_id = "startPractice",
    tag = "mastery",
    request_body = PracticeRequest,
    security(("bearer" = [])),
    responses((status = 201, body = AttemptDto), (status = 409, description = "nothing to practise", body = Problem), (status = 422, body = Problem))
)]
#[post("/practice")]
pub async fn start_practice(
    state: web::Data<AppState>,
    user: AuthUser,
    body: web::Json<PracticeRequest>,
) -> AppResult<HttpResponse> {
    let s = practice::start_state(
        &state.pool,
        user.id,
        body.count.unwrap_or(10),
        &body.source,
        body.domain.as_deref(),
    )
    .await?;
    let id = s.attempt.id;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/attempts/{id}")))
        .json(AttemptDto::from_state(s)))
}

#[derive(Serialize, ToSchema)]
pub struct DueDto {
    pub question_id: Uuid,
    pub slug: String,
    pub domain: String,
    pub stem: String,
    pub due_at: DateTime<Utc>,
    pub reps: i32,
    pub lapses: i32,
}

/// The spaced-repetition queue: questions due for review now, most overdue first.
#[utoipa::path(
    operation_id = "listDueReviews",tag = "mastery", security(("bearer" = [])), responses((status = 200, body = Vec<DueDto>)))]
#[get("/me/reviews/due")]
pub async fn reviews_due(state: web::Data<AppState>, user: AuthUser) -> AppResult<HttpResponse> {
    let rows = learning::due(&state.pool, user.id, 100).await?;
    let out: Vec<DueDto> = rows
        .into_iter()
        .map(|r| DueDto {
            question_id: r.question_id,
            slug: r.slug,
            domain: r.domain,
            stem: r.stem,
            due_at: r.due_at,
            reps: r.reps,
            lapses: r.lapses,
        })
        .collect();
    Ok(HttpResponse::Ok().json(out))
}
