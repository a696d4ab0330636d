//! A person's role in a cohort they can see. The schema holds no role column: the owner is
//! `cohorts.owner_id` and members are rows of `cohort_members`; db/ reads the role off a cohort
//! row it returned for that person.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CohortRole {
    /// Manages the roster and the code, schedules exams, reads everyone's results.
    Owner,
    /// Joined with the code: sees the cohort, its exams and their own attempts.
    Member,
}

impl CohortRole {
    /// The role of `user` in a cohort owned by `owner` that `user` can see (an outsider never
    /// gets this far: the cohort is not found for them).
    pub fn of(owner: Uuid, user: Uuid) -> CohortRole {
        if owner == user {
            CohortRole::Owner
        } else {
            CohortRole::Member
        }
    }
    pub fn is_owner(self) -> bool {
        self == CohortRole::Owner
    }
    pub const fn as_str(self) -> &'static str {
        match self {
            CohortRole::Owner => "owner",
            CohortRole::Member => "member",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_owner_is_the_cohorts_owner_and_everyone_else_a_member() {
        let (ann, bob) = (Uuid::new_v4(), Uuid::new_v4());
        assert_eq!(CohortRole::of(ann, ann), CohortRole::Owner);
        assert_eq!(CohortRole::of(ann, bob), CohortRole::Member);
        assert!(CohortRole::Owner.is_owner() && !CohortRole::Member.is_owner());
        assert_eq!(
            serde_json::to_value(CohortRole::Member).unwrap(),
            serde_json::json!(CohortRole::Member.as_str())
        );
    }
}
