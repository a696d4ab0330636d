//! The domain × member heatmap of `/cohorts/{id}`.

use std::collections::BTreeMap;

use uuid::Uuid;

use crate::services::cohorts::{MemberArea, PASS_SHARE};

/// The domain × member heatmap: columns are domains, rows members.
pub struct Heatmap {
    pub width: i32,
    pub height: i32,
    pub columns: Vec<(i32, String)>,
    pub rows: Vec<(i32, String)>,
    pub cells: Vec<Cell>,
}

pub struct Cell {
    pub x: i32,
    pub y: i32,
    pub fill: String,
    pub percent: i64,
    /// what the cell shows: the percentage, or "–" with no answers
    pub text: String,
    pub title: String,
}

const HEAT_LEFT: i32 = 170;
const HEAT_TOP: i32 = 28;
const HEAT_W: i32 = 62;
const HEAT_H: i32 = 24;

/// A red-to-green fill for an estimate, with the pass share at the yellow midpoint.
pub fn heat_fill(estimate: f64) -> String {
    let t = ((estimate - PASS_SHARE) / 0.25).clamp(-1.0, 1.0);
    let hue = 55.0 + t * 65.0;
    format!("hsl({hue:.0}, 70%, 72%)")
}

/// A member's estimate and answers per domain, keyed by (name, id) so rows sort by name.
type MemberGrid<'a> = BTreeMap<(String, Uuid), BTreeMap<&'a str, (f64, i32)>>;

pub(super) fn heatmap(members: &[MemberArea], domains: &[String]) -> Option<Heatmap> {
    let mut by_member: MemberGrid = BTreeMap::new();
    for m in members {
        by_member
            .entry((m.display_name.clone(), m.user_id))
            .or_default()
            .insert(m.domain.as_str(), (m.estimate, m.answered));
    }
    if by_member.is_empty() {
        return None;
    }
    let columns: Vec<(i32, String)> = domains
        .iter()
        .enumerate()
        .map(|(i, d)| (HEAT_LEFT + i as i32 * HEAT_W + HEAT_W / 2, d.clone()))
        .collect();
    let mut rows = Vec::new();
    let mut cells = Vec::new();
    for (r, ((name, _), per)) in by_member.iter().enumerate() {
        let y = HEAT_TOP + r as i32 * HEAT_H;
        rows.push((y + HEAT_H / 2 + 4, name.clone()));
        for (c, d) in domains.iter().enumerate() {
            let (e, n) = per.get(d.as_str()).copied().unwrap_or((0.5, 0));
            cells.push(Cell {
                x: HEAT_LEFT + c as i32 * HEAT_W,
                y,
                fill: if n == 0 {
                    "#eef1f4".into()
                } else {
                    heat_fill(e)
                },
                percent: (e * 100.0).round() as i64,
                text: if n == 0 {
                    "–".into()
                } else {
                    format!("{:.0}", e * 100.0)
                },
                title: if n == 0 {
                    format!("{name} · {d}: no data (no answers yet)")
                } else {
                    format!("{name} · {d}: {:.0}% estimated from {n} answers", e * 100.0)
                },
            });
        }
    }
    Some(Heatmap {
        width: HEAT_LEFT + domains.len() as i32 * HEAT_W + 4,
        height: HEAT_TOP + by_member.len() as i32 * HEAT_H + 4,
        columns,
        rows,
        cells,
    })
}
