//! Cohorts and cohort exams.

use actix_web::{delete, get, patch, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::api::attempts::AttemptDto;
use crate::auth::AuthUser;
use crate::error::{AppResult, Problem};
use crate::services::cohorts as svc;
use crate::services::cohorts::{CohortRow, ExamRow};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(join)
        .service(get_one)
        .service(members)
        .service(remove_member)
        .service(rotate_code)
        .service(schedule)
        .service(list_exams)
        .service(start)
        .service(extend)
        .service(results_csv)
        .service(results)
        .service(group_mastery)
        .service(update);
}

#[derive(Deserialize, ToSchema)]
pub struct NewCohort {
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct CohortDto {
    pub id: Uuid,
    pub name: String,
    pub owner_id: Uuid,
    /// Whether the caller owns it.
    pub owner: bool,
    /// Only for the owner.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub join_code: Option<String>,
    pub member_count: i64,
    /// Members see each other's names in the group view.
    pub leaderboard: bool,
    pub created_at: DateTime<Utc>,
}

fn dto(c: CohortRow, caller: Uuid) -> CohortDto {
    let owner = c.owner_id == caller;
    CohortDto {
        id: c.id,
        name: c.name,
        owner_id: c.owner_id,
        owner,
        join_code: owner.then_some(c.join_code),
        member_count: c.member_count,
        leaderboard: c.leaderboard,
        created_at: c.created_at,
    }
}

/// Create a cohort (instructors) or a study group (learners); returns its join code.
#[utoipa::path(
    operation_id = "createCohort",tag = "cohorts", request_body = NewCohort, security(("bearer" = [])), responses((status = 201, body = CohortDto), (status = 422, body = Problem)))]
#[post("/cohorts")]
pub async fn create(
    state: web::Data<AppState>,
    user: AuthUser,
    body: web::Json<NewCohort>,
) -> AppResult<HttpResponse> {
    let c = svc::create(&state.pool, user.id, &body.name).await?;
    Ok(HttpResponse::Created().json(dto(c, user.id)))
}

/// Cohorts the caller owns or belongs to.
#[utoipa::path(
    operation_id = "listCohorts",tag = "cohorts", security(("bearer" = [])), responses((status = 200, body = Vec<CohortDto>)))]
#[get("/cohorts")]
pub async fn list(state: web::Data<AppState>, user: AuthUser) -> AppResult<HttpResponse> {
    let rows = svc::list(&state.pool, user.id).await?;
    Ok(HttpResponse::Ok().json(
        rows.into_iter()
            .map(|c| dto(c, user.id))
            .collect::<Vec<_>>(),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct JoinRequest {
    pub code: String,
}

/// Join a cohort with its code.
#[utoipa::path(
    operation_id = "joinCohort",tag = "cohorts", request_body = JoinRequest, security(("bearer" = [])), responses((status = 200, body = CohortDto), (status = 422, body = Problem)))]
#[post("/cohorts/join")]
pub async fn join(
    state: web::Data<AppState>,
    user: AuthUser,
    body: web::Json<JoinRequest>,
) -> AppResult<HttpResponse> {
    let c = svc::join(
        &state.pool,
        user.id,
        &body.code,
        state.settings.prepare_lead_secs,
    )
    .await?;
    Ok(HttpResponse::Ok().json(dto(c, user.id)))
}

/// One cohort (owner and members; 404 for everyone else).
#[utoipa::path(
    operation_id = "getCohort",tag = "cohorts", security(("bearer" = [])), responses((status = 200, body = CohortDto), (status = 404, body = Problem)))]
#[get("/cohorts/{id}")]
pub async fn get_one(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let c = svc::get(&state.pool, user.id, *id).await?;
    Ok(HttpResponse::Ok().json(dto(c, user.id)))
}

#[derive(Serialize, ToSchema)]
pub struct MemberDto {
    pub user_id: Uuid,
    pub display_name: String,
    pub email: String,
    pub joined_at: DateTime<Utc>,
}

/// The roster (owner only).
#[utoipa::path(
    operation_id = "listCohortMembers",tag = "cohorts", security(("bearer" = [])), responses((status = 200, body = Vec<MemberDto>), (status = 403, body = Problem), (status = 404, body = Problem)))]
#[get("/cohorts/{id}/members")]
pub async fn members(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let rows = svc::members(&state.pool, user.id, *id).await?;
    let out: Vec<MemberDto> = rows
        .into_iter()
        .map(|m| MemberDto {
            user_id: m.user_id,
            display_name: m.display_name,
            email: m.email,
            joined_at: m.joined_at,
        })
        .collect();
    Ok(HttpResponse::Ok().json(out))
}

/// Remove a member (owner only).
#[utoipa::path(
    operation_id = "removeCohortMember",tag = "cohorts", security(("bearer" = [])), responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
#[delete("/cohorts/{id}/members/{user}")]
pub async fn remove_member(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> AppResult<HttpResponse> {
    let (id, member) = path.into_inner();
    svc::remove_member(&state.pool, user.id, id, member).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A new join code; the old one stops working (owner only).
#[utoipa::path(
    operation_id = "rotateCohortCode",tag = "cohorts", security(("bearer" = [])), responses((status = 200, body = CohortDto), (status = 403, body = Problem), (status = 404, body = Problem)))]
#[post("/cohorts/{id}/code")]
pub async fn rotate_code(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let c = svc::rotate_code(&state.pool, user.id, *id).await?;
    Ok(HttpResponse::Ok().json(dto(c, user.id)))
}

#[derive(Deserialize, ToSchema)]
pub struct NewCohortExam {
    pub blueprint: String,
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
    /// Shuffle question and option order per learner (default true).
    pub shuffle: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct CohortExamDto {
    pub id: Uuid,
    pub cohort_id: Uuid,
    pub blueprint: String,
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
    pub shuffle: bool,
    pub question_count: i64,
    /// `scheduled`, `open` or `closed`, now.
    pub state: &'static str,
}

fn exam_dto(e: ExamRow) -> CohortExamDto {
    let now = Utc::now();
    let state = if now < e.opens_at {
        "scheduled"
    } else if now <= e.closes_at {
        "open"
    } else {
        "closed"
    };
    CohortExamDto {
        id: e.id,
        cohort_id: e.cohort_id,
        blueprint: e.blueprint,
        opens_at: e.opens_at,
        closes_at: e.closes_at,
        shuffle: e.shuffle,
        question_count: e.question_count,
        state,
    }
}

/// Schedule a cohort exam: one question set for everyone, drawn now (owner only).
#[utoipa::path(
    operation_id = "scheduleCohortExam",tag = "cohorts", request_body = NewCohortExam, security(("bearer" = [])), responses((status = 201, body = CohortExamDto), (status = 403, body = Problem), (status = 422, body = Problem)))]
#[post("/cohorts/{id}/exams")]
pub async fn schedule(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<NewCohortExam>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    let e = svc::schedule(
        &state.pool,
        user.id,
        *id,
        &b.blueprint,
        b.opens_at,
        b.closes_at,
        b.shuffle.unwrap_or(true),
    )
    .await?;
    Ok(HttpResponse::Created().json(exam_dto(e)))
}

/// The cohort's exams (owner and members).
#[utoipa::path(
    operation_id = "listCohortExams",tag = "cohorts", security(("bearer" = [])), responses((status = 200, body = Vec<CohortExamDto>), (status = 404, body = Problem)))]
#[get("/cohorts/{id}/exams")]
pub async fn list_exams(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let rows = svc::exams(&state.pool, user.id, *id).await?;
    Ok(HttpResponse::Ok().json(rows.into_iter().map(exam_dto).collect::<Vec<_>>()))
}

/// Start my attempt at a cohort exam: members, inside the window, once (409 otherwise).
#[utoipa::path(
    operation_id = "startCohortExamAttempt",tag = "cohorts", security(("bearer" = [])), responses((status = 201, body = AttemptDto), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
#[post("/cohorts/{id}/exams/{exam}/attempts")]
pub async fn start(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> AppResult<HttpResponse> {
    let (id, exam) = path.into_inner();
    let s = svc::start_state(&state.pool, user.id, id, exam).await?;
    Ok(HttpResponse::Created().json(AttemptDto::from_state(s)))
}

#[derive(Deserialize, ToSchema)]
pub struct ExtensionRequest {
    pub user_id: Uuid,
    /// Extra minutes (0 to 600), replacing any earlier extension.
    #[serde(deserialize_with = "crate::domain::lenient::int")]
    pub minutes: i64,
}

#[derive(Serialize, ToSchema)]
pub struct ExtensionDto {
    pub user_id: Uuid,
    pub minutes: i32,
}

/// Extra minutes for one learner, before or during the attempt (owner only).
#[utoipa::path(
    operation_id = "grantCohortExamExtension",tag = "cohorts", request_body = ExtensionRequest, security(("bearer" = [])), responses((status = 200, body = ExtensionDto), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
#[post("/cohorts/{id}/exams/{exam}/extensions")]
pub async fn extend(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
    body: web::Json<ExtensionRequest>,
) -> AppResult<HttpResponse> {
    let (id, exam) = path.into_inner();
    let minutes = svc::extend(&state.pool, user.id, id, exam, body.user_id, body.minutes).await?;
    Ok(HttpResponse::Ok().json(ExtensionDto {
        user_id: body.user_id,
        minutes,
    }))
}

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
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "content-disposition",
            "attachment; filename=\"results.csv\"",
        ))
        .body(svc::results_csv(&r)))
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

#[derive(Deserialize, ToSchema)]
pub struct UpdateCohort {
    /// Show members' names to members in the group view.
    pub leaderboard: bool,
}

/// Turn the leaderboard on or off (owner only).
#[utoipa::path(
    operation_id = "updateCohort",tag = "cohorts", request_body = UpdateCohort, security(("bearer" = [])), responses((status = 200, body = CohortDto), (status = 403, body = Problem), (status = 404, body = Problem)))]
#[patch("/cohorts/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<UpdateCohort>,
) -> AppResult<HttpResponse> {
    let c = svc::set_leaderboard(&state.pool, user.id, *id, body.leaderboard).await?;
    Ok(HttpResponse::Ok().json(dto(c, user.id)))
}
