//! Cohorts and cohort exams: here the cohort and its roster; `exams` (scheduling, starting,
//! extensions) and `results` (the owner's results, the CSV, the group's weak areas).

use actix_web::{delete, get, patch, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::{AppResult, Problem};
use crate::services::cohorts as svc;
use crate::services::cohorts::CohortRow;
use crate::state::AppState;

mod exams;
mod results;

pub use exams::{CohortExamDto, ExtensionDto, ExtensionRequest, NewCohortExam};
pub use results::{
    CohortResultsDto, DomainMeanDto, GroupAreaDto, GroupMasteryDto, ItemStatDto, LearnerResultDto,
    MemberAreaDto, OptionShareDto,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(join)
        .service(get_one)
        .service(members)
        .service(remove_member)
        .service(rotate_code)
        .service(exams::schedule)
        .service(exams::list_exams)
        .service(exams::start)
        .service(exams::extend)
        .service(results::results_csv)
        .service(results::results)
        .service(results::group_mastery)
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
