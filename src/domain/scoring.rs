//! Scoring an attempt (SPEC §3): all-or-nothing items, a linear 100–1000 scaled score, and a
//! per-domain verdict like the real score report.

use std::collections::{BTreeMap, BTreeSet};

pub const MEETS: &str = "meets competencies";
pub const NEEDS_IMPROVEMENT: &str = "needs improvement";

/// All-or-nothing: correct iff the set of choices equals the set of correct option ids
/// (order and repeats do not matter; a question without a correct option is never answered
/// correctly).
pub fn is_correct(correct_ids: &[String], choices: &[String]) -> bool {
    let correct: BTreeSet<&String> = correct_ids.iter().collect();
    let chosen: BTreeSet<&String> = choices.iter().collect();
    !correct.is_empty() && correct == chosen
}

/// Linear 100..=1000 from the raw fraction: 100 + 900 * correct / total, rounded (half up);
/// 100 when total == 0.
pub fn scaled_score(correct: usize, total: usize) -> i32 {
    if total == 0 {
        return 100;
    }
    let correct = correct.min(total) as u64;
    let total = total as u64;
    // round(900 c / t) = floor((1800 c + t) / 2t), in integers.
    100 + ((1800 * correct + total) / (2 * total)) as i32
}

#[derive(Debug, Clone, PartialEq)]
pub struct DomainResult {
    pub domain: String,
    pub correct: usize,
    pub total: usize,
    /// 0..=100.
    pub percent: f64,
    pub verdict: &'static str,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScoreResult {
    pub correct: usize,
    pub total: usize,
    /// 0..=100.
    pub percent: f64,
    pub scaled_score: i32,
    pub passed: bool,
    pub domains: Vec<DomainResult>,
}

/// The score report's per-domain rule: "meets competencies" when the domain's questions alone,
/// scored like the whole exam (linear in the raw share), would reach the pass mark.
pub fn meets(correct: usize, total: usize, pass_mark: i32) -> bool {
    total > 0 && scaled_score(correct, total) >= pass_mark
}

/// items: (domain, answered correctly). pass_mark is on the scaled scale (720 for dva-c02).
/// Per-domain verdict "meets competencies" when the domain's scaled score would reach the pass
/// mark, else "needs improvement" (like the real score report). Domains sorted by name.
pub fn score(items: &[(String, bool)], pass_mark: i32) -> ScoreResult {
    let mut per_domain: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (domain, correct) in items {
        let entry = per_domain.entry(domain.as_str()).or_default();
        entry.0 += usize::from(*correct);
        entry.1 += 1;
    }
    let domains = per_domain
        .into_iter()
        .map(|(domain, (correct, total))| DomainResult {
            domain: domain.to_string(),
            correct,
            total,
            percent: percent(correct, total),
            verdict: if meets(correct, total, pass_mark) {
                MEETS
            } else {
                NEEDS_IMPROVEMENT
            },
        })
        .collect();
    let correct = items.iter().filter(|(_, c)| *c).count();
    let total = items.len();
    let scaled = scaled_score(correct, total);
    ScoreResult {
        correct,
        total,
        percent: percent(correct, total),
        scaled_score: scaled,
        passed: scaled >= pass_mark,
        domains,
    }
}

fn percent(correct: usize, total: usize) -> f64 {
    if total == 0 {
        0.0
    } else {
        100.0 * correct as f64 / total as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn single_and_multiple_response_are_all_or_nothing() {
        assert!(is_correct(&ids(&["b"]), &ids(&["b"])));
        assert!(!is_correct(&ids(&["b"]), &ids(&["a"])));
        assert!(!is_correct(&ids(&["b"]), &ids(&["a", "b"])));
        assert!(!is_correct(&ids(&["b"]), &[]));
        assert!(is_correct(&ids(&["a", "c"]), &ids(&["c", "a"])));
        assert!(is_correct(&ids(&["a", "c"]), &ids(&["c", "a", "a"])));
        assert!(!is_correct(&ids(&["a", "c"]), &ids(&["a"])));
        assert!(!is_correct(&ids(&["a", "c"]), &ids(&["a", "c", "d"])));
        assert!(!is_correct(&[], &[]));
    }

    #[test]
    fn scaled_score_is_linear_and_rounded() {
        assert_eq!(scaled_score(0, 0), 100);
        assert_eq!(scaled_score(0, 65), 100);
        assert_eq!(scaled_score(65, 65), 1000);
        assert_eq!(scaled_score(1, 2), 550);
        // 100 + 900 * 45 / 65 = 723.08; 44 of 65 = 709.2: 45 is the first passing raw score.
        assert_eq!(scaled_score(45, 65), 723);
        assert_eq!(scaled_score(44, 65), 709);
        // 100 + 900 / 8 = 212.5 rounds half up.
        assert_eq!(scaled_score(1, 8), 213);
        assert_eq!(scaled_score(9, 5), 1000, "correct is capped at total");
    }

    #[test]
    fn score_reports_domains_and_verdicts() {
        let mut items = Vec::new();
        for i in 0..10 {
            items.push(("s3".to_string(), i < 9));
            items.push(("kms".to_string(), i < 5));
        }
        let r = score(&items, 720);
        assert_eq!((r.correct, r.total), (14, 20));
        assert_eq!(r.percent, 70.0);
        assert_eq!(r.scaled_score, 730);
        assert!(r.passed);
        let names: Vec<_> = r.domains.iter().map(|d| d.domain.as_str()).collect();
        assert_eq!(names, ["kms", "s3"]);
        assert_eq!(r.domains[0].verdict, NEEDS_IMPROVEMENT);
        assert_eq!(r.domains[0].percent, 50.0);
        assert_eq!(r.domains[1].verdict, MEETS);
        assert_eq!((r.domains[1].correct, r.domains[1].total), (9, 10));
    }

    #[test]
    fn empty_attempt_fails_with_100() {
        let r = score(&[], 720);
        assert_eq!((r.correct, r.total, r.scaled_score), (0, 0, 100));
        assert!(!r.passed);
        assert!(r.domains.is_empty());
        assert_eq!(r.percent, 0.0);
    }

    proptest! {
        #[test]
        fn scaled_score_is_monotone_and_bounded(total in 0usize..500, a in 0usize..500, b in 0usize..500) {
            let (lo, hi) = (a.min(b).min(total), a.max(b).min(total));
            let (s_lo, s_hi) = (scaled_score(lo, total), scaled_score(hi, total));
            prop_assert!((100..=1000).contains(&s_lo));
            prop_assert!((100..=1000).contains(&s_hi));
            prop_assert!(s_lo <= s_hi);
            if total > 0 {
                let exact = 100.0 + 900.0 * hi as f64 / total as f64;
                prop_assert!((s_hi as f64 - exact).abs() <= 0.5);
            }
        }

        #[test]
        fn score_totals_add_up(items in prop::collection::vec(("[a-d]", any::<bool>()), 0..80)) {
            let r = score(&items, 720);
            prop_assert_eq!(r.total, items.len());
            prop_assert_eq!(r.domains.iter().map(|d| d.total).sum::<usize>(), r.total);
            prop_assert_eq!(r.domains.iter().map(|d| d.correct).sum::<usize>(), r.correct);
            prop_assert_eq!(r.passed, r.scaled_score >= 720);
        }
    }
}
