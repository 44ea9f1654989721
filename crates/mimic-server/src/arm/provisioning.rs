//! How long a resource a deployment writes takes to provision (`--provisioning-delay`).
//!
//! On Azure a deployment runs for seconds to minutes, so a client that polls it, waits on it
//! (`az deployment group wait`) or cancels it (`az deployment group cancel` after `--no-wait`)
//! meets it `Running`. Mimic writes a resource in microseconds; without a delay every such
//! client would find the deployment already over (`DeploymentCannotBeCancelled`). The default,
//! one second per resource, is far below Azure's (an NSG takes a few seconds, a VM tens) yet
//! long enough for a client's next call to arrive while the deployment runs; `off` gives the
//! fastest runs for pipelines that never look at a deployment in flight.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// The time each resource of a deployment takes, after its write and before its deployment
/// operation is recorded `Succeeded` (a cancel request stops the deployment during it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProvisioningDelay(pub Duration);

/// Longer than this is refused: a typo (`1000` meaning ms) must not stall deployments for an hour.
const MAX: Duration = Duration::from_secs(600);

impl Default for ProvisioningDelay {
    fn default() -> Self {
        ProvisioningDelay(Duration::from_secs(1))
    }
}

impl FromStr for ProvisioningDelay {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("invalid provisioning delay '{s}': expected off, or a duration such as 1s, 500ms, 2.5s (at most 600s)");
        let t = s.trim().to_ascii_lowercase();
        if matches!(t.as_str(), "" | "off" | "none" | "0") {
            return Ok(ProvisioningDelay(Duration::ZERO));
        }
        let (number, scale) = if let Some(n) = t.strip_suffix("ms") {
            (n, 0.001)
        } else if let Some(n) = t.strip_suffix('s') {
            (n, 1.0)
        } else {
            return Err(bad());
        };
        let seconds: f64 = number.trim().parse().map_err(|_| bad())?;
        let seconds = seconds * scale;
        if !seconds.is_finite() || seconds < 0.0 || seconds > MAX.as_secs_f64() {
            return Err(bad());
        }
        Ok(ProvisioningDelay(Duration::from_secs_f64(seconds)))
    }
}

impl fmt::Display for ProvisioningDelay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_zero() {
            f.write_str("off")
        } else {
            write!(f, "{}ms", self.0.as_millis())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_durations_and_off() {
        for (text, ms) in [("off", 0), ("0", 0), ("1s", 1000), ("500ms", 500), ("2.5s", 2500), (" 3S ", 3000), ("0s", 0)] {
            assert_eq!(text.parse::<ProvisioningDelay>(), Ok(ProvisioningDelay(Duration::from_millis(ms))), "{text}");
        }
        for bad in ["1", "fast", "-1s", "601s", "nans", "1h", "infs"] {
            assert!(bad.parse::<ProvisioningDelay>().is_err(), "{bad}");
        }
        assert_eq!(ProvisioningDelay::default().to_string(), "1000ms");
    }
}
