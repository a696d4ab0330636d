//! Spaced repetition of answered questions with FSRS (the `fsrs` crate, default parameters,
//! desired retention 0.9). An answer becomes an FSRS rating from its correctness and its time.

use fsrs::{MemoryState, FSRS};

/// Retention FSRS schedules for: a card is due when recall has fallen to 90%.
pub const DESIRED_RETENTION: f32 = 0.9;
/// Slower than this (and right) is "Hard": the answer took effort.
pub const HARD_AFTER_MS: i64 = 90_000;
/// Faster than this (and right) is "Easy".
pub const EASY_BELOW_MS: i64 = 20_000;

pub const AGAIN: u32 = 1;
pub const HARD: u32 = 2;
pub const GOOD: u32 = 3;
pub const EASY: u32 = 4;

/// Longest interval handed out (100 years): keeps `due_at` arithmetic far from overflow.
const MAX_INTERVAL_DAYS: f64 = 36_500.0;

/// FSRS state of one learner × question.
#[derive(Debug, Clone, PartialEq)]
pub struct CardState {
    pub stability: f64,
    pub difficulty: f64,
    /// Days from this review to the next (fractional: an "Again" is due within the day).
    pub due_in_days: f64,
    pub reps: i32,
    pub lapses: i32,
}

/// Rating from correctness and time: wrong → Again; correct and slow (> 90 s) → Hard;
/// correct in 20–90 s → Good; correct in < 20 s → Easy. Returns 1..=4 (FSRS ratings).
pub fn rating(correct: bool, time_spent_ms: i64) -> u32 {
    match (correct, time_spent_ms) {
        (false, _) => AGAIN,
        (true, t) if t > HARD_AFTER_MS => HARD,
        (true, t) if t >= EASY_BELOW_MS => GOOD,
        (true, _) => EASY,
    }
}

/// Next state after a review. `previous` None for a first review; `elapsed_days` since the last
/// (rounded to whole days, as FSRS counts them). `lapses` counts wrong answers after the first
/// review.
pub fn next_state(
    previous: Option<&CardState>,
    elapsed_days: f64,
    correct: bool,
    time_spent_ms: i64,
) -> CardState {
    let fsrs = FSRS::default();
    let memory = previous.map(|c| MemoryState {
        stability: finite_or(c.stability, 1.0).clamp(0.001, MAX_INTERVAL_DAYS) as f32,
        difficulty: finite_or(c.difficulty, 5.0).clamp(1.0, 10.0) as f32,
    });
    let days = finite_or(elapsed_days, 0.0)
        .clamp(0.0, MAX_INTERVAL_DAYS)
        .round() as u32;
    // With default parameters and sane inputs FSRS cannot fail; if a stored state still makes it
    // fail, start the card over rather than lose the answer.
    let next = fsrs
        .next_states(memory, DESIRED_RETENTION, days)
        .or_else(|_| fsrs.next_states(None, DESIRED_RETENTION, 0))
        .expect("FSRS accepts a new card with default parameters");
    let chosen = match rating(correct, time_spent_ms) {
        AGAIN => next.again,
        HARD => next.hard,
        GOOD => next.good,
        _ => next.easy,
    };
    let (reps, lapses) = previous.map_or((0, 0), |c| (c.reps, c.lapses));
    CardState {
        stability: f64::from(chosen.memory.stability),
        difficulty: f64::from(chosen.memory.difficulty),
        due_in_days: f64::from(chosen.interval).clamp(0.0, MAX_INTERVAL_DAYS),
        reps: reps.saturating_add(1),
        lapses: lapses.saturating_add(i32::from(previous.is_some() && !correct)),
    }
}

fn finite_or(x: f64, fallback: f64) -> f64 {
    if x.is_finite() {
        x
    } else {
        fallback
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rating_from_correctness_and_time() {
        assert_eq!(rating(false, 5_000), AGAIN);
        assert_eq!(rating(false, 500_000), AGAIN);
        assert_eq!(rating(true, 90_001), HARD);
        assert_eq!(rating(true, 90_000), GOOD);
        assert_eq!(rating(true, 20_000), GOOD);
        assert_eq!(rating(true, 19_999), EASY);
        assert_eq!(rating(true, 0), EASY);
    }

    #[test]
    fn a_wrong_answer_is_due_sooner_than_a_right_one() {
        let first_wrong = next_state(None, 0.0, false, 30_000);
        let first_right = next_state(None, 0.0, true, 30_000);
        assert!(first_wrong.due_in_days < first_right.due_in_days);
        let card = next_state(Some(&first_right), first_right.due_in_days, true, 30_000);
        let wrong = next_state(Some(&card), card.due_in_days, false, 30_000);
        let right = next_state(Some(&card), card.due_in_days, true, 30_000);
        assert!(wrong.due_in_days < right.due_in_days, "{wrong:?} {right:?}");
        assert!(wrong.stability < right.stability);
        // Slow is sooner than steady, steady sooner than fast.
        let [hard, good, easy] = [120_000, 45_000, 10_000]
            .map(|ms| next_state(Some(&card), card.due_in_days, true, ms).due_in_days);
        assert!(hard < good && good < easy, "{hard} {good} {easy}");
    }

    #[test]
    fn repeated_right_answers_push_the_due_date_out() {
        let mut card = next_state(None, 0.0, true, 30_000);
        let mut intervals = vec![card.due_in_days];
        for _ in 0..6 {
            card = next_state(Some(&card), card.due_in_days.round(), true, 30_000);
            intervals.push(card.due_in_days);
        }
        assert!(intervals.windows(2).all(|w| w[1] > w[0]), "{intervals:?}");
        assert!(intervals[6] > 60.0, "{intervals:?}");
        assert_eq!((card.reps, card.lapses), (7, 0));
    }

    #[test]
    fn lapses_count_wrong_answers_after_the_first() {
        let mut card = next_state(None, 0.0, false, 30_000);
        assert_eq!((card.reps, card.lapses), (1, 0));
        for (i, correct) in [true, false, true, false].into_iter().enumerate() {
            card = next_state(Some(&card), 1.0, correct, 30_000);
            assert_eq!(card.reps, i as i32 + 2);
        }
        assert_eq!(card.lapses, 2);
    }

    #[test]
    fn bad_stored_state_still_schedules() {
        let bad = CardState {
            stability: f64::NAN,
            difficulty: 99.0,
            due_in_days: 0.0,
            reps: 3,
            lapses: 0,
        };
        let next = next_state(Some(&bad), -4.0, true, 30_000);
        assert!(next.due_in_days.is_finite() && next.due_in_days > 0.0);
        assert!((1.0..=10.0).contains(&next.difficulty));
        assert_eq!(next.reps, 4);
    }
}
