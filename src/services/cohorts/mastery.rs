//! The group's weak areas: mean estimate per domain and tag, how many members are below the
//! estimate that passing needs, and per member and domain where names may be shown.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::PgPool;
use uuid::Uuid;

use super::membership::get;
use crate::db::catalog;
use crate::db::cohorts::{self as db, MemberMasteryRow};
use crate::domain::mastery::Belief;
use crate::error::AppResult;

/// The scaled pass mark as a share of questions right: (720 − 100) / 900.
pub const PASS_SHARE: f64 = (720.0 - 100.0) / 900.0;

pub struct GroupArea {
    pub kind: String,
    pub area: String,
    pub mean_estimate: f64,
    pub below_threshold: usize,
    pub members: usize,
}

pub struct MemberArea {
    pub user_id: Uuid,
    pub display_name: String,
    pub domain: String,
    pub estimate: f64,
    pub answered: i32,
}

pub struct GroupMastery {
    pub areas: Vec<GroupArea>,
    /// Per member and domain: for the owner always, for members only when the owner enabled
    /// the leaderboard.
    pub members: Option<Vec<MemberArea>>,
}

/// The group's weak areas: mean estimate per domain and tag, and how many members are below
/// the estimate that passing needs.
pub async fn group_mastery(pool: &PgPool, user: Uuid, id: Uuid) -> AppResult<GroupMastery> {
    let cohort = get(pool, user, id).await?;
    let mut conn = pool.acquire().await?;
    let rows = db::member_mastery(&mut conn, id).await?;
    drop(conn);
    let domains: Vec<String> = catalog::domain_weights(pool)
        .await?
        .into_iter()
        .map(|(d, _)| d)
        .collect();
    Ok(group_mastery_of(
        &rows,
        &domains,
        cohort.owner_id == user || cohort.leaderboard,
    ))
}

/// The group's weak areas from its members' mastery rows (no access check: [`group_mastery`]
/// and the cohort page's read model check first): mean estimate per domain and tag, and how
/// many members are below the estimate that passing needs; per member and domain when
/// `show_members`.
pub fn group_mastery_of(
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
        let g = group_mastery_of(&rows, &domains, false);
        assert!(g.members.is_none());
        let security = g.areas.iter().find(|a| a.area == "security").unwrap();
        assert_eq!(security.members, 2);
        let deployment = g.areas.iter().find(|a| a.area == "deployment").unwrap();
        assert_eq!(deployment.members, 2);
        assert_eq!(deployment.below_threshold, 2);
        let iam = g.areas.iter().find(|a| a.area == "iam").unwrap();
        assert_eq!(iam.members, 1);
        let shown = group_mastery_of(&rows, &domains, true).members.unwrap();
        assert_eq!(shown.len(), 4);
        assert_eq!(shown.iter().filter(|m| m.answered > 0).count(), 1);
    }
}
