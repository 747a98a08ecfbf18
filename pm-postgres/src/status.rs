//! How an instance's status is spelt in `pm.instances.status` (and in the
//! statements that test it, such as `status = 'completed'`).

use pm_core::InstanceStatus;

/// The stored name of `status`.
pub(crate) fn stored_name(status: InstanceStatus) -> &'static str {
    match status {
        InstanceStatus::Active => "active",
        InstanceStatus::Completed => "completed",
        InstanceStatus::Parked => "parked",
    }
}

/// The status a stored name spells, if it is one.
pub(crate) fn from_stored(name: &str) -> Option<InstanceStatus> {
    match name {
        "active" => Some(InstanceStatus::Active),
        "completed" => Some(InstanceStatus::Completed),
        "parked" => Some(InstanceStatus::Parked),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::{from_stored, stored_name};
    use pm_core::InstanceStatus;

    #[test]
    fn every_status_reads_back_as_itself() {
        for status in [
            InstanceStatus::Active,
            InstanceStatus::Completed,
            InstanceStatus::Parked,
        ] {
            assert_eq!(from_stored(stored_name(status)), Some(status));
        }
        assert_eq!(from_stored("Active"), None);
    }
}
