//! The results as markdown: one row per scenario and runtime (median, p10,
//! p90, mean, IQR-filtered mean, ratio of medians against runc, peak RSS),
//! the per-step medians of the create/start/delete cycle, and the issue's
//! goal checked against the measured medians.

use std::fmt::Write;

use crate::stats::Summary;

/// The runtime every ratio is taken against.
pub const REFERENCE: &str = "runc";

/// The runtime the goal is about.
pub const BERTH: &str = "berth-runtime";

/// Which scenario a series belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// `run` of `true`.
    Run,
    /// create, start, wait, delete.
    Cycle,
    /// A floor: unshare or busybox.
    Floor,
}

impl Scenario {
    fn label(self) -> &'static str {
        match self {
            Scenario::Run => "run",
            Scenario::Cycle => "create/start/wait/delete",
            Scenario::Floor => "floor",
        }
    }
}

/// The samples of one scenario for one runtime (or floor command).
#[derive(Debug, Clone)]
pub struct Series {
    /// The scenario.
    pub scenario: Scenario,
    /// The runtime's name, or the floor's command.
    pub subject: String,
    /// Wall times, ms.
    pub wall_ms: Vec<f64>,
    /// Peak RSS, KiB.
    pub rss_kib: Vec<f64>,
    /// Per-step wall times of the cycle (name, ms).
    pub steps: Vec<(&'static str, Vec<f64>)>,
    /// Peak RSS of `create` in the cycle, KiB.
    pub create_rss_kib: Vec<f64>,
}

impl Series {
    /// An empty series.
    pub fn new(scenario: Scenario, subject: &str) -> Series {
        Series {
            scenario,
            subject: subject.to_string(),
            wall_ms: Vec::new(),
            rss_kib: Vec::new(),
            steps: Vec::new(),
            create_rss_kib: Vec::new(),
        }
    }

    /// Record a step time of the cycle.
    pub fn push_step(&mut self, step: &'static str, ms: f64) {
        match self.steps.iter_mut().find(|(s, _)| *s == step) {
            Some((_, v)) => v.push(ms),
            None => self.steps.push((step, vec![ms])),
        }
    }
}

fn median(xs: &[f64]) -> Option<f64> {
    Summary::of(xs).map(|s| s.median)
}

fn mib(kib: f64) -> String {
    format!("{:.2} MiB", kib / 1024.0)
}

fn ratio(x: Option<f64>, reference: Option<f64>) -> String {
    match (x, reference) {
        (Some(x), Some(r)) if r > 0.0 => format!("{:.2}×", x / r),
        _ => "—".to_string(),
    }
}

fn reference_of(all: &[Series], scenario: Scenario) -> Option<&Series> {
    if scenario == Scenario::Floor {
        return None;
    }
    all.iter()
        .find(|s| s.scenario == scenario && s.subject == REFERENCE)
}

/// The main table.
pub fn results_table(all: &[Series]) -> String {
    let mut out = String::new();
    out.push_str(
        "| scenario | runtime | n | median | p10 | p90 | mean | IQR-filtered mean (dropped) | median vs runc | peak RSS median (max) | RSS vs runc |\n",
    );
    out.push_str("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for s in all {
        let Some(w) = Summary::of(&s.wall_ms) else {
            let _ = writeln!(
                out,
                "| {} | {} | 0 | — | — | — | — | — | — | — | — |",
                s.scenario.label(),
                s.subject
            );
            continue;
        };
        let r = Summary::of(&s.rss_kib);
        let reference = reference_of(all, s.scenario);
        let wall_ratio = ratio(Some(w.median), reference.and_then(|r| median(&r.wall_ms)));
        let rss_ratio = ratio(
            r.map(|r| r.median),
            reference.and_then(|r| median(&r.rss_kib)),
        );
        let rss = r.map_or("—".to_string(), |r| {
            format!("{} ({})", mib(r.median), mib(r.max))
        });
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.2} ms | {:.2} | {:.2} | {:.2} | {:.2} ({}) | {} | {} | {} |",
            s.scenario.label(),
            s.subject,
            w.n,
            w.median,
            w.p10,
            w.p90,
            w.mean,
            w.iqr_mean,
            w.iqr_dropped,
            wall_ratio,
            rss,
            rss_ratio
        );
    }
    out
}

/// Medians of each step of the cycle.
pub fn steps_table(all: &[Series]) -> String {
    let cycles: Vec<&Series> = all
        .iter()
        .filter(|s| s.scenario == Scenario::Cycle && !s.steps.is_empty())
        .collect();
    let Some(first) = cycles.first() else {
        return String::new();
    };
    let names: Vec<&str> = first.steps.iter().map(|(n, _)| *n).collect();
    let mut out = String::from("| runtime |");
    for n in &names {
        let _ = write!(out, " {n} (median ms) |");
    }
    out.push_str(" create peak RSS (median) |\n|---|");
    for _ in &names {
        out.push_str("---:|");
    }
    out.push_str("---:|\n");
    for s in cycles {
        let _ = write!(out, "| {} |", s.subject);
        for n in &names {
            let m = s
                .steps
                .iter()
                .find(|(sn, _)| sn == n)
                .and_then(|(_, v)| median(v));
            match m {
                Some(m) => {
                    let _ = write!(out, " {m:.2} |");
                }
                None => out.push_str(" — |"),
            }
        }
        let rss = median(&s.create_rss_kib).map_or("—".to_string(), mib);
        let _ = writeln!(out, " {rss} |");
    }
    out
}

/// The goal — berth-runtime `run` at most 0.25× runc's wall time
/// (10 ms on the reference machine) and at most 4 MiB peak RSS — checked
/// against the medians.
pub fn goal(all: &[Series]) -> String {
    let find = |subject: &str| {
        all.iter()
            .find(|s| s.scenario == Scenario::Run && s.subject == subject)
    };
    let (Some(berth), runc) = (find(BERTH), find(REFERENCE)) else {
        return "Goal: not checked (berth-runtime was not measured).\n".to_string();
    };
    let (Some(wall), Some(rss)) = (median(&berth.wall_ms), median(&berth.rss_kib)) else {
        return "Goal: not checked (no samples).\n".to_string();
    };
    let verdict = |ok: bool| if ok { "met" } else { "NOT met" };
    let mut out = String::from(
        "Goal: berth-runtime `run` <= 0.25x runc's wall time (<= 10 ms) and peak RSS <= 4 MiB.\n",
    );
    match runc.and_then(|r| median(&r.wall_ms)) {
        Some(r) if r > 0.0 => {
            let x = wall / r;
            let _ = writeln!(
                out,
                "- wall time: {wall:.2} ms median = {x:.2}x runc's {r:.2} ms: {}",
                verdict(x <= 0.25)
            );
        }
        _ => {
            let _ = writeln!(out, "- wall time: {wall:.2} ms median (runc not measured)");
        }
    }
    let _ = writeln!(
        out,
        "- absolute wall time: {wall:.2} ms vs 10 ms: {}",
        verdict(wall <= 10.0)
    );
    let _ = writeln!(
        out,
        "- peak RSS: {} median vs 4 MiB: {}",
        mib(rss),
        verdict(rss <= 4.0 * 1024.0)
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(scenario: Scenario, subject: &str, wall: &[f64], rss: &[f64]) -> Series {
        let mut s = Series::new(scenario, subject);
        s.wall_ms = wall.to_vec();
        s.rss_kib = rss.to_vec();
        s
    }

    #[test]
    fn ratios_are_against_runc_of_the_same_scenario() {
        let all = vec![
            series(
                Scenario::Run,
                "berth-runtime",
                &[10.0, 10.0, 10.0],
                &[4096.0; 3],
            ),
            series(Scenario::Run, "runc", &[40.0, 40.0, 40.0], &[10240.0; 3]),
            series(Scenario::Floor, "busybox true", &[1.0], &[100.0]),
        ];
        let t = results_table(&all);
        let berth = t.lines().find(|l| l.contains("berth-runtime")).unwrap();
        assert!(berth.contains("| 0.25× |"), "{berth}");
        assert!(berth.contains("| 0.40× |"), "{berth}");
        assert!(berth.contains("4.00 MiB (4.00 MiB)"), "{berth}");
        let floor = t.lines().find(|l| l.contains("busybox")).unwrap();
        assert!(
            floor.ends_with("| — | 0.10 MiB (0.10 MiB) | — |"),
            "{floor}"
        );
    }

    #[test]
    fn the_goal_is_judged_on_medians() {
        let all = vec![
            series(
                Scenario::Run,
                "berth-runtime",
                &[9.0, 9.5, 30.0],
                &[5000.0; 3],
            ),
            series(Scenario::Run, "runc", &[40.0, 40.0, 40.0], &[10240.0; 3]),
        ];
        let g = goal(&all);
        assert!(
            g.contains("9.50 ms median = 0.24x runc's 40.00 ms: met"),
            "{g}"
        );
        assert!(g.contains("9.50 ms vs 10 ms: met"), "{g}");
        assert!(g.contains("4.88 MiB median vs 4 MiB: NOT met"), "{g}");
    }

    #[test]
    fn steps_have_one_column_each() {
        let mut s = series(Scenario::Cycle, "runc", &[50.0], &[9000.0]);
        for (step, ms) in [
            ("create", 30.0),
            ("start", 5.0),
            ("wait", 1.0),
            ("delete", 14.0),
        ] {
            s.push_step(step, ms);
        }
        s.create_rss_kib = vec![9216.0];
        let t = steps_table(&[s]);
        assert!(
            t.starts_with("| runtime | create (median ms) | start (median ms) |"),
            "{t}"
        );
        assert!(
            t.contains("| runc | 30.00 | 5.00 | 1.00 | 14.00 | 9.00 MiB |"),
            "{t}"
        );
    }
}
