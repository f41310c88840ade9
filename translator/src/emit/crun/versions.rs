//! What each crun release understands, for the fields that arrived after
//! the oldest crun we write for. From crun's NEWS and its source at the
//! release tags (`git grep` of the spec field in `src/libcrun` at each tag);
//! crun ignores fields it does not know, so these must be reported.

use crate::target::PveContainerVersion as Version;

const fn v(major: u32, minor: u32, patch: u32) -> Version {
    Version(major, minor, patch)
}

/// A field (JSON pointer; `*` matches any array index or map key) and the
/// first crun release that applies it.
pub(crate) const FIELDS: &[(&str, Version)] = &[
    ("/linux/resources/cpu/idle", v(1, 5, 0)),
    ("/domainname", v(1, 7, 0)),
    ("/linux/resources/memory/checkBeforeUpdate", v(1, 7, 0)),
    ("/linux/timeOffsets", v(1, 8, 4)),
    // 1.8.4 read the scheduler from an annotation; 1.8.5 from the spec.
    ("/process/scheduler", v(1, 8, 5)),
    ("/process/ioPriority", v(1, 8, 6)),
    // Parsed since 1.0 but applied only from 1.10 ("support for Intel RDT").
    ("/linux/intelRdt", v(1, 10, 0)),
    // Parsed before, applied from 1.11 ("cgroup: honor cpu burst").
    ("/linux/resources/cpu/burst", v(1, 11, 0)),
    ("/process/execCPUAffinity", v(1, 19, 0)),
    ("/linux/intelRdt/schemata", v(1, 22, 0)),
    ("/linux/netDevices", v(1, 22, 0)),
    ("/linux/memoryPolicy", v(1, 24, 0)),
    ("/linux/intelRdt/enableMonitoring", v(1, 24, 0)),
];

/// crun 1.14.2 dropped its `ociVersion` check; before, a config whose
/// version does not contain `1.0` (as in `1.0.2` or `1.1.0`) is refused
/// with "unknown version specified".
pub(crate) const ANY_OCI_VERSION: Version = v(1, 14, 2);

/// Whether `crun` runs a config that declares `version`.
pub fn accepts(crun: Version, version: &str) -> bool {
    crun >= ANY_OCI_VERSION || version.contains("1.0")
}

/// The newest version `crun` accepts that is not newer than the config's.
pub(crate) fn down_level(crun: Version, version: &str) -> String {
    if accepts(crun, version) {
        version.to_string()
    } else {
        "1.1.0".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CRUN_181: Version = v(1, 8, 1);

    #[test]
    fn crun_1_8_1_versions() {
        // As checked with crun 1.8.1 on Debian 12 (test-environment.md).
        for ok in ["1.0.0", "1.0.2", "1.0.2-dev", "1.1.0"] {
            assert!(accepts(CRUN_181, ok), "{ok}");
        }
        for refused in ["1.2.0", "1.3.0", "1.2.1"] {
            assert!(!accepts(CRUN_181, refused), "{refused}");
            assert_eq!(down_level(CRUN_181, refused), "1.1.0");
        }
        assert_eq!(down_level(v(1, 19, 0), "1.3.0"), "1.3.0");
    }

    #[test]
    fn table_is_ordered_by_release() {
        let releases: Vec<Version> = FIELDS.iter().map(|(_, v)| *v).collect();
        let mut sorted = releases.clone();
        sorted.sort();
        assert_eq!(releases, sorted);
    }
}
