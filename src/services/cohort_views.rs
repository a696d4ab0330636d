//! Read models of the cohort pages: one call per page that checks the caller's access once and
//! returns everything the page shows. Access is the same as in [`crate::services::cohorts`]:
//! outsiders get 404 for everything of a cohort, members 403 for what only its owner sees.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::Utc;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::db::catalog as db_catalog;
use crate::db::cohorts::{self as db, MemberMasteryRow};
use crate::domain::mastery::Belief;
use crate::error::{AppError, AppResult};
use crate::services::catalog::{self, BlueprintRow};
use crate::services::cohorts::{
    self as svc, CohortRow, ExamResults, ExamView, GroupArea, GroupMastery, MemberArea, MemberRow,
    Window, PASS_SHARE,
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
    let exams = exam_views(&mut conn, user, id).await?;
    let rows = db::member_mastery(&mut conn, id).await?;
    drop(conn);
    let domains: Vec<String> = db_catalog::domain_weights(pool)
        .await?
        .into_iter()
        .map(|(d, _)| d)
        .collect();
    let group = group_mastery(&rows, &domains, owner || cohort.leaderboard);
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
    let Some(v) = exam_views(&mut conn, user, id)
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

/// The cohort's exams with the caller's window and attempt (as [`svc::exam_views`], without
/// its access check).
async fn exam_views(conn: &mut PgConnection, user: Uuid, id: Uuid) -> AppResult<Vec<ExamView>> {
    let rows = db::exams(conn, id).await?;
    let mine: HashMap<Uuid, (Option<Uuid>, Option<String>, i32)> =
        db::my_exam_states(conn, id, user)
            .await?
            .into_iter()
            .map(|(e, a, s, m)| (e, (a, s, m)))
            .collect();
    let now = Utc::now();
    Ok(rows
        .into_iter()
        .map(|exam| {
            let (a, s, ext) = mine.get(&exam.id).cloned().unwrap_or((None, None, 0));
            ExamView {
                window: Window::at(now, &exam, ext),
                extension_minutes: ext,
                attempt: a.zip(s),
                exam,
            }
        })
        .collect())
}

/// The group's weak areas from its members' mastery rows (as [`svc::group_mastery`], without
/// its access check): mean estimate per domain and tag, and how many members are below the
/// estimate that passing needs; per member and domain when `show_members`.
fn group_mastery(
    rows: &[MemberMasteryRow],
    domains: &[String],
    show_members: bool,
) -> GroupMastery {
    let members: BTreeMap<Uuid, String> = rows
        .iter()
        .map(|r| (r.user_id, r.display_name.clone()))
        .collect();
    // (kind, area) → member → (estimate, answered)
    let mut est: BTreeMap<(String, String), BTreeMap<Uuid, (f64, i32)>> = BTreeMap::new();
    for r in rows {
        if let (Some(k), Some(a), Some(mu), Some(var)) =
            (&r.area_kind, &r.area, r.ability, r.variance)
        {
            est.entry((k.clone(), a.clone())).or_default().insert(
                r.user_id,
                (Belief { mu, var }.estimate(), r.answered.unwrap_or(0)),
            );
        }
    }
    let prior = Belief::PRIOR.estimate();
    let mut keys: BTreeSet<(String, String)> = domains
        .iter()
        .map(|d| ("domain".to_string(), d.clone()))
        .collect();
    keys.extend(est.keys().cloned());
    let areas = keys
        .into_iter()
        .map(|(kind, area)| {
            let per = est.get(&(kind.clone(), area.clone()));
            // members without answers in a domain count at the prior; tags only over those who answered
            let values: Vec<f64> = if kind == "domain" {
                members
                    .keys()
                    .map(|m| per.and_then(|p| p.get(m)).map_or(prior, |v| v.0))
                    .collect()
            } else {
                per.map(|p| p.values().map(|v| v.0).collect())
                    .unwrap_or_default()
            };
            GroupArea {
                mean_estimate: if values.is_empty() {
                    prior
                } else {
                    values.iter().sum::<f64>() / values.len() as f64
                },
                below_threshold: values.iter().filter(|v| **v < PASS_SHARE).count(),
                members: values.len(),
                kind,
                area,
            }
        })
        .collect();
    let members = show_members.then(|| {
        let mut out = Vec::new();
        for (m, name) in &members {
            for d in domains {
                let v = est
                    .get(&("domain".to_string(), d.clone()))
                    .and_then(|p| p.get(m))
                    .copied()
                    .unwrap_or((prior, 0));
                out.push(MemberArea {
                    user_id: *m,
                    display_name: name.clone(),
                    domain: d.clone(),
                    estimate: v.0,
                    answered: v.1,
                });
            }
        }
        out
    });
    GroupMastery { areas, members }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(user: u128, name: &str, area: Option<(&str, &str, f64, i32)>) -> MemberMasteryRow {
        MemberMasteryRow {
            user_id: Uuid::from_u128(user),
            display_name: name.into(),
            area_kind: area.map(|a| a.0.into()),
            area: area.map(|a| a.1.into()),
            ability: area.map(|a| a.2),
            variance: area.map(|_| 1.0),
            answered: area.map(|a| a.3),
        }
    }

    #[test]
    fn domains_count_members_without_answers_at_the_prior_and_tags_do_not() {
        let rows = vec![
            row(1, "Ann", Some(("domain", "security", 3.0, 20))),
            row(1, "Ann", Some(("tag", "iam", 3.0, 5))),
            row(2, "Bob", None),
        ];
        let domains = vec!["security".to_string(), "deployment".to_string()];
        let g = group_mastery(&rows, &domains, false);
        assert!(g.members.is_none());
        let security = g.areas.iter().find(|a| a.area == "security").unwrap();
        assert_eq!(security.members, 2);
        let deployment = g.areas.iter().find(|a| a.area == "deployment").unwrap();
        assert_eq!(deployment.members, 2);
        assert_eq!(deployment.below_threshold, 2);
        let iam = g.areas.iter().find(|a| a.area == "iam").unwrap();
        assert_eq!(iam.members, 1);
        let shown = group_mastery(&rows, &domains, true).members.unwrap();
        assert_eq!(shown.len(), 4);
        assert_eq!(shown.iter().filter(|m| m.answered > 0).count(), 1);
    }
}
