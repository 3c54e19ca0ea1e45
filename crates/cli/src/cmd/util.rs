//! What several subcommands share.

use std::str::FromStr;
use std::time::Duration;

use fbcomet_mock::FaultKind;

/// A duration written the human way: `55s`, `500ms`, `2m`, `1h 30m`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HumanDuration(pub(crate) Duration);

impl FromStr for HumanDuration {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        humantime::parse_duration(s)
            .map(HumanDuration)
            .map_err(|e| format!("{s:?} is not a duration such as 55s, 500ms or 2m ({e})"))
    }
}

/// A comma-separated list of fault kinds: `reset,truncate,...`.
#[derive(Debug, Clone)]
pub(crate) struct FaultKinds(pub(crate) Vec<FaultKind>);

impl FromStr for FaultKinds {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_fault_kinds(s).map(FaultKinds)
    }
}

fn parse_fault_kinds(s: &str) -> Result<Vec<FaultKind>, String> {
    s.split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(|k| match k {
            "reset" => Ok(FaultKind::ResetBeforeAnswer),
            "reset-mid" => Ok(FaultKind::ResetMidBody),
            "truncate" => Ok(FaultKind::Truncate),
            "status" => Ok(FaultKind::Status),
            "delay" => Ok(FaultKind::Delay),
            "dribble" => Ok(FaultKind::Dribble),
            "empty" => Ok(FaultKind::Empty),
            other => Err(format!(
                "{other:?} is not a fault kind (reset, reset-mid, truncate, status, delay, dribble, empty)"
            )),
        })
        .collect()
}
