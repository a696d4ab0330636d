//! Cohorts: instructors' classes and learners' study groups, joined with a code; cohort exams
//! with one fixed question set, a window, one start per member and per-learner extensions.
//!
//! Powers: the owner (an instructor, or a learner who organises a study group) manages the
//! roster and the join code and schedules cohort exams. Members see the cohort, its exams and
//! their own attempts. Everyone else gets 404 for everything of the cohort.
//!
//! By job: `membership` (cohorts, roster, join code), `exams` (scheduling, windows, deadlines,
//! extensions), `prepare` (members' attempts built ahead of the opening), `start` (a member's
//! one start), `results` (the owner's results and CSV) and `mastery` (the group's weak areas).

use crate::error::AppError;

mod exams;
mod mastery;
mod membership;
mod prepare;
mod results;
mod start;

pub use crate::db::cohorts::{CohortRow, ExamItemRow, ExamRow, LearnerResultRow, MemberRow};
pub(crate) use exams::exam_views_in;
pub use exams::{deadline, exam_views, exams, extend, extensions, schedule, ExamView, Window};
pub use mastery::{
    group_mastery, group_mastery_of, GroupArea, GroupMastery, MemberArea, PASS_SHARE,
};
pub use membership::{
    create, get, join, list, members, new_code, owned, remove_member, rotate_code, set_leaderboard,
};
pub use prepare::prepare_due;
pub use results::{
    csv_field, owned_attempt_result, results, results_csv, ExamResults, ItemResult, LearnerResult,
};
pub use start::{start, start_state};

fn not_found() -> AppError {
    AppError::NotFound("no such cohort".into())
}
