//! The owner's results of a cohort exam (JSON and CSV) and the group's weak areas.

use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::exams::{exam_dto, CohortExamDto};
use crate::auth::AuthUser;
use crate::error::{AppResult, Problem};
use crate::services::cohorts as svc;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct LearnerResultDto {
    pub user_id: Uuid,
    pub display_name: String,
    pub email: String,
    /// `not_started`, `in_progress`, `submitted` or `expired`.
    pub status: String,
    pub attempt_id: Option<Uuid>,
    pub correct: Option<i64>,
    pub total: Option<i64>,
    pub percent: Option<f64>,
    pub scaled_score: Option<i64>,
    pub passed: Option<bool>,
    pub domains: Option<serde_json::Value>,
    pub time_used_seconds: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct DomainMeanDto {
    pub domain: String,
    pub mean_percent: f64,
    pub attempts: usize,
}

#[derive(Serialize, ToSchema)]
pub struct OptionShareDto {
    pub id: String,
    pub text: String,
    pub correct: bool,
    /// Share of finished learners who chose it.
    pub share: f64,
}

#[derive(Serialize, ToSchema)]
pub struct ItemStatDto {
    pub position: i32,
    pub question_id: Uuid,
    pub version: i32,
    pub domain: String,
    pub stem: String,
    /// Share who answered it right.
    pub facility: f64,
    /// Point-biserial correlation with the total score.
    pub discrimination: Option<f64>,
    /// Negative discrimination: review the question.
    pub flagged: bool,
    pub options: Vec<OptionShareDto>,
}

#[derive(Serialize, ToSchema)]
pub struct CohortResultsDto {
    pub exam: CohortExamDto,
    pub learners: Vec<LearnerResultDto>,
    pub domains: Vec<DomainMeanDto>,
    pub items: Vec<ItemStatDto>,
}

fn r3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Results for the owner: per learner, per domain (cohort mean), item statistics.
#[utoipa::path(
    operation_id = "getCohortExamResults",tag = "cohorts", security(("bearer" = [])), responses((status = 200, body = CohortResultsDto), (status = 403, body = Problem), (status = 404, body = Problem)))]
#[get("/cohorts/{id}/exams/{exam}/results")]
pub async fn results(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> AppResult<HttpResponse> {
    let (id, exam) = path.into_inner();
    let r = svc::results(&state.pool, user.id, id, exam).await?;
    let learners = r
        .learners
        .into_iter()
        .map(|l| {
            let res = l.row.result.as_ref();
            LearnerResultDto {
                user_id: l.row.user_id,
                display_name: l.row.display_name.clone(),
                email: l.row.email.clone(),
                status: l.status,
                attempt_id: l.row.attempt_id,
                correct: res.map(|v| v.correct as i64),
                total: res.map(|v| v.total as i64),
                percent: res.map(|v| v.percent),
                scaled_score: res.map(|v| v.scaled_score.into()),
                passed: res.map(|v| v.passed),
                domains: res.and_then(|v| serde_json::to_value(&v.domains).ok()),
                time_used_seconds: l.time_used_seconds,
            }
        })
        .collect();
    let domains = r
        .domains
        .into_iter()
        .map(|(domain, (mean, n))| DomainMeanDto {
            domain,
            mean_percent: r3(mean),
            attempts: n,
        })
        .collect();
    let items = r
        .items
        .into_iter()
        .map(|i| ItemStatDto {
            position: i.item.position,
            question_id: i.item.question_id,
            version: i.item.version,
            domain: i.item.domain.clone(),
            stem: i.item.stem.clone(),
            facility: r3(i.stat.facility),
            discrimination: i.stat.discrimination.map(r3),
            flagged: i.stat.flagged,
            options: i
                .item
                .options
                .iter()
                .map(|o| OptionShareDto {
                    share: r3(i.stat.option_shares.get(&o.id).copied().unwrap_or(0.0)),
                    text: o.text.clone(),
                    correct: o.correct,
                    id: o.id.clone(),
                })
                .collect(),
        })
        .collect();
    Ok(HttpResponse::Ok().json(CohortResultsDto {
        exam: exam_dto(r.exam),
        learners,
        domains,
        items,
    }))
}

/// The per-learner table as CSV (owner only).
#[utoipa::path(
    operation_id = "getCohortExamResultsCsv",tag = "cohorts", security(("bearer" = [])), responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = Problem), (status = 404, body = Problem)))]
#[get("/cohorts/{id}/exams/{exam}/results.csv")]
pub async fn results_csv(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> AppResult<HttpResponse> {
    let (id, exam) = path.into_inner();
    let r = svc::results(&state.pool, user.id, id, exam).await?;
    Ok(crate::http::csv_attachment(
        "results.csv",
        svc::results_csv(&r),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct GroupAreaDto {
    /// `domain` or `tag`.
    pub kind: String,
    pub area: String,
    /// Mean of the members' estimates (members without answers count at the prior in domains).
    pub mean_estimate: f64,
    /// Members whose estimate is below what passing needs (68.9% right).
    pub below_threshold: usize,
    pub members: usize,
}

#[derive(Serialize, ToSchema)]
pub struct MemberAreaDto {
    pub user_id: Uuid,
    pub display_name: String,
    pub domain: String,
    pub estimate: f64,
    pub answered: i32,
}

#[derive(Serialize, ToSchema)]
pub struct GroupMasteryDto {
    pub areas: Vec<GroupAreaDto>,
    /// Per member and domain: for the owner, and for members when the leaderboard is on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub members: Option<Vec<MemberAreaDto>>,
}

/// The group's weak areas (owner and members; names only for the owner unless the leaderboard is on).
#[utoipa::path(
    operation_id = "getCohortMastery",tag = "cohorts", security(("bearer" = [])), responses((status = 200, body = GroupMasteryDto), (status = 404, body = Problem)))]
#[get("/cohorts/{id}/mastery")]
pub async fn group_mastery(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let g = svc::group_mastery(&state.pool, user.id, *id).await?;
    Ok(HttpResponse::Ok().json(GroupMasteryDto {
        areas: g
            .areas
            .into_iter()
            .map(|a| GroupAreaDto {
                kind: a.kind,
                area: a.area,
                mean_estimate: r3(a.mean_estimate),
                below_threshold: a.below_threshold,
                members: a.members,
            })
            .collect(),
        members: g.members.map(|m| {
            m.into_iter()
                .map(|x| MemberAreaDto {
                    user_id: x.user_id,
                    display_name: x.display_name,
                    domain: x.domain,
                    estimate: r3(x.estimate),
                    answered: x.answered,
                })
                .collect()
        }),
    }))
}
