//! Where each table lives on a Citus cluster (docs/scaling.md §1.1): the classification that
//! `exambank citus-distribute` applies, and the order it applies it in. Every table of the
//! schema must be on this list; a migration that adds a table adds it here.

/// How a table is placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// A full copy on every node, the coordinator included.
    Reference,
    /// Hash-distributed by `column`. `colocate_with` is the table whose shards it shares
    /// (`None`: it starts a co-location group of its own).
    Distributed {
        column: &'static str,
        colocate_with: Option<&'static str>,
    },
    /// Stays an ordinary table on the coordinator (the app connects to the coordinator only).
    CoordinatorLocal,
}

/// Shards per distributed co-location group: 48 divides evenly over 2, 3, 4, 6, 8, 12, 16 or
/// 24 workers.
pub const SHARD_COUNT: i32 = 48;

/// The learners' co-location group is named after this table.
pub const LEARNER_ANCHOR: &str = "attempts";

const BY_LEARNER: Placement = Placement::Distributed {
    column: "user_id",
    colocate_with: Some(LEARNER_ANCHOR),
};

/// Every table, in the order it is distributed: reference tables first (in foreign-key
/// order), then the learners' anchor, the tables co-located with it, and the rest.
pub const TABLES: &[(&str, Placement)] = &[
    ("users", Placement::Reference),
    ("domains", Placement::Reference),
    ("exam_domains", Placement::Reference),
    ("blueprints", Placement::Reference),
    ("questions", Placement::Reference),
    ("question_versions", Placement::Reference),
    ("question_tags", Placement::Reference),
    ("question_reports", Placement::Reference),
    ("bank_cells", Placement::Reference),
    ("cohorts", Placement::Reference),
    ("cohort_members", Placement::Reference),
    ("cohort_exams", Placement::Reference),
    ("cohort_exam_questions", Placement::Reference),
    ("cohort_exam_extensions", Placement::Reference),
    ("readiness_recalibration", Placement::Reference),
    (
        LEARNER_ANCHOR,
        Placement::Distributed {
            column: "user_id",
            colocate_with: None,
        },
    ),
    ("attempt_questions", BY_LEARNER),
    ("user_question_stats", BY_LEARNER),
    ("mastery", BY_LEARNER),
    ("mastery_snapshots", BY_LEARNER),
    ("learner_locks", BY_LEARNER),
    ("refresh_tokens", BY_LEARNER),
    ("web_sessions", BY_LEARNER),
    ("password_resets", BY_LEARNER),
    ("readiness_predictions", BY_LEARNER),
    (
        "idempotency_keys",
        Placement::Distributed {
            column: "scope",
            colocate_with: None,
        },
    ),
    ("rate_limits", Placement::CoordinatorLocal),
    ("_sqlx_migrations", Placement::CoordinatorLocal),
];

/// The functions delegated to the worker that holds a learner's shard: (name, the argument
/// that carries the learner, the table whose shards it follows).
pub const FUNCTIONS: &[(&str, &str, &str)] = &[("save_answer", "p_user", LEARNER_ANCHOR)];

pub fn placement_of(table: &str) -> Option<Placement> {
    TABLES.iter().find(|(t, _)| *t == table).map(|(_, p)| *p)
}

/// The tables of the database that the classification does not name (an error: nothing is
/// distributed until each has a place).
pub fn unclassified(tables: &[String]) -> Vec<&str> {
    tables
        .iter()
        .map(String::as_str)
        .filter(|t| placement_of(t).is_none())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_co_located_table_follows_a_table_placed_before_it() {
        for (i, (table, placement)) in TABLES.iter().enumerate() {
            if let Placement::Distributed {
                colocate_with: Some(anchor),
                column,
            } = placement
            {
                let at = TABLES.iter().position(|(t, _)| t == anchor);
                assert!(
                    matches!(at, Some(j) if j < i),
                    "{table} follows {anchor}, which must come first"
                );
                assert_eq!(
                    placement_of(anchor),
                    Some(Placement::Distributed {
                        column,
                        colocate_with: None
                    }),
                    "{table} and its anchor {anchor} are distributed by the same column"
                );
            }
        }
    }

    #[test]
    fn reference_tables_come_before_distributed_ones_and_names_are_unique() {
        let first_distributed = TABLES
            .iter()
            .position(|(_, p)| matches!(p, Placement::Distributed { .. }))
            .unwrap();
        assert!(TABLES[first_distributed..]
            .iter()
            .all(|(_, p)| *p != Placement::Reference));
        let mut names: Vec<_> = TABLES.iter().map(|(t, _)| *t).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), TABLES.len());
    }

    #[test]
    fn unknown_tables_are_reported() {
        let tables = vec!["users".to_string(), "new_table".to_string()];
        assert_eq!(unclassified(&tables), vec!["new_table"]);
    }
}
