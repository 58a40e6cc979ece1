//! Summary statistics of one series of samples: percentiles (linear
//! interpolation between closest ranks, as numpy's default), the mean, and
//! the mean after Tukey's IQR filter (drop samples outside
//! `[Q1 - 1.5·IQR, Q3 + 1.5·IQR]`), with the number dropped.

/// The summary of one series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Number of samples.
    pub n: usize,
    /// 10th percentile.
    pub p10: f64,
    /// 50th percentile.
    pub median: f64,
    /// 90th percentile.
    pub p90: f64,
    /// Arithmetic mean.
    pub mean: f64,
    /// Mean of the samples inside the Tukey fences.
    pub iqr_mean: f64,
    /// Samples outside the Tukey fences.
    pub iqr_dropped: usize,
    /// Largest sample.
    pub max: f64,
}

impl Summary {
    /// Summarise `samples`; `None` when there are none (or any is NaN).
    pub fn of(samples: &[f64]) -> Option<Summary> {
        if samples.is_empty() || samples.iter().any(|s| s.is_nan()) {
            return None;
        }
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        let q1 = percentile(&sorted, 25.0);
        let q3 = percentile(&sorted, 75.0);
        let iqr = q3 - q1;
        let (lo, hi) = (q1 - 1.5 * iqr, q3 + 1.5 * iqr);
        let kept: Vec<f64> = sorted
            .iter()
            .copied()
            .filter(|s| *s >= lo && *s <= hi)
            .collect();
        Some(Summary {
            n: sorted.len(),
            p10: percentile(&sorted, 10.0),
            median: percentile(&sorted, 50.0),
            p90: percentile(&sorted, 90.0),
            mean: mean(&sorted),
            iqr_mean: mean(&kept),
            iqr_dropped: sorted.len() - kept.len(),
            max: sorted[sorted.len() - 1],
        })
    }
}

/// The `p`th percentile (0..=100) of sorted, non-empty `sorted`.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = p / 100.0 * (sorted.len() - 1) as f64;
    let below = rank.floor() as usize;
    let above = rank.ceil() as usize;
    let frac = rank - below as f64;
    sorted[below] + (sorted[above] - sorted[below]) * frac
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_or_nan_has_no_summary() {
        assert_eq!(Summary::of(&[]), None);
        assert_eq!(Summary::of(&[1.0, f64::NAN]), None);
    }

    #[test]
    fn one_sample_is_every_statistic() {
        let s = Summary::of(&[7.0]).unwrap();
        assert_eq!(
            (
                s.n,
                s.p10,
                s.median,
                s.p90,
                s.mean,
                s.iqr_mean,
                s.iqr_dropped,
                s.max
            ),
            (1, 7.0, 7.0, 7.0, 7.0, 7.0, 0, 7.0)
        );
    }

    #[test]
    fn percentiles_interpolate_like_numpy() {
        // numpy.percentile(range(1, 11), [10, 50, 90]) == [1.9, 5.5, 9.1]
        let xs: Vec<f64> = (1..=10).rev().map(f64::from).collect();
        let s = Summary::of(&xs).unwrap();
        assert!((s.p10 - 1.9).abs() < 1e-9, "{}", s.p10);
        assert!((s.median - 5.5).abs() < 1e-9);
        assert!((s.p90 - 9.1).abs() < 1e-9, "{}", s.p90);
        assert!((s.mean - 5.5).abs() < 1e-9);
        assert_eq!(s.max, 10.0);
    }

    #[test]
    fn iqr_filter_drops_the_outlier_only() {
        let mut xs = vec![10.0, 10.5, 11.0, 9.5, 10.2, 9.8, 10.1, 10.4];
        xs.push(100.0);
        let s = Summary::of(&xs).unwrap();
        assert_eq!(s.iqr_dropped, 1);
        assert!((s.iqr_mean - 10.1875).abs() < 1e-9, "{}", s.iqr_mean);
        assert!(s.mean > 19.0);
        assert_eq!(s.median, 10.2);
    }
}
