//! What the reports of `provena submit`, `provena simulate` and `provena-bench` share: this
//! machine's clock in the chain's unit, and percentiles of measured latencies.

use std::time::SystemTime;

/// Milliseconds since the Unix epoch, by this machine's clock.
pub fn now_ms() -> u64 {
	SystemTime::now()
		.duration_since(SystemTime::UNIX_EPOCH)
		.map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
		.unwrap_or_default()
}

/// The `p`th percentile of `values` (sorted in place, nearest rank); `None` when empty.
pub fn percentile(values: &mut [f64], p: f64) -> Option<f64> {
	if values.is_empty() {
		return None;
	}
	values.sort_by(f64::total_cmp);
	let rank = ((p / 100.0) * (values.len() - 1) as f64).round() as usize;
	values.get(rank.min(values.len() - 1)).copied()
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn percentiles_take_the_nearest_rank() {
		let mut values = vec![5.0, 1.0, 4.0, 2.0, 3.0];
		assert_eq!(percentile(&mut values, 0.0), Some(1.0));
		assert_eq!(percentile(&mut values, 50.0), Some(3.0));
		assert_eq!(percentile(&mut values, 99.0), Some(5.0));
		assert_eq!(percentile(&mut [], 50.0), None);
	}
}
