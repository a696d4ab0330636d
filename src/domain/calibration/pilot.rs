//! The pilot verdict: when an unscored question becomes a scored one, or is flagged.

use std::fmt;

use super::ItemEstimate;

/// Responses an unscored (pilot) item needs before [`pilot_verdict`] judges it.
pub const PILOT_MIN_RESPONSES: usize = 30;
/// Lowest facility (share correct) a promoted item may have.
pub const PILOT_MIN_FACILITY: f64 = 0.20;
/// Highest facility a promoted item may have.
pub const PILOT_MAX_FACILITY: f64 = 0.95;
/// Lowest corrected point-biserial correlation a promoted item may have.
pub const PILOT_MIN_POINT_BISERIAL: f64 = 0.15;

/// What to do with a pilot (unscored) item.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Verdict {
    /// Enough responses and good statistics: make it a scored item.
    Promote,
    /// Enough responses but a statistic is out of bounds: a person should review it.
    Flag(FlagReason),
    /// Fewer than [`PILOT_MIN_RESPONSES`] responses: keep piloting.
    Wait,
}

/// Why [`pilot_verdict`] flagged an item.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FlagReason {
    /// Facility below [`PILOT_MIN_FACILITY`] (too hard, or a wrong key).
    TooHard { facility: f64 },
    /// Facility above [`PILOT_MAX_FACILITY`] (too easy to tell anyone apart).
    TooEasy { facility: f64 },
    /// Point-biserial below [`PILOT_MIN_POINT_BISERIAL`] (weak or negative discrimination).
    WeakDiscrimination { point_biserial: f64 },
    /// No point-biserial could be computed (no variance in the rest scores).
    NoDiscrimination,
}

impl fmt::Display for FlagReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FlagReason::TooHard { facility } => write!(
                f,
                "too hard: facility {facility:.2} < {PILOT_MIN_FACILITY:.2} (check the key)"
            ),
            FlagReason::TooEasy { facility } => {
                write!(
                    f,
                    "too easy: facility {facility:.2} > {PILOT_MAX_FACILITY:.2}"
                )
            }
            FlagReason::WeakDiscrimination { point_biserial } => write!(
                f,
                "weak discrimination: point-biserial {point_biserial:.2} < \
                 {PILOT_MIN_POINT_BISERIAL:.2}"
            ),
            FlagReason::NoDiscrimination => write!(f, "no discrimination could be computed"),
        }
    }
}

/// Pilot promotion rule: [`Verdict::Wait`] below [`PILOT_MIN_RESPONSES`] responses; otherwise
/// [`Verdict::Promote`] when the facility is within
/// [[`PILOT_MIN_FACILITY`], [`PILOT_MAX_FACILITY`]] and the point-biserial is at least
/// [`PILOT_MIN_POINT_BISERIAL`] (bounds inclusive), else [`Verdict::Flag`] with the first
/// failed check (facility before discrimination).
pub fn pilot_verdict(stats: &ItemEstimate) -> Verdict {
    let Some(facility) = stats.facility else {
        return Verdict::Wait;
    };
    if stats.responses < PILOT_MIN_RESPONSES {
        return Verdict::Wait;
    }
    if facility < PILOT_MIN_FACILITY {
        return Verdict::Flag(FlagReason::TooHard { facility });
    }
    if facility > PILOT_MAX_FACILITY {
        return Verdict::Flag(FlagReason::TooEasy { facility });
    }
    match stats.point_biserial {
        None => Verdict::Flag(FlagReason::NoDiscrimination),
        Some(r) if r < PILOT_MIN_POINT_BISERIAL => {
            Verdict::Flag(FlagReason::WeakDiscrimination { point_biserial: r })
        }
        Some(_) => Verdict::Promote,
    }
}
