//! Time rules of attempts: the grace window after a deadline, the time left, a cohort exam's
//! window (with a learner's extension) and a cohort attempt's deadline.

use chrono::{DateTime, Duration, Utc};

/// Answers are accepted this long after the deadline (network latency, clock skew).
pub const GRACE_SECS: i64 = 5;

/// Past the deadline and its grace window: answers are refused and the attempt is final.
/// At exactly deadline + grace an answer still counts.
pub fn past_deadline(deadline: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    deadline.is_some_and(|d| now > d + Duration::seconds(GRACE_SECS))
}

/// Whole seconds left before the deadline (never negative); None when untimed.
pub fn remaining_seconds(deadline: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Option<i64> {
    deadline.map(|d| (d - now).num_seconds().max(0))
}

/// Finalized at or after its deadline (by the sweeper, a late read, or the page's own submit
/// at zero inside the grace window): time ran out, the attempt is `expired`.
pub fn ran_out(deadline: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    deadline.is_some_and(|d| now >= d)
}

/// A cohort exam's opening and closing time.
pub trait ExamWindow {
    fn opens_at(&self) -> DateTime<Utc>;
    fn closes_at(&self) -> DateTime<Utc>;
}

/// Where a cohort exam's window stands for one learner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    Upcoming,
    Open,
    Closed,
}

impl Window {
    /// Open from the opening time to the closing time plus the learner's extension, both ends
    /// included.
    pub fn at(now: DateTime<Utc>, exam: &impl ExamWindow, extension_minutes: i32) -> Window {
        if now < exam.opens_at() {
            Window::Upcoming
        } else if now > exam.closes_at() + Duration::minutes(extension_minutes.into()) {
            Window::Closed
        } else {
            Window::Open
        }
    }
}

/// A cohort attempt's deadline: the time limit from the start, or the window's end if that is
/// earlier; an extension moves both.
pub fn deadline(
    started: DateTime<Utc>,
    limit_minutes: Option<i32>,
    closes_at: DateTime<Utc>,
    extension_minutes: i32,
) -> DateTime<Utc> {
    let ext = Duration::minutes(extension_minutes.into());
    let by_window = closes_at + ext;
    match limit_minutes {
        Some(m) => (started + Duration::minutes(m.into()) + ext).min(by_window),
        None => by_window,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Exam(DateTime<Utc>, DateTime<Utc>);
    impl ExamWindow for Exam {
        fn opens_at(&self) -> DateTime<Utc> {
            self.0
        }
        fn closes_at(&self) -> DateTime<Utc> {
            self.1
        }
    }

    #[test]
    fn the_grace_window_includes_its_last_instant() {
        let d = Utc::now();
        assert!(!past_deadline(None, d + Duration::days(365)));
        assert!(!past_deadline(Some(d), d));
        assert!(!past_deadline(Some(d), d + Duration::seconds(GRACE_SECS)));
        assert!(past_deadline(
            Some(d),
            d + Duration::seconds(GRACE_SECS) + Duration::milliseconds(1)
        ));
        // inside the grace window time has run out: the attempt finalizes as expired
        assert!(!ran_out(Some(d), d - Duration::milliseconds(1)));
        assert!(ran_out(Some(d), d));
        assert!(!ran_out(None, d));
    }

    #[test]
    fn remaining_seconds_stop_at_zero() {
        let now = Utc::now();
        assert_eq!(remaining_seconds(None, now), None);
        assert_eq!(
            remaining_seconds(Some(now + Duration::seconds(90)), now),
            Some(90)
        );
        assert_eq!(
            remaining_seconds(Some(now - Duration::seconds(90)), now),
            Some(0)
        );
    }

    #[test]
    fn a_window_is_open_between_its_ends_plus_the_extension() {
        let opens = Utc::now();
        let closes = opens + Duration::minutes(60);
        let exam = Exam(opens, closes);
        let ms = Duration::milliseconds;
        assert_eq!(Window::at(opens - ms(1), &exam, 0), Window::Upcoming);
        assert_eq!(Window::at(opens, &exam, 0), Window::Open);
        assert_eq!(Window::at(closes, &exam, 0), Window::Open);
        assert_eq!(Window::at(closes + ms(1), &exam, 0), Window::Closed);
        // an extension keeps it open for that learner, and does not open it early
        assert_eq!(Window::at(closes + ms(1), &exam, 10), Window::Open);
        assert_eq!(
            Window::at(closes + Duration::minutes(10) + ms(1), &exam, 10),
            Window::Closed
        );
        assert_eq!(Window::at(opens - ms(1), &exam, 10), Window::Upcoming);
    }

    #[test]
    fn deadline_is_the_earlier_of_limit_and_window_plus_extension() {
        let start = Utc::now();
        let closes = start + Duration::minutes(60);
        assert_eq!(
            deadline(start, Some(30), closes, 0),
            start + Duration::minutes(30)
        );
        assert_eq!(deadline(start, Some(90), closes, 0), closes);
        assert_eq!(deadline(start, None, closes, 0), closes);
        assert_eq!(
            deadline(start, Some(90), closes, 15),
            closes + Duration::minutes(15)
        );
        assert_eq!(
            deadline(start, Some(30), closes, 10),
            start + Duration::minutes(40)
        );
    }
}
