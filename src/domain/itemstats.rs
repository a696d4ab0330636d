//! Classical item analysis for a cohort exam: facility, point-biserial discrimination and
//! option shares, from each learner's per-item results.

use std::collections::BTreeMap;

/// One learner's answer to one item.
#[derive(Debug, Clone)]
pub struct Response {
    pub learner: usize,
    pub item: usize,
    pub correct: bool,
    pub choices: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ItemStat {
    pub item: usize,
    /// Share of learners who answered it right.
    pub facility: f64,
    /// Point-biserial correlation between the item (0/1) and the learner's total score; None
    /// when everyone scored the same or the item has no variance.
    pub discrimination: Option<f64>,
    /// Option id → share of learners who chose it.
    pub option_shares: BTreeMap<String, f64>,
    /// Negative discrimination: strong learners got it wrong more often than weak ones.
    pub flagged: bool,
}

/// Statistics for `items` items over `learners` learners (every learner has a response per
/// item; a missing response counts as wrong with no choice).
pub fn analyse(
    learners: usize,
    items: usize,
    responses: &[Response],
    options: &BTreeMap<usize, Vec<String>>,
) -> Vec<ItemStat> {
    let mut score = vec![vec![false; items]; learners];
    let mut chose: Vec<Vec<Vec<String>>> = vec![vec![Vec::new(); items]; learners];
    for r in responses {
        if r.learner < learners && r.item < items {
            score[r.learner][r.item] = r.correct;
            chose[r.learner][r.item] = r.choices.clone();
        }
    }
    let totals: Vec<f64> = score
        .iter()
        .map(|s| s.iter().filter(|c| **c).count() as f64)
        .collect();
    let n = learners as f64;
    let mean = totals.iter().sum::<f64>() / n.max(1.0);
    let sd = (totals.iter().map(|t| (t - mean).powi(2)).sum::<f64>() / n.max(1.0)).sqrt();
    (0..items)
        .map(|i| {
            let right: Vec<f64> = (0..learners)
                .filter(|l| score[*l][i])
                .map(|l| totals[l])
                .collect();
            let wrong: Vec<f64> = (0..learners)
                .filter(|l| !score[*l][i])
                .map(|l| totals[l])
                .collect();
            let p = right.len() as f64 / n.max(1.0);
            let discrimination =
                if learners == 0 || sd == 0.0 || right.is_empty() || wrong.is_empty() {
                    None
                } else {
                    let m1 = right.iter().sum::<f64>() / right.len() as f64;
                    let m0 = wrong.iter().sum::<f64>() / wrong.len() as f64;
                    Some((m1 - m0) / sd * (p * (1.0 - p)).sqrt())
                };
            let mut option_shares: BTreeMap<String, f64> = options
                .get(&i)
                .map(|o| o.iter().map(|id| (id.clone(), 0.0)).collect())
                .unwrap_or_default();
            for learner in &chose {
                for c in &learner[i] {
                    *option_shares.entry(c.clone()).or_default() += 1.0 / n;
                }
            }
            ItemStat {
                item: i,
                facility: p,
                discrimination,
                flagged: discrimination.is_some_and(|d| d < 0.0),
                option_shares,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(learner: usize, item: usize, correct: bool, choice: &str) -> Response {
        Response {
            learner,
            item,
            correct,
            choices: vec![choice.to_string()],
        }
    }

    /// Four learners, three items, worked by hand:
    ///
    /// | learner | item 0 | item 1 | item 2 | total |
    /// |---|---|---|---|---|
    /// | 0 | 1 (a) | 1 (c) | 0 (f) | 2 |
    /// | 1 | 1 (a) | 0 (d) | 0 (f) | 1 |
    /// | 2 | 0 (b) | 0 (d) | 1 (e) | 1 |
    /// | 3 | 1 (a) | 1 (c) | 0 (f) | 2 |
    ///
    /// Totals 2,1,1,2: mean 1.5, population sd 0.5.
    /// Item 0: p = 0.75, M1 = (2+1+2)/3 = 5/3, M0 = 1 → r = (2/3)/0.5 × sqrt(0.1875) = 0.57735.
    /// Item 1: p = 0.5, M1 = 2, M0 = 1 → r = 1/0.5 × 0.5 = 1.0.
    /// Item 2: p = 0.25, M1 = 1, M0 = 5/3 → r = −0.57735: flagged.
    #[test]
    fn hand_computed_example() {
        let responses = vec![
            r(0, 0, true, "a"),
            r(0, 1, true, "c"),
            r(0, 2, false, "f"),
            r(1, 0, true, "a"),
            r(1, 1, false, "d"),
            r(1, 2, false, "f"),
            r(2, 0, false, "b"),
            r(2, 1, false, "d"),
            r(2, 2, true, "e"),
            r(3, 0, true, "a"),
            r(3, 1, true, "c"),
            r(3, 2, false, "f"),
        ];
        let options = BTreeMap::from([
            (0, vec!["a".into(), "b".into(), "x".into()]),
            (1, vec!["c".into(), "d".into()]),
            (2, vec!["e".into(), "f".into()]),
        ]);
        let s = analyse(4, 3, &responses, &options);
        assert_eq!(s[0].facility, 0.75);
        assert!((s[0].discrimination.unwrap() - 0.577_350).abs() < 1e-5);
        assert!((s[1].discrimination.unwrap() - 1.0).abs() < 1e-9);
        assert!((s[2].discrimination.unwrap() + 0.577_350).abs() < 1e-5);
        assert!(s[2].flagged && !s[0].flagged && !s[1].flagged);
        assert_eq!(s[0].option_shares["a"], 0.75);
        assert_eq!(s[0].option_shares["b"], 0.25);
        assert_eq!(
            s[0].option_shares["x"], 0.0,
            "an option nobody chose is listed with 0"
        );
        assert_eq!(s[2].option_shares["f"], 0.75);
    }

    #[test]
    fn no_variance_means_no_discrimination() {
        let responses = vec![r(0, 0, true, "a"), r(1, 0, true, "a")];
        let s = analyse(2, 1, &responses, &BTreeMap::new());
        assert_eq!(s[0].facility, 1.0);
        assert_eq!(s[0].discrimination, None);
        assert!(!s[0].flagged);
    }
}
