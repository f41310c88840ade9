//! `spec [--rootless]`: a starting `config.json`, runc's layout adjusted to what a Proxmox
//! container is: no terminal (a container's console is not the caller's terminal), a user
//! namespace (Proxmox containers are unprivileged by default; without id maps the translator
//! uses Proxmox's `0 100000 65536`), no `noNewPrivileges` (Proxmox drops `lxc.no_new_privs`),
//! and `ociVersion` 1.0.2-dev, which crun 1.8 also accepts. `--rootless` maps the caller's uid
//! and gid to root, binds `/sys` read-only and has no cgroup mount, as runc's does, but keeps
//! the network namespace: an unprivileged Proxmox container cannot share the host's network.

use serde_json::{json, Value};

fn caps() -> Value {
    json!(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"])
}

fn mounts(rootless: bool) -> Value {
    let mut m = vec![
        json!({"destination": "/proc", "type": "proc", "source": "proc"}),
        json!({"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
               "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]}),
        json!({"destination": "/dev/pts", "type": "devpts", "source": "devpts",
        "options": if rootless {
            json!(["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"])
        } else {
            json!(["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"])
        }}),
        json!({"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
               "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]}),
        json!({"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
               "options": ["nosuid", "noexec", "nodev"]}),
    ];
    if rootless {
        m.push(
            json!({"destination": "/sys", "type": "none", "source": "/sys",
                      "options": ["rbind", "nosuid", "noexec", "nodev", "ro"]}),
        );
    } else {
        m.push(
            json!({"destination": "/sys", "type": "sysfs", "source": "sysfs",
                      "options": ["nosuid", "noexec", "nodev", "ro"]}),
        );
        m.push(
            json!({"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
                      "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}),
        );
    }
    Value::Array(m)
}

/// The default config; `rootless` is the caller's `(uid, gid)` for `--rootless`.
pub fn default_spec(rootless: Option<(u32, u32)>) -> Value {
    let namespaces: Vec<Value> = ["pid", "network", "ipc", "uts", "mount", "user", "cgroup"]
        .iter()
        .map(|ns| json!({ "type": ns }))
        .collect();
    let mut linux = json!({
        "namespaces": namespaces,
        "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                        "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
        "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
    });
    if let (Some((uid, gid)), Some(obj)) = (rootless, linux.as_object_mut()) {
        obj.insert(
            "uidMappings".into(),
            json!([{"containerID": 0, "hostID": uid, "size": 1}]),
        );
        obj.insert(
            "gidMappings".into(),
            json!([{"containerID": 0, "hostID": gid, "size": 1}]),
        );
    }
    json!({
        "ociVersion": "1.0.2-dev",
        "process": {
            "terminal": false,
            "user": {"uid": 0, "gid": 0},
            "args": ["sh"],
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
            "cwd": "/",
            "capabilities": {"bounding": caps(), "effective": caps(), "permitted": caps()},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}]
        },
        "root": {"path": "rootfs", "readonly": true},
        "hostname": "proxmox-lxcri",
        "mounts": mounts(rootless.is_some()),
        "linux": linux
    })
}

/// The default config as the file `spec` writes.
pub fn default_spec_text(rootless: Option<(u32, u32)>) -> String {
    let mut s = serde_json::to_string_pretty(&default_spec(rootless)).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn translates_without_errors_for_proxmox_and_crun() {
        for rootless in [None, Some((1000, 1000))] {
            let text = default_spec_text(rootless);
            let target = translator::Target::default();
            let t = translator::oci_to_ir("config.json", text.as_bytes(), &target);
            let loud: Vec<_> = t
                .diagnostics
                .iter()
                .filter(|d| d.severity >= translator::Severity::Warning)
                .map(|d| (d.rule.code, d.message.clone()))
                .collect();
            assert_eq!(loud, vec![], "{rootless:?}");
            let ir = t.ir.unwrap();
            assert!(translator::emit::plan::ir_to_plan(&ir, &target, "config.json").is_ok());
        }
        let rl = default_spec(Some((1000, 1001)));
        assert_eq!(rl["linux"]["gidMappings"][0]["hostID"], 1001);
        assert!(rl["linux"]["namespaces"]
            .as_array()
            .unwrap()
            .contains(&json!({"type": "network"})));
    }
}
