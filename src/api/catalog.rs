//! Domains, tags and blueprints.

use std::collections::BTreeMap;

use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::AuthUser;
use crate::error::{AppResult, Problem};
use crate::services::catalog;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_domains)
        .service(list_exam_domains)
        .service(list_tags)
        .service(list_blueprints);
}

#[derive(Serialize, ToSchema)]
pub struct DomainDto {
    pub slug: String,
    pub name: String,
    /// Share of the `dva-c02` exam.
    pub weight: f64,
    /// Active (not retired) questions.
    pub question_count: i64,
}

#[derive(Serialize, ToSchema)]
pub struct TagDto {
    pub tag: String,
    pub count: i64,
}

#[derive(Serialize, ToSchema)]
pub struct BlueprintDto {
    pub slug: String,
    pub name: String,
    pub question_count: i32,
    /// `null` = untimed.
    pub time_limit_minutes: Option<i32>,
    /// Scaled score (100-1000) needed to pass.
    pub pass_mark: i32,
    pub scaled: bool,
    pub shuffle_questions: bool,
    pub shuffle_options: bool,
    /// Relative weight per domain, normalised to sum to 1.
    pub domain_weights: BTreeMap<String, f64>,
    /// Share of the scored questions per exam-guide domain, normalised to sum to 1; empty when
    /// the blueprint is weighed by topic area only. Scored questions match these shares first
    /// (each domain within one question) and the topic areas second.
    pub exam_domain_weights: BTreeMap<String, f64>,
    /// Questions that do not count (pilots first), out of `question_count`; nothing tells them
    /// apart until the attempt is final.
    pub unscored: i32,
}

/// One of the exam guide's four content domains.
#[derive(Serialize, ToSchema)]
pub struct ExamDomainDto {
    /// `development`, `security`, `deployment` or `troubleshooting`.
    pub slug: String,
    pub name: String,
    /// Share of the scored questions of the real exam.
    pub weight: f64,
}

/// The exam guide's domains and their weights, in the guide's order.
#[utoipa::path(
    operation_id = "listExamDomains",tag = "catalog", security(("bearer" = [])), responses((status = 200, body = Vec<ExamDomainDto>), (status = 401, body = Problem)))]
#[get("/exam-domains")]
pub async fn list_exam_domains(
    state: web::Data<AppState>,
    _user: AuthUser,
) -> AppResult<HttpResponse> {
    let rows = catalog::exam_domains(&state.pool).await?;
    Ok(HttpResponse::Ok().json(
        rows.into_iter()
            .map(|r| ExamDomainDto {
                slug: r.slug,
                name: r.name,
                weight: r.weight,
            })
            .collect::<Vec<_>>(),
    ))
}

/// The exam domains with their weights and question counts.
#[utoipa::path(
    operation_id = "listDomains",tag = "catalog", security(("bearer" = [])), responses((status = 200, body = Vec<DomainDto>), (status = 401, body = Problem), (status = 503, body = Problem)))]
#[get("/domains")]
pub async fn list_domains(state: web::Data<AppState>, _user: AuthUser) -> AppResult<HttpResponse> {
    let rows = catalog::list_domains(&state.pool).await?;
    let out: Vec<DomainDto> = rows
        .into_iter()
        .map(|r| DomainDto {
            slug: r.slug,
            name: r.name,
            weight: r.weight,
            question_count: r.question_count,
        })
        .collect();
    Ok(HttpResponse::Ok().json(out))
}

/// Tags with the number of active questions carrying them.
#[utoipa::path(
    operation_id = "listTags",tag = "catalog", security(("bearer" = [])), responses((status = 200, body = Vec<TagDto>), (status = 401, body = Problem)))]
#[get("/tags")]
pub async fn list_tags(state: web::Data<AppState>, _user: AuthUser) -> AppResult<HttpResponse> {
    let rows = catalog::list_tags(&state.pool).await?;
    Ok(HttpResponse::Ok().json(
        rows.into_iter()
            .map(|(tag, count)| TagDto { tag, count })
            .collect::<Vec<_>>(),
    ))
}

/// The exam blueprints: count, time limit, pass mark and domain weights.
#[utoipa::path(
    operation_id = "listBlueprints",tag = "catalog", security(("bearer" = [])), responses((status = 200, body = Vec<BlueprintDto>), (status = 401, body = Problem)))]
#[get("/blueprints")]
pub async fn list_blueprints(
    state: web::Data<AppState>,
    _user: AuthUser,
) -> AppResult<HttpResponse> {
    let rows = catalog::blueprints(&state.pool).await?;
    let out: Vec<BlueprintDto> = rows
        .into_iter()
        .map(|(r, m)| {
            let domain_weights = catalog::normalised(&r.domain_weights);
            BlueprintDto {
                exam_domain_weights: catalog::normalised(&m.exam_domain_weights),
                unscored: m.unscored,
                slug: r.slug,
                name: r.name,
                question_count: r.question_count,
                time_limit_minutes: r.time_limit_minutes,
                pass_mark: r.pass_mark,
                scaled: r.scaled,
                shuffle_questions: r.shuffle_questions,
                shuffle_options: r.shuffle_options,
                domain_weights,
            }
        })
        .collect();
    Ok(HttpResponse::Ok().json(out))
}
