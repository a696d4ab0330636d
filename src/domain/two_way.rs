//! Two-way allocation for exam assembly (issue 14): how many questions a form takes from each
//! cell (exam domain × topic area). Every exam domain gets exactly its largest-remainder quota;
//! the topic areas get as close to theirs as the bank allows (least total deviation, then the
//! most even deviations); no cell gets more than it has; ties and rounding vary between draws.
//!
//! Quotas are split as in [`super::assembly::allocate`] (largest remainder; a row or column
//! with too few questions keeps what it has and its shortfall is redistributed by weight), but
//! ties between equal remainders are broken at random. The cells then come from a small
//! min-cost flow (source → exam domain → cell → area → sink) with convex costs, solved by
//! successive shortest paths one question at a time; its costs are, in strict priority order,
//! the total deviation of the areas from their quotas, the sum of squared deviations, and the
//! distance of each cell from a randomly jittered proportional (IPF) split. See
//! docs/measurement.md.

use std::collections::BTreeMap;

use rand::Rng;

/// The wanted and allocated count of one exam domain or topic area.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Margin {
    pub name: String,
    /// Largest-remainder share of the requested total (0 for a weight of 0).
    pub wanted: usize,
    /// Share after shortfalls elsewhere were redistributed (for an exam domain this is what
    /// it gets; for an area what the cells aim at).
    pub target: usize,
    /// Questions allocated.
    pub allocated: usize,
    /// Questions the bank has for it (in cells whose exam domain and area both have weight).
    pub available: usize,
}

impl Margin {
    /// Questions wanted but not allocated.
    pub fn shortfall(&self) -> usize {
        self.wanted.saturating_sub(self.allocated)
    }

    /// |allocated − wanted|.
    pub fn deviation(&self) -> usize {
        self.allocated.abs_diff(self.wanted)
    }
}

/// Result of [`allocate_two_way`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwoWay {
    /// Questions per (exam domain, area); only cells with at least one question are listed.
    pub cells: BTreeMap<(String, String), usize>,
    /// One per exam domain of the weights, in name order.
    pub exam_domains: Vec<Margin>,
    /// One per area of the weights, in name order.
    pub areas: Vec<Margin>,
}

impl TwoWay {
    /// Questions allocated in all.
    pub fn total(&self) -> usize {
        self.cells.values().sum()
    }
}

/// Split `n` questions over the cells of `available` ((exam domain, area) → questions the bank
/// has, e.g. minus exclusions), by relative `exam_weights` and `area_weights` (≥ 0, any sum).
///
/// - Each exam domain gets exactly its largest-remainder share of `n`; one with too few
///   questions gets all it has and the rest goes to the others by weight (reported as its
///   shortfall). If the whole bank is too small, everything is taken.
/// - Each area gets as close to its largest-remainder share as the cells allow: the sum of
///   absolute deviations is minimal, then the sum of squared deviations.
/// - No cell exceeds its availability; cells whose exam domain or area has no (or zero)
///   weight are not used.
/// - `rng` breaks ties between equal remainders and jitters the proportional split within the
///   rows and columns, so repeated draws give different (equally good) allocations.
pub fn allocate_two_way<R: Rng + ?Sized>(
    n: usize,
    exam_weights: &BTreeMap<String, f64>,
    area_weights: &BTreeMap<String, f64>,
    available: &BTreeMap<(String, String), usize>,
    rng: &mut R,
) -> TwoWay {
    let rows: Vec<&String> = exam_weights.keys().collect();
    let cols: Vec<&String> = area_weights.keys().collect();
    let usable = |w: f64| w.is_finite() && w > 0.0;
    let mut cap = vec![vec![0usize; cols.len()]; rows.len()];
    for (d, row) in rows.iter().enumerate() {
        for (a, col) in cols.iter().enumerate() {
            if usable(exam_weights[*row]) && usable(area_weights[*col]) {
                cap[d][a] = available
                    .get(&((*row).clone(), (*col).clone()))
                    .copied()
                    .unwrap_or(0);
            }
        }
    }
    let row_available: Vec<usize> = cap.iter().map(|r| r.iter().sum()).collect();
    let col_available: Vec<usize> = (0..cols.len())
        .map(|a| cap.iter().map(|r| r[a]).sum())
        .collect();
    let row_weights: Vec<f64> = exam_weights.values().copied().collect();
    let col_weights: Vec<f64> = area_weights.values().copied().collect();
    let (row_target, row_wanted) = quotas(n, &row_weights, &row_available, rng);
    let (col_target, col_wanted) = quotas(n, &col_weights, &col_available, rng);

    let mut proportional = proportional_split(&cap, &row_target, &col_target);
    for (d, row) in proportional.iter_mut().enumerate() {
        for (a, m) in row.iter_mut().enumerate() {
            if cap[d][a] > 0 {
                *m += rng.gen::<f64>() - 0.5;
            }
        }
    }
    let x = transport(&cap, &row_target, &col_target, &proportional);

    let mut cells = BTreeMap::new();
    for (d, row) in rows.iter().enumerate() {
        for (a, col) in cols.iter().enumerate() {
            if x[d][a] > 0 {
                cells.insert(((*row).clone(), (*col).clone()), x[d][a]);
            }
        }
    }
    let margins =
        |names: &[&String], wanted: &[usize], target: &[usize], got: Vec<usize>, have: &[usize]| {
            names
                .iter()
                .enumerate()
                .map(|(k, name)| Margin {
                    name: (*name).clone(),
                    wanted: wanted[k],
                    target: target[k],
                    allocated: got[k],
                    available: have[k],
                })
                .collect()
        };
    let row_got = x.iter().map(|r| r.iter().sum()).collect();
    let col_got = (0..cols.len())
        .map(|a| x.iter().map(|r| r[a]).sum())
        .collect();
    TwoWay {
        cells,
        exam_domains: margins(&rows, &row_wanted, &row_target, row_got, &row_available),
        areas: margins(&cols, &col_wanted, &col_target, col_got, &col_available),
    }
}

/// Largest-remainder split of `total` by `weights` with caps `available`, as
/// `assembly::allocate` (capped entries keep what they have, the rest is split again over the
/// others), but with ties between equal remainders broken at random. Returns (counts, first
/// round shares).
fn quotas<R: Rng + ?Sized>(
    total: usize,
    weights: &[f64],
    available: &[usize],
    rng: &mut R,
) -> (Vec<usize>, Vec<usize>) {
    let mut counts = vec![0; weights.len()];
    let mut wanted = vec![0; weights.len()];
    let mut open: Vec<usize> = (0..weights.len())
        .filter(|k| weights[*k].is_finite() && weights[*k] > 0.0)
        .collect();
    let mut left = total;
    let mut first_round = true;
    while left > 0 && !open.is_empty() {
        let sum: f64 = open.iter().map(|k| weights[*k]).sum();
        let exact: Vec<f64> = open
            .iter()
            .map(|k| left as f64 * weights[*k] / sum)
            .collect();
        let mut shares: Vec<usize> = exact
            .iter()
            .map(|x| (x.floor() as usize).min(left))
            .collect();
        let spare = left.saturating_sub(shares.iter().sum()).min(open.len());
        // Largest fractional part first; remainders equal to 1e-9 are tied and shuffled.
        let mut order: Vec<(i64, u64, usize)> = exact
            .iter()
            .enumerate()
            .map(|(i, x)| (-((x - x.floor()) * 1e9).round() as i64, rng.gen::<u64>(), i))
            .collect();
        order.sort_unstable();
        for &(_, _, i) in order.iter().take(spare) {
            shares[i] += 1;
        }
        if first_round {
            for (k, share) in open.iter().zip(&shares) {
                wanted[*k] = *share;
            }
            first_round = false;
        }
        let mut still_open = Vec::with_capacity(open.len());
        let mut capped = false;
        for (&k, &share) in open.iter().zip(&shares) {
            if share > available[k] {
                capped = true;
                counts[k] = available[k];
                left -= available[k];
            } else {
                still_open.push(k);
            }
        }
        if !capped {
            for (&k, &share) in open.iter().zip(&shares) {
                counts[k] = share;
            }
            break;
        }
        open = still_open;
    }
    (counts, wanted)
}

/// Iterative proportional fitting of the availability table to the row and column targets:
/// the split each cell would get if every row and area took its questions in proportion to
/// what the bank has (approximate when the targets cannot be met exactly).
fn proportional_split(cap: &[Vec<usize>], rows: &[usize], cols: &[usize]) -> Vec<Vec<f64>> {
    let mut m: Vec<Vec<f64>> = cap
        .iter()
        .map(|r| r.iter().map(|c| *c as f64).collect())
        .collect();
    let width = cols.len();
    for _ in 0..100 {
        for (row, target) in m.iter_mut().zip(rows) {
            let sum: f64 = row.iter().sum();
            if sum > 0.0 {
                row.iter_mut().for_each(|v| *v *= *target as f64 / sum);
            }
        }
        for (a, target) in cols.iter().enumerate().take(width) {
            let sum: f64 = m.iter().map(|r| r[a]).sum();
            if sum > 0.0 {
                m.iter_mut().for_each(|r| r[a] *= *target as f64 / sum);
            }
        }
    }
    m
}

/// An arc of the flow network and what its cost depends on.
#[derive(Clone, Copy)]
enum Arc {
    /// Source → exam domain (capacity: its quota, no cost).
    Row,
    /// Exam domain `d` → area `a` (capacity: the cell's availability).
    Cell(usize, usize),
    /// Area `a` → sink (no capacity limit; convex cost around its target).
    Col(usize),
}

/// Cells with row sums exactly `rows` (feasible by construction: every row quota is at most
/// the row's availability), cells within `cap`, and minimal cost: first Σ |col − target|, then
/// Σ (col − target)², then Σ (cell − proportional)². Successive shortest paths (Bellman–Ford,
/// one unit at a time) on convex arc costs, so costs may be negative but no residual cycle is.
fn transport(
    cap: &[Vec<usize>],
    rows: &[usize],
    cols: &[usize],
    proportional: &[Vec<f64>],
) -> Vec<Vec<usize>> {
    let (nd, na) = (rows.len(), cols.len());
    let total: usize = rows.iter().sum();
    let mut x = vec![vec![0usize; na]; nd];
    if total == 0 {
        return x;
    }
    // Strict priorities: the largest possible total of a lower term is below one unit of the
    // term above it.
    let cells = (nd * na) as i128;
    let n = total as i128;
    let tertiary_scale: i128 = 1000;
    let secondary: i128 = tertiary_scale * (2 * n + cells + 2).pow(2) + 1;
    let primary: i128 = secondary * (4 * (n + 2).pow(2) + 1);
    let col_cost = |a: usize, flow: usize| -> i128 {
        let dev = flow as i128 - cols[a] as i128;
        primary * dev.abs() + secondary * dev * dev
    };
    let cell_cost = |d: usize, a: usize, flow: usize| -> i128 {
        let dev = flow as f64 - proportional[d][a];
        (tertiary_scale as f64 * dev * dev).round() as i128
    };

    // Nodes: 0 source, 1..=nd exam domains, nd+1..=nd+na areas, nd+na+1 sink.
    let sink = nd + na + 1;
    let mut arcs: Vec<(usize, usize, usize, Arc)> = Vec::new(); // (from, to, capacity, kind)
    for (d, quota) in rows.iter().enumerate() {
        arcs.push((0, 1 + d, *quota, Arc::Row));
    }
    for (d, row) in cap.iter().enumerate() {
        for (a, &have) in row.iter().enumerate().filter(|(_, have)| **have > 0) {
            arcs.push((1 + d, 1 + nd + a, have, Arc::Cell(d, a)));
        }
    }
    for a in 0..na {
        arcs.push((1 + nd + a, sink, total, Arc::Col(a)));
    }
    let mut flow = vec![0usize; arcs.len()];
    // Cost of carrying `f` units on arc `kind`.
    let cost = |kind: Arc, f: usize| -> i128 {
        match kind {
            Arc::Row => 0,
            Arc::Cell(d, a) => cell_cost(d, a, f),
            Arc::Col(a) => col_cost(a, f),
        }
    };

    for _ in 0..total {
        let mut dist: Vec<Option<i128>> = vec![None; sink + 1];
        let mut pred: Vec<Option<(usize, bool)>> = vec![None; sink + 1];
        dist[0] = Some(0);
        for _ in 0..=sink {
            let mut changed = false;
            for (e, &(from, to, capacity, kind)) in arcs.iter().enumerate() {
                let f = flow[e];
                if f < capacity {
                    if let Some(du) = dist[from] {
                        let candidate = du + cost(kind, f + 1) - cost(kind, f);
                        if dist[to].is_none_or(|dv| candidate < dv) {
                            dist[to] = Some(candidate);
                            pred[to] = Some((e, true));
                            changed = true;
                        }
                    }
                }
                if f > 0 {
                    if let Some(du) = dist[to] {
                        let candidate = du + cost(kind, f - 1) - cost(kind, f);
                        if dist[from].is_none_or(|dv| candidate < dv) {
                            dist[from] = Some(candidate);
                            pred[from] = Some((e, false));
                            changed = true;
                        }
                    }
                }
            }
            if !changed {
                break;
            }
        }
        if dist[sink].is_none() {
            break; // cannot happen: every row quota fits its row
        }
        let mut node = sink;
        while node != 0 {
            let Some((e, forward)) = pred[node] else {
                break;
            };
            if forward {
                flow[e] += 1;
                node = arcs[e].0;
            } else {
                flow[e] -= 1;
                node = arcs[e].1;
            }
        }
    }
    for (e, &(_, _, _, kind)) in arcs.iter().enumerate() {
        if let Arc::Cell(d, a) = kind {
            x[d][a] = flow[e];
        }
    }
    x
}

#[cfg(test)]
mod tests;
