//! A virtual machine's power state (Compute's `PowerState/*` instance-view codes) and the
//! transitions its actions make.

use serde::{Deserialize, Serialize};

/// The states a VM rests in between actions (Mimic applies an action at once, so the
/// transitional `starting`/`stopping`/`deallocating` states are never observed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PowerState {
    #[default]
    Running,
    Stopped,
    Deallocated,
}

impl PowerState {
    /// The `PowerState/{code}` suffix of the instance view.
    pub fn code(self) -> &'static str {
        match self {
            PowerState::Running => "running",
            PowerState::Stopped => "stopped",
            PowerState::Deallocated => "deallocated",
        }
    }
}

/// A VM's power action (`POST {vm}/start|powerOff|deallocate|restart`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerAction {
    Start,
    PowerOff,
    Deallocate,
    Restart,
}

impl PowerAction {
    /// The action named in a request path, matched case-insensitively as ARM does.
    pub fn parse(name: &str) -> Option<Self> {
        [PowerAction::Start, PowerAction::PowerOff, PowerAction::Deallocate, PowerAction::Restart]
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(name))
    }

    /// The action's name in its RBAC action (`Microsoft.Compute/virtualMachines/{name}/action`).
    pub fn name(self) -> &'static str {
        match self {
            PowerAction::Start => "start",
            PowerAction::PowerOff => "powerOff",
            PowerAction::Deallocate => "deallocate",
            PowerAction::Restart => "restart",
        }
    }

    /// The state the action leaves a VM in, or `None` where Compute refuses it (a restart of a
    /// deallocated VM is `OperationNotAllowed`). Powering off a deallocated VM keeps it
    /// deallocated.
    pub fn apply(self, from: PowerState) -> Option<PowerState> {
        match (self, from) {
            (PowerAction::Start, _) => Some(PowerState::Running),
            (PowerAction::PowerOff, PowerState::Deallocated) => Some(PowerState::Deallocated),
            (PowerAction::PowerOff, _) => Some(PowerState::Stopped),
            (PowerAction::Deallocate, _) => Some(PowerState::Deallocated),
            (PowerAction::Restart, PowerState::Deallocated) => None,
            (PowerAction::Restart, _) => Some(PowerState::Running),
        }
    }
}

/// A VM's power state as stored (a VM without a record is running: it was created running).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VmPower {
    pub power_state: PowerState,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions() {
        use PowerAction::*;
        use PowerState::*;
        assert_eq!(PowerOff.apply(Running), Some(Stopped));
        assert_eq!(PowerOff.apply(Deallocated), Some(Deallocated));
        assert_eq!(Deallocate.apply(Stopped), Some(Deallocated));
        assert_eq!(Start.apply(Deallocated), Some(Running));
        assert_eq!(Restart.apply(Stopped), Some(Running));
        assert_eq!(Restart.apply(Deallocated), None);
    }

    #[test]
    fn stored_form_is_the_instance_view_code() {
        let v = VmPower { power_state: PowerState::Deallocated };
        assert_eq!(serde_json::to_value(v).unwrap(), serde_json::json!({"powerState": "deallocated"}));
        assert_eq!(PowerAction::parse("POWEROFF"), Some(PowerAction::PowerOff));
        assert_eq!(PowerAction::parse("hibernate"), None);
    }
}
