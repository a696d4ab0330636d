//! How many questions an exam takes from each domain and at each difficulty (SPEC §3): shares by
//! the largest-remainder method, with shortfalls redistributed and reported.

use std::collections::BTreeMap;

/// A domain that has fewer questions than its share of the exam (as stored in an attempt's
/// assembly report).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Shortfall {
    pub domain: String,
    /// Its share of the requested total, before redistribution.
    pub wanted: usize,
    /// What the bank has (and what the domain got).
    pub available: usize,
}

/// Questions per domain; `counts` has every domain of `weights`, with 0 where nothing is drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation {
    pub counts: BTreeMap<String, usize>,
    pub shortfalls: Vec<Shortfall>,
}

impl Allocation {
    pub fn total(&self) -> usize {
        self.counts.values().sum()
    }
}

/// Split `total` over domains by relative `weights` (>= 0) with the largest-remainder method,
/// so every domain gets floor or ceil of its exact share. A domain cannot get more than
/// `available[d]`; its shortfall is redistributed over the other domains in proportion to their
/// weights (again largest remainder, repeated until stable) and reported in `shortfalls`. If the
/// whole bank is too small, the total is what exists. Domains with weight 0 or missing from
/// `available` get 0. Deterministic (ties broken by domain name).
pub fn allocate(
    total: usize,
    weights: &BTreeMap<String, f64>,
    available: &BTreeMap<String, usize>,
) -> Allocation {
    let mut counts: BTreeMap<String, usize> = weights.keys().map(|d| (d.clone(), 0)).collect();
    // Domains still taking a share of what is left, in name order.
    let mut open: Vec<(&str, f64)> = weights
        .iter()
        .filter(|(d, w)| w.is_finite() && **w > 0.0 && available.contains_key(*d))
        .map(|(d, w)| (d.as_str(), *w))
        .collect();
    let mut wanted: BTreeMap<&str, usize> = BTreeMap::new();
    let mut shortfalls = Vec::new();
    let mut left = total;
    let mut first_round = true;

    while left > 0 && !open.is_empty() {
        let shares = largest_remainder(left, &open.iter().map(|(_, w)| *w).collect::<Vec<_>>());
        if first_round {
            wanted = open
                .iter()
                .map(|(d, _)| *d)
                .zip(shares.iter().copied())
                .collect();
            first_round = false;
        }
        // Cap every domain whose share exceeds the bank, then split what they leave over the rest.
        let mut capped = false;
        let mut still_open = Vec::with_capacity(open.len());
        for (&(domain, weight), &share) in open.iter().zip(&shares) {
            let have = available[domain];
            if share > have {
                capped = true;
                counts.insert(domain.to_string(), have);
                left -= have;
                // A domain capped only while taking others' overflow got its own share: not short.
                if wanted[domain] > have {
                    shortfalls.push(Shortfall {
                        domain: domain.to_string(),
                        wanted: wanted[domain],
                        available: have,
                    });
                }
            } else {
                still_open.push((domain, weight));
            }
        }
        if !capped {
            for (&(domain, _), &share) in open.iter().zip(&shares) {
                counts.insert(domain.to_string(), share);
            }
            break;
        }
        open = still_open;
    }
    shortfalls.sort_by(|a, b| a.domain.cmp(&b.domain));
    Allocation { counts, shortfalls }
}

/// Difficulty balance for `n` questions: shares 30% / 40% / 30% for difficulty 1/2/3, largest
/// remainder (ties go to the easier level). Returns counts indexed [d1, d2, d3].
pub fn difficulty_split(n: usize) -> [usize; 3] {
    const TENTHS: [usize; 3] = [3, 4, 3];
    let mut counts = TENTHS.map(|t| n * t / 10);
    let remainders = TENTHS.map(|t| n * t % 10);
    let mut order = [0usize, 1, 2];
    // Stable sort: equal remainders keep the easier level first.
    order.sort_by(|&a, &b| remainders[b].cmp(&remainders[a]));
    let left = n - counts.iter().sum::<usize>();
    for &i in order.iter().take(left) {
        counts[i] += 1;
    }
    counts
}

/// Largest-remainder split of `n` by `weights` (all > 0): each gets floor or ceil of
/// `n * w / sum`; the units left over go to the largest fractional parts, earlier index first
/// on ties (callers pass domains in name order).
fn largest_remainder(n: usize, weights: &[f64]) -> Vec<usize> {
    let sum: f64 = weights.iter().sum();
    if weights.is_empty() || sum <= 0.0 {
        return vec![0; weights.len()];
    }
    let exact: Vec<f64> = weights.iter().map(|w| n as f64 * w / sum).collect();
    let mut counts: Vec<usize> = exact.iter().map(|x| (x.floor() as usize).min(n)).collect();
    let given: usize = counts.iter().sum();
    let left = n.saturating_sub(given).min(weights.len());
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| {
        let fa = exact[a] - exact[a].floor();
        let fb = exact[b] - exact[b].floor();
        fb.total_cmp(&fa).then(a.cmp(&b))
    });
    for &i in order.iter().take(left) {
        counts[i] += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn map<T: Copy>(pairs: &[(&str, T)]) -> BTreeMap<String, T> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    fn dva_weights() -> BTreeMap<String, f64> {
        map(&[
            ("iam", 0.15),
            ("ec2", 0.12),
            ("s3", 0.15),
            ("serverless", 0.22),
            ("dynamodb", 0.16),
            ("kms", 0.12),
            ("databases", 0.08),
        ])
    }

    #[test]
    fn dva_c02_shares_of_65() {
        let available = dva_weights().keys().map(|d| (d.clone(), 1000)).collect();
        let a = allocate(65, &dva_weights(), &available);
        assert_eq!(a.total(), 65);
        assert!(a.shortfalls.is_empty());
        // Exact shares: 9.75 7.8 9.75 14.3 10.4 7.8 5.2; floors sum to 61, the 4 largest
        // remainders (0.8, 0.8, 0.75, 0.75; ties by name) get one more.
        let expected = map(&[
            ("databases", 5),
            ("dynamodb", 10),
            ("ec2", 8),
            ("iam", 10),
            ("kms", 8),
            ("s3", 10),
            ("serverless", 14),
        ]);
        assert_eq!(a.counts, expected);
    }

    #[test]
    fn ties_are_broken_by_name() {
        let weights = map(&[("b", 1.0), ("a", 1.0), ("c", 1.0)]);
        let available = map(&[("a", 9), ("b", 9), ("c", 9)]);
        let a = allocate(2, &weights, &available);
        assert_eq!(a.counts, map(&[("a", 1), ("b", 1), ("c", 0)]));
    }

    #[test]
    fn shortfall_is_redistributed_by_weight_and_reported() {
        let weights = map(&[("a", 0.5), ("b", 0.3), ("c", 0.2)]);
        let available = map(&[("a", 2), ("b", 100), ("c", 100)]);
        let a = allocate(20, &weights, &available);
        assert_eq!(a.total(), 20);
        // a wanted 10, has 2; the 8 left over go to b and c 3:2 on top of their 6 and 4.
        assert_eq!(a.counts, map(&[("a", 2), ("b", 11), ("c", 7)]));
        assert_eq!(
            a.shortfalls,
            vec![Shortfall {
                domain: "a".into(),
                wanted: 10,
                available: 2
            }]
        );
    }

    #[test]
    fn cascading_shortfalls_settle() {
        let weights = map(&[("a", 0.6), ("b", 0.3), ("c", 0.1)]);
        let available = map(&[("a", 1), ("b", 3), ("c", 100)]);
        let a = allocate(10, &weights, &available);
        assert_eq!(a.counts, map(&[("a", 1), ("b", 3), ("c", 6)]));
        let short: Vec<_> = a.shortfalls.iter().map(|s| s.domain.as_str()).collect();
        // b gave up no question of its own share (3 of 3), so only a is short.
        assert_eq!(short, ["a"]);
    }

    #[test]
    fn small_bank_gives_what_exists() {
        let weights = map(&[("a", 1.0), ("b", 1.0)]);
        let available = map(&[("a", 3), ("b", 4)]);
        let a = allocate(65, &weights, &available);
        assert_eq!(a.counts, map(&[("a", 3), ("b", 4)]));
        assert_eq!(a.shortfalls.len(), 2);
    }

    #[test]
    fn zero_weight_and_unknown_domains_get_nothing() {
        let weights = map(&[("a", 1.0), ("b", 0.0), ("c", 1.0)]);
        let available = map(&[("a", 50), ("b", 50)]);
        let a = allocate(10, &weights, &available);
        assert_eq!(a.counts, map(&[("a", 10), ("b", 0), ("c", 0)]));
        assert!(a.shortfalls.is_empty());
        assert_eq!(allocate(0, &weights, &available).total(), 0);
        assert_eq!(allocate(10, &BTreeMap::new(), &available).total(), 0);
    }

    #[test]
    fn difficulty_split_is_30_40_30() {
        assert_eq!(difficulty_split(0), [0, 0, 0]);
        assert_eq!(difficulty_split(1), [0, 1, 0]);
        assert_eq!(difficulty_split(2), [1, 1, 0]);
        assert_eq!(difficulty_split(10), [3, 4, 3]);
        assert_eq!(difficulty_split(14), [4, 6, 4]);
        assert_eq!(difficulty_split(65), [20, 26, 19]);
        for n in 0..500 {
            let s = difficulty_split(n);
            assert_eq!(s.iter().sum::<usize>(), n);
            for (count, tenths) in s.iter().zip([3, 4, 3]) {
                let exact = (n * tenths) as f64 / 10.0;
                assert!((*count as f64 - exact).abs() < 1.0, "{n}: {s:?}");
            }
        }
    }

    fn bank() -> impl Strategy<Value = (usize, BTreeMap<String, f64>, BTreeMap<String, usize>)> {
        let domain = prop_oneof![
            Just("a"),
            Just("b"),
            Just("c"),
            Just("d"),
            Just("e"),
            Just("f"),
            Just("g")
        ];
        (
            0usize..200,
            prop::collection::btree_map(domain.clone(), prop_oneof![Just(0.0), 0.0..1.0f64], 0..7),
            prop::collection::btree_map(domain, 0usize..60, 0..7),
        )
            .prop_map(|(total, w, a)| {
                let w = w.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
                let a = a.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
                (total, w, a)
            })
    }

    proptest! {
        #[test]
        fn allocation_properties((total, weights, available) in bank()) {
            let a = allocate(total, &weights, &available);
            let eligible: Vec<&String> = weights
                .iter()
                .filter(|(d, w)| **w > 0.0 && available.contains_key(*d))
                .map(|(d, _)| d)
                .collect();
            let bank: usize = eligible.iter().map(|d| available[*d]).sum();
            prop_assert_eq!(a.total(), total.min(bank));
            prop_assert_eq!(a.counts.len(), weights.len());
            for (d, n) in &a.counts {
                prop_assert!(*n <= available.get(d).copied().unwrap_or(0));
                if !eligible.contains(&d) {
                    prop_assert_eq!(*n, 0);
                }
            }
            if a.shortfalls.is_empty() {
                let sum: f64 = eligible.iter().map(|d| weights[*d]).sum();
                for d in &eligible {
                    let exact = total as f64 * weights[*d] / sum;
                    prop_assert!((a.counts[*d] as f64 - exact).abs() < 1.0 + 1e-9,
                        "{} got {} for exact share {}", d, a.counts[*d], exact);
                }
            }
            for s in &a.shortfalls {
                prop_assert!(s.wanted > s.available);
                prop_assert_eq!(a.counts[&s.domain], s.available);
            }
        }

        #[test]
        fn allocation_is_deterministic((total, weights, available) in bank()) {
            prop_assert_eq!(
                allocate(total, &weights, &available),
                allocate(total, &weights, &available)
            );
        }
    }
}
