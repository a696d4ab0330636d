//! Read models of the cohort pages: one call per page that checks the caller's access once and
//! returns everything the page shows. Access is the same as in [`crate::services::cohorts`]:
//! outsiders get 404 for everything of a cohort, members 403 for what only its owner sees.

use std::collections::BTreeMap;

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::db::catalog as db_catalog;
use crate::db::cohorts as db;
use crate::error::{AppError, AppResult};
use crate::services::catalog::{self, BlueprintRow};
use crate::services::cohorts::{
    self as svc, CohortRow, ExamResults, ExamView, GroupMastery, MemberRow, Window,
};

fn not_found() -> AppError {
    AppError::NotFound("no such cohort".into())
}

/// The cohort if the caller owns it or is a member; 404 otherwise (the one access check).
async fn visible(conn: &mut PgConnection, user: Uuid, id: Uuid) -> AppResult<CohortRow> {
    db::visible(conn, id, user).await?.ok_or_else(not_found)
}

/// `/cohorts`: the caller's cohorts, those they own and those they joined.
pub struct IndexView {
    pub owned: Vec<CohortRow>,
    pub joined: Vec<CohortRow>,
}

pub async fn index(pool: &PgPool, user: Uuid) -> AppResult<IndexView> {
    let (owned, joined) = svc::list(pool, user)
        .await?
        .into_iter()
        .partition(|c| c.owner_id == user);
    Ok(IndexView { owned, joined })
}

/// `/cohorts/{id}`: the cohort, its exams as the caller sees them and the group's mastery;
/// for the owner also the roster and the blueprints an exam can be scheduled from.
pub struct ShowView {
    pub cohort: CohortRow,
    pub owner: bool,
    /// the roster (owner only; empty for members)
    pub members: Vec<MemberRow>,
    pub exams: Vec<ExamView>,
    /// blueprint slug → display name
    pub blueprint_names: BTreeMap<String, String>,
    /// the blueprints with their display names (owner only; empty for members)
    pub blueprints: Vec<BlueprintRow>,
    pub group: GroupMastery,
}

pub async fn show(pool: &PgPool, user: Uuid, id: Uuid) -> AppResult<ShowView> {
    let mut conn = pool.acquire().await?;
    let cohort = visible(&mut conn, user, id).await?;
    let owner = cohort.role_of(user).is_owner();
    let members = if owner {
        db::members(&mut conn, id).await?
    } else {
        vec![]
    };
    let exams = svc::exam_views_in(&mut conn, user, id).await?;
    let rows = db::member_mastery(&mut conn, id).await?;
    drop(conn);
    let domains: Vec<String> = db_catalog::domain_weights(pool)
        .await?
        .into_iter()
        .map(|(d, _)| d)
        .collect();
    let group = svc::group_mastery_of(&rows, &domains, owner || cohort.leaderboard);
    let blueprint_names = catalog::blueprint_names(pool).await?;
    let blueprints = if owner {
        catalog::list_blueprints(pool)
            .await?
            .into_iter()
            .map(|mut b| {
                if let Some(n) = blueprint_names.get(&b.slug) {
                    b.name = n.clone();
                }
                b
            })
            .collect()
    } else {
        vec![]
    };
    Ok(ShowView {
        cohort,
        owner,
        members,
        exams,
        blueprint_names,
        blueprints,
        group,
    })
}

/// The confirmation before a member starts a cohort exam.
pub struct StartView {
    pub cohort: CohortRow,
    pub exam: ExamView,
    /// the exam's blueprint, when it still exists
    pub blueprint: Option<BlueprintRow>,
}

/// `GET /cohorts/{id}/exams/{exam}/start`: None when the exam cannot be started now (unknown,
/// already started, or outside its window): the cohort page says which.
pub async fn start(
    pool: &PgPool,
    user: Uuid,
    id: Uuid,
    exam: Uuid,
) -> AppResult<Option<StartView>> {
    let mut conn = pool.acquire().await?;
    let cohort = visible(&mut conn, user, id).await?;
    let Some(v) = svc::exam_views_in(&mut conn, user, id)
        .await?
        .into_iter()
        .find(|v| v.exam.id == exam)
    else {
        return Ok(None);
    };
    drop(conn);
    if v.attempt.is_some() || !matches!(v.window, Window::Open) {
        return Ok(None);
    }
    let blueprint = catalog::list_blueprints(pool)
        .await?
        .into_iter()
        .find(|b| b.slug == v.exam.blueprint);
    Ok(Some(StartView {
        cohort,
        exam: v,
        blueprint,
    }))
}

/// The owner's results page of a cohort exam.
pub struct ResultsView {
    pub cohort: CohortRow,
    pub results: ExamResults,
    /// member → extra minutes
    pub extensions: BTreeMap<Uuid, i32>,
    /// the blueprint's display name
    pub blueprint: String,
}

/// `/cohorts/{id}/exams/{exam}/results`: owner only (members 403, outsiders 404, an unknown
/// exam 404); [`svc::results`] checks that, and hands back the cohort row it checked.
pub async fn results(pool: &PgPool, user: Uuid, id: Uuid, exam: Uuid) -> AppResult<ResultsView> {
    let results = svc::results(pool, user, id, exam).await?;
    // the owner check read the cohort: no second read
    let cohort = results.cohort.clone();
    let mut conn = pool.acquire().await?;
    let extensions = db::extensions(&mut conn, exam).await?.into_iter().collect();
    drop(conn);
    let blueprint = catalog::blueprint_names(pool)
        .await?
        .remove(&results.exam.blueprint)
        .unwrap_or_else(|| results.exam.blueprint.clone());
    Ok(ResultsView {
        cohort,
        results,
        extensions,
        blueprint,
    })
}
