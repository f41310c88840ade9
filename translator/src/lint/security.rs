//! `security/…`: configurations that weaken the container's isolation.

use super::spec::CAPABILITY_SETS;
use super::Rule;
use crate::diag::Diagnostic;
use crate::diag::Severity::Warning;
use crate::spec::{Cursor, Spec};

pub static RULES: &[&Rule] = &[
    &PRIVILEGED,
    &HOST_NAMESPACE,
    &CAP_SYS_ADMIN,
    &DANGEROUS_CAPABILITY,
    &NO_SECCOMP,
    &WRITABLE_PROC_SYS,
    &SENSITIVE_HOST_MOUNT,
    &DANGEROUS_DEVICE,
    &APPARMOR_UNCONFINED,
    &NEW_PRIVILEGES,
];

pub static PRIVILEGED: Rule = Rule {
    code: "security/privileged",
    severity: Warning,
    summary: "The container has no user namespace and runs privileged",
    explanation: "## What it does\nReports configs without a `user` namespace. They become `unprivileged: 0` containers, in which root is the host's root.\n\n## Why is this bad?\nA process that escapes a privileged container is root on the Proxmox node. Proxmox's own default is unprivileged.\n\n## Example\n```json\n{\"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"mount\"}]}}\n```\nUse instead: a user namespace (without id mappings Proxmox uses its default `0 100000 65536`):\n```json\n{\"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"mount\"}, {\"type\": \"user\"}]}}\n```",
};

pub static HOST_NAMESPACE: Rule = Rule {
    code: "security/host-namespace",
    severity: Warning,
    summary: "The container shares the host's network namespace",
    explanation: "## What it does\nReports a privileged container (no `user` namespace) without a `network` namespace: Proxmox then writes `lxc.net.0.type: none`, and the container uses the host's network. LXC always creates the other namespaces (pid, ipc, uts, mount), so leaving them out or joining one by `path` is reported as `pve/lossy` instead; an unprivileged container without a network namespace is refused (`pve/unsupported`).\n\n## Why is this bad?\nWith the host's network the container can bind the node's ports, reach its management interfaces (the API on port 8006, corosync) and, being privileged, reconfigure them.\n\n## Example\n```json\n{\"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"mount\"}]}}\n```\nUse instead:\n```json\n{\"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"mount\"}, {\"type\": \"network\"}, {\"type\": \"user\"}]}}\n```",
};

// The rules below are found by `check` over the validated spec (not by the
// lowering): they describe the bundle, whatever back end runs it.

pub static CAP_SYS_ADMIN: Rule = Rule {
    code: "security/cap-sys-admin",
    severity: Warning,
    summary: "The process keeps CAP_SYS_ADMIN",
    explanation: "## What it does\nReports `CAP_SYS_ADMIN` in any of the process's capability sets.\n\n## Why is this bad?\n`CAP_SYS_ADMIN` is \"the new root\": it allows mounting file systems, using many namespace and device ioctls and a large part of the kernel's attack surface. Most container escapes that need a capability need this one. In a privileged container it is the host's capability.\n\n## Example\n```json\n{\"process\": {\"capabilities\": {\"bounding\": [\"CAP_CHOWN\", \"CAP_SYS_ADMIN\"], \"effective\": [\"CAP_CHOWN\", \"CAP_SYS_ADMIN\"]}}}\n```\nUse instead:\n```json\n{\"process\": {\"capabilities\": {\"bounding\": [\"CAP_CHOWN\"], \"effective\": [\"CAP_CHOWN\"]}}}\n```\nIf the workload mounts file systems, give it a Proxmox `features: mount=…` or a user namespace instead.",
};

pub static DANGEROUS_CAPABILITY: Rule = Rule {
    code: "security/dangerous-capability",
    severity: Warning,
    summary: "The process keeps a capability that reaches beyond the container",
    explanation: "## What it does\nReports capabilities that act on the host kernel or on other processes rather than on the container alone: `CAP_SYS_MODULE` (load kernel modules), `CAP_SYS_RAWIO` (raw I/O ports and memory), `CAP_SYS_PTRACE` (trace and read other processes), `CAP_SYS_BOOT` (reboot, kexec), `CAP_SYS_TIME` (set the host clock), `CAP_NET_ADMIN` (network configuration, firewall), `CAP_DAC_READ_SEARCH` (open files by handle: the \"shocker\" escape), `CAP_MAC_ADMIN` and `CAP_MAC_OVERRIDE` (change or bypass AppArmor/SELinux), `CAP_BPF` and `CAP_PERFMON` (load BPF programs, perf events), `CAP_SYSLOG` (kernel log and addresses), `CAP_AUDIT_CONTROL` (host audit rules).\n\n## Why is this bad?\nEach of them lets a compromised process in the container affect the Proxmox node or its other guests. `CAP_SYS_ADMIN` has its own rule, `security/cap-sys-admin`.\n\n## Example\n```json\n{\"process\": {\"capabilities\": {\"bounding\": [\"CAP_NET_BIND_SERVICE\", \"CAP_SYS_PTRACE\"]}}}\n```\nUse instead:\n```json\n{\"process\": {\"capabilities\": {\"bounding\": [\"CAP_NET_BIND_SERVICE\"]}}}\n```",
};

pub static NO_SECCOMP: Rule = Rule {
    code: "security/no-seccomp",
    severity: Warning,
    summary: "No seccomp filter restricts the container's system calls",
    explanation: "## What it does\nReports configs without `linux.seccomp`, and seccomp policies that allow every system call (a default action of `SCMP_ACT_ALLOW` or `SCMP_ACT_LOG` with no rule that refuses anything).\n\n## Why is this bad?\nWithout a filter every system call of the host kernel is reachable, including rarely used ones (`kexec_load`, `open_by_handle_at`, `bpf`, `keyctl`) behind many container escapes. On Proxmox, LXC's default deny list still applies; an OCI runtime such as crun applies none.\n\n## Example\n```json\n{\"linux\": {\"namespaces\": [{\"type\": \"user\"}]}}\n```\nUse instead:\n```json\n{\"linux\": {\"namespaces\": [{\"type\": \"user\"}], \"seccomp\": {\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\", \"write\", \"exit_group\"], \"action\": \"SCMP_ACT_ALLOW\"}]}}}\n```\nStart from the default profile of your container engine (for example `podman`'s or `docker`'s seccomp.json).",
};

pub static WRITABLE_PROC_SYS: Rule = Rule {
    code: "security/writable-proc-sys",
    severity: Warning,
    summary: "sysfs or procfs is mounted writable",
    explanation: "## What it does\nReports `sysfs` mounts without `ro`, and `proc` mounts without `ro` when `/proc/sys` is neither read-only (`linux.readonlyPaths`) nor masked (`linux.maskedPaths`).\n\n## Why is this bad?\nMuch of /sys and /proc/sys is not namespaced: writing there changes the host kernel (`/proc/sys/kernel/core_pattern`, `/sys/kernel/uevent_helper` are classic escapes from privileged containers). On Proxmox, LXC mounts /proc and /sys itself (`proc:mixed`, `sys:mixed`), so the risk applies to OCI back ends such as crun, and to extra mounts elsewhere.\n\n## Example\n```json\n{\"mounts\": [{\"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\", \"options\": [\"nosuid\", \"noexec\", \"nodev\"]}]}\n```\nUse instead:\n```json\n{\"mounts\": [{\"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\", \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"ro\"]}]}\n```",
};

pub static SENSITIVE_HOST_MOUNT: Rule = Rule {
    code: "security/sensitive-host-mount",
    severity: Warning,
    summary: "A sensitive host path is bind-mounted into the container",
    explanation: "## What it does\nReports bind mounts whose source is the host's root directory or a path that holds the host's configuration, secrets, kernel interfaces or a container engine's control socket: exactly `/`, `/etc`, `/dev`, `/run`, `/var/run`, `/var`, `/usr`, `/home` or `/lib`; `/etc/pve`, `/etc/ssh`, `/etc/shadow`, `/etc/gshadow`, `/etc/sudoers`, `/etc/sudoers.d`, `/root`, `/boot`, `/proc`, `/sys`, `/var/lib/docker`, `/var/lib/containerd`, `/var/lib/lxc` or anything below them; and the Docker, containerd, CRI-O and Podman sockets (`docker.sock`, `containerd.sock`, `crio.sock`, `podman.sock`) in any directory. Read-only mounts are reported too.\n\n## Why is this bad?\nA container that can talk to `/var/run/docker.sock` can start a privileged container on the host: it is root there. `/etc/pve` holds the cluster's configuration and keys; `/`, `/etc` and `/root` expose credentials even read-only.\n\n## Example\n```json\n{\"mounts\": [{\"destination\": \"/var/run/docker.sock\", \"source\": \"/var/run/docker.sock\", \"options\": [\"bind\"]}]}\n```\nUse instead: mount only the directory the workload needs, read-only where possible:\n```json\n{\"mounts\": [{\"destination\": \"/data\", \"source\": \"/srv/app/data\", \"options\": [\"bind\", \"ro\"]}]}\n```",
};

pub static DANGEROUS_DEVICE: Rule = Rule {
    code: "security/dangerous-device",
    severity: Warning,
    summary: "The container gets a device that exposes the host's hardware or memory",
    explanation: "## What it does\nReports device nodes (`linux.devices`), device cgroup rules that allow access (`linux.resources.devices` with `\"allow\": true`) and bind mounts that give the container `/dev/kvm`, `/dev/mem`, `/dev/kmem`, `/dev/port`, the CPU model-specific registers (`/dev/cpu/*/msr`), any block device (disks, partitions, device-mapper and ZFS volumes), or every device of a kind (a rule with no type, type `a`, or no major number).\n\n## Why is this bad?\nWith a block device the container can read and write the host's disks, bypassing every file permission; `/dev/mem`, `/dev/port` and MSRs give access to the host kernel itself; `/dev/kvm` exposes the hypervisor interface of the Proxmox node.\n\n## Example\n```json\n{\"linux\": {\"devices\": [{\"path\": \"/dev/sda\", \"type\": \"b\", \"major\": 8, \"minor\": 0}], \"resources\": {\"devices\": [{\"allow\": true, \"type\": \"b\", \"major\": 8, \"minor\": 0, \"access\": \"rw\"}]}}}\n```\nUse instead: give the container a storage volume (a Proxmox mount point) instead of the raw disk, or only the character device it needs:\n```json\n{\"linux\": {\"devices\": [{\"path\": \"/dev/fuse\", \"type\": \"c\", \"major\": 10, \"minor\": 229}]}}\n```",
};

pub static APPARMOR_UNCONFINED: Rule = Rule {
    code: "security/apparmor-unconfined",
    severity: Warning,
    summary: "The process runs without an AppArmor profile",
    explanation: "## What it does\nReports `process.apparmorProfile` set to `unconfined`.\n\n## Why is this bad?\nProxmox confines every container with a generated AppArmor profile that, among other things, forbids mounting /proc and /sys again and writing to most of /proc/sys. `unconfined` (written as `lxc.apparmor.profile: unconfined`) removes that layer, which matters most for privileged containers.\n\n## Example\n```json\n{\"process\": {\"apparmorProfile\": \"unconfined\"}}\n```\nUse instead: leave the field out (Proxmox's generated profile applies), or name a profile loaded on the node:\n```json\n{\"process\": {\"apparmorProfile\": \"lxc-container-default-cgns\"}}\n```",
};

pub static NEW_PRIVILEGES: Rule = Rule {
    code: "security/new-privileges",
    severity: Warning,
    summary: "A non-root process can gain privileges through setuid programs",
    explanation: "## What it does\nReports a process that runs as a non-root user (`process.user.uid` other than 0) without `\"noNewPrivileges\": true`.\n\n## Why is this bad?\nRunning as an unprivileged user is a defence only if the process cannot become root again. Without `no_new_privs`, any setuid or file-capability program in the image (`su`, `sudo`, `ping`, `mount`, …) raises it back to root with the container's full capability sets.\n\n## Example\n```json\n{\"process\": {\"user\": {\"uid\": 1000, \"gid\": 1000}, \"args\": [\"/app\"], \"cwd\": \"/\"}}\n```\nUse instead:\n```json\n{\"process\": {\"user\": {\"uid\": 1000, \"gid\": 1000}, \"noNewPrivileges\": true, \"args\": [\"/app\"], \"cwd\": \"/\"}}\n```",
};

/// Capabilities that act beyond the container, with what they allow.
const DANGEROUS_CAPABILITIES: &[(&str, &str)] = &[
    ("CAP_SYS_MODULE", "load and unload kernel modules"),
    ("CAP_SYS_RAWIO", "raw I/O port and memory access"),
    ("CAP_SYS_PTRACE", "trace and read the memory of other processes"),
    ("CAP_SYS_BOOT", "reboot the node or load a new kernel"),
    ("CAP_SYS_TIME", "set the host's clock"),
    ("CAP_NET_ADMIN", "configure interfaces, routes and firewall rules"),
    ("CAP_DAC_READ_SEARCH", "open any file by handle, bypassing the mount namespace"),
    ("CAP_MAC_ADMIN", "change the AppArmor or SELinux policy"),
    ("CAP_MAC_OVERRIDE", "bypass the AppArmor or SELinux policy"),
    ("CAP_BPF", "load BPF programs into the kernel"),
    ("CAP_PERFMON", "use perf events on the host kernel"),
    ("CAP_SYSLOG", "read the kernel log and kernel addresses"),
    ("CAP_AUDIT_CONTROL", "change the host's audit rules"),
];

/// Host paths whose bind mount is reported when it is exactly this path.
const SENSITIVE_EXACT: &[&str] = &["/", "/etc", "/dev", "/run", "/var/run", "/var", "/usr", "/home", "/lib"];
/// Host paths whose bind mount is reported for the path and everything below it.
const SENSITIVE_TREES: &[&str] = &[
    "/etc/pve",
    "/etc/ssh",
    "/etc/shadow",
    "/etc/gshadow",
    "/etc/sudoers",
    "/etc/sudoers.d",
    "/root",
    "/boot",
    "/proc",
    "/sys",
    "/var/lib/docker",
    "/var/lib/containerd",
    "/var/lib/lxc",
];
/// Control sockets of container engines, matched by file name.
const ENGINE_SOCKETS: &[&str] = &["docker.sock", "containerd.sock", "crio.sock", "podman.sock"];

/// Character devices that expose the host's hardware or kernel: (major, minor or any, name).
const DANGEROUS_CHAR_DEVICES: &[(i64, Option<i64>, &str)] = &[
    (10, Some(232), "/dev/kvm"),
    (1, Some(1), "/dev/mem"),
    (1, Some(2), "/dev/kmem"),
    (1, Some(4), "/dev/port"),
    (202, None, "/dev/cpu/*/msr"),
];
/// Device paths that are block devices, for bind mounts (where no type is given).
const BLOCK_DEVICE_PREFIXES: &[&str] = &[
    "/dev/sd", "/dev/hd", "/dev/vd", "/dev/xvd", "/dev/nvme", "/dev/dm-", "/dev/mapper/", "/dev/md", "/dev/loop", "/dev/zd",
    "/dev/zvol/", "/dev/rbd", "/dev/nbd", "/dev/disk/", "/dev/mmcblk", "/dev/sr",
];

/// Findings of the rules above in a validated spec.
pub fn check(spec: &Spec) -> Vec<Diagnostic> {
    let root = spec.cursor();
    let mut out = Vec::new();
    if let Some(process) = root.get("process") {
        capabilities(&process, &mut out);
        apparmor(&process, &mut out);
        new_privileges(&process, &mut out);
    }
    seccomp(&root, &mut out);
    mounts(&root, &mut out);
    devices(&root, &mut out);
    out
}

fn capabilities(process: &Cursor<'_>, out: &mut Vec<Diagnostic>) {
    let Some(caps) = process.get("capabilities") else { return };
    // One finding per capability, at its first set; the other sets are labelled.
    let mut found: Vec<(&str, Vec<(&str, Cursor<'_>)>)> = Vec::new();
    for set in CAPABILITY_SETS {
        for item in caps.get(set).map(|s| s.items()).unwrap_or_default() {
            let Some(name) = item.str() else { continue };
            match found.iter_mut().find(|(n, _)| *n == name) {
                Some((_, places)) => places.push((set, item)),
                None => found.push((name, vec![(set, item)])),
            }
        }
    }
    for (name, places) in &found {
        let (rule, why) = if *name == "CAP_SYS_ADMIN" {
            (&CAP_SYS_ADMIN, "mount file systems and use much of the kernel's administrative interface")
        } else if let Some((_, why)) = DANGEROUS_CAPABILITIES.iter().find(|(c, _)| c == name) {
            (&DANGEROUS_CAPABILITY, *why)
        } else {
            continue;
        };
        let Some(((first_set, first), rest)) = places.split_first() else { continue };
        let mut d = Diagnostic::new(rule, format!("the process keeps {name}: it can {why}"))
            .at(first.ptr(), first.span())
            .with_label(format!("in the {first_set} set"))
            .with_help(format!("remove {name} from every capability set unless the workload cannot run without it"));
        for (set, item) in rest {
            d = d.with_related(item.span(), format!("also in the {set} set"));
        }
        out.push(d);
    }
}

fn apparmor(process: &Cursor<'_>, out: &mut Vec<Diagnostic>) {
    let Some(at) = process.get("apparmorProfile") else { return };
    if at.str() == Some("unconfined") {
        out.push(
            Diagnostic::new(&APPARMOR_UNCONFINED, "the process runs unconfined by AppArmor")
                .at(at.ptr(), at.span())
                .with_label("no AppArmor profile")
                .with_help("leave `apparmorProfile` out so Proxmox's generated profile applies"),
        );
    }
}

fn new_privileges(process: &Cursor<'_>, out: &mut Vec<Diagnostic>) {
    let Some(uid_at) = process.path(&["user", "uid"]) else { return };
    let Some(uid) = uid_at.u32().filter(|u| *u != 0) else { return };
    let nnp = process.get("noNewPrivileges");
    if nnp.as_ref().and_then(Cursor::bool) == Some(true) {
        return;
    }
    let at = nnp.unwrap_or(uid_at);
    out.push(
        Diagnostic::new(&NEW_PRIVILEGES, format!("the process runs as uid {uid} without `noNewPrivileges`: setuid programs in the image can make it root again"))
            .at(at.ptr(), at.span())
            .with_label("no_new_privs is off")
            .with_help("set \"noNewPrivileges\": true in `process`"),
    );
}

fn seccomp(root: &Cursor<'_>, out: &mut Vec<Diagnostic>) {
    let linux = root.get("linux");
    let Some(policy) = linux.as_ref().and_then(|l| l.get("seccomp")) else {
        let mut d = Diagnostic::new(&NO_SECCOMP, "the config has no seccomp policy: every system call of the host kernel is reachable")
            .with_help("add a `linux.seccomp` policy; on Proxmox LXC's default deny list applies, on crun none");
        if let Some(l) = &linux {
            d = d.at(l.ptr(), l.span()).with_label("no `seccomp`");
        }
        out.push(d);
        return;
    };
    let permissive = |action: Option<&str>| matches!(action, Some("SCMP_ACT_ALLOW" | "SCMP_ACT_LOG"));
    let Some(default) = policy.get("defaultAction") else { return };
    if !permissive(default.str()) {
        return;
    }
    let refuses_something = policy
        .get("syscalls")
        .map(|s| s.items())
        .unwrap_or_default()
        .iter()
        .any(|rule| !permissive(rule.get("action").and_then(|a| a.str())));
    if !refuses_something {
        out.push(
            Diagnostic::new(&NO_SECCOMP, "the seccomp policy allows every system call")
                .at(default.ptr(), default.span())
                .with_label("allows everything")
                .with_help("use a default action that refuses (SCMP_ACT_ERRNO) and allow the system calls the workload needs"),
        );
    }
}

/// `path` made absolute and lexically normal (`//`, `.` and `..` resolved); None when relative.
fn normalize(path: &str) -> Option<String> {
    if !path.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    for comp in path.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    Some(format!("/{}", parts.join("/")))
}

fn under(path: &str, tree: &str) -> bool {
    path == tree || path.strip_prefix(tree).is_some_and(|rest| rest.starts_with('/'))
}

fn mounts(root: &Cursor<'_>, out: &mut Vec<Diagnostic>) {
    let proc_sys_protected = {
        let linux = root.get("linux");
        let listed = |key: &str| {
            linux.as_ref().and_then(|l| l.get(key)).map(|l| l.strings()).unwrap_or_default().iter().any(|p| {
                normalize(&p.value).is_some_and(|p| p == "/proc" || p == "/proc/sys")
            })
        };
        listed("readonlyPaths") || listed("maskedPaths")
    };
    for m in root.get("mounts").map(|m| m.items()).unwrap_or_default() {
        let fs_type = m.get("type").and_then(|t| t.str().map(str::to_string)).unwrap_or_default();
        let options: Vec<String> = m.get("options").map(|o| o.strings().into_iter().map(|s| s.value).collect()).unwrap_or_default();
        let has = |o: &str| options.iter().any(|x| x == o);
        let readonly = has("ro") || has("rro");
        let is_bind = fs_type == "bind" || has("bind") || has("rbind");
        let dest = m.get("destination").and_then(|d| d.str().map(str::to_string)).unwrap_or_default();
        if !is_bind && !readonly {
            let writable = match fs_type.as_str() {
                "sysfs" => Some("sysfs is mounted writable"),
                "proc" if !proc_sys_protected => Some("procfs is mounted writable and /proc/sys is neither read-only nor masked"),
                _ => None,
            };
            if let Some(what) = writable {
                out.push(
                    Diagnostic::new(&WRITABLE_PROC_SYS, format!("{what} at `{}`", dest.escape_debug()))
                        .at(m.ptr(), m.span())
                        .with_label("writable")
                        .with_help(if fs_type == "sysfs" { "add \"ro\" to the mount's options" } else { "add \"/proc/sys\" to linux.readonlyPaths, or \"ro\" to the mount's options" }),
                );
            }
        }
        if !is_bind {
            continue;
        }
        let Some(source_at) = m.get("source") else { continue };
        let Some(source) = source_at.str().and_then(normalize) else { continue };
        if let Some(what) = dangerous_device_path(&source) {
            out.push(
                Diagnostic::new(&DANGEROUS_DEVICE, format!("the bind mount gives the container {what} (`{}`)", source.escape_debug()))
                    .at(source_at.ptr(), source_at.span())
                    .with_label("host device"),
            );
            continue;
        }
        let file_name = source.rsplit('/').next().unwrap_or_default();
        let sensitive = SENSITIVE_EXACT.contains(&source.as_str())
            || SENSITIVE_TREES.iter().any(|t| under(&source, t))
            || ENGINE_SOCKETS.contains(&file_name);
        if sensitive {
            let how = if readonly { "read-only" } else { "writable" };
            let why = if ENGINE_SOCKETS.contains(&file_name) {
                "a container engine's control socket gives root on the host"
            } else {
                "it exposes the host's configuration, credentials or kernel interfaces"
            };
            out.push(
                Diagnostic::new(&SENSITIVE_HOST_MOUNT, format!("the host path `{}` is bind-mounted {how} into the container: {why}", source.escape_debug()))
                    .at(source_at.ptr(), source_at.span())
                    .with_label("sensitive host path")
                    .with_help("mount only the directory the workload needs"),
            );
        }
    }
}

/// What a bind-mounted host path under /dev exposes, if it is dangerous.
fn dangerous_device_path(path: &str) -> Option<String> {
    if let Some((_, _, name)) = DANGEROUS_CHAR_DEVICES.iter().find(|(_, _, name)| *name == path) {
        return Some(format!("the device {name}"));
    }
    if path.starts_with("/dev/cpu/") && path.ends_with("/msr") {
        return Some("the CPU's model-specific registers".into());
    }
    if BLOCK_DEVICE_PREFIXES.iter().any(|p| path.starts_with(p) && path.len() > p.len()) {
        return Some("a block device".into());
    }
    None
}

fn devices(root: &Cursor<'_>, out: &mut Vec<Diagnostic>) {
    let linux = root.get("linux");
    for dev in linux.as_ref().and_then(|l| l.get("devices")).map(|d| d.items()).unwrap_or_default() {
        let kind = dev.get("type").and_then(|t| t.str().map(str::to_string)).unwrap_or_default();
        let path = dev.get("path").and_then(|p| p.str().map(str::to_string)).unwrap_or_default();
        let major = dev.get("major").and_then(|m| m.i64());
        let minor = dev.get("minor").and_then(|m| m.i64());
        let what = match kind.as_str() {
            "b" => Some("a block device".to_string()),
            "c" | "u" => dangerous_char(major, minor).map(|name| format!("the device {name}")),
            _ => None,
        };
        if let Some(what) = what {
            out.push(
                Diagnostic::new(&DANGEROUS_DEVICE, format!("the container gets {what} at `{}`", path.escape_debug()))
                    .at(dev.ptr(), dev.span())
                    .with_label("host device"),
            );
        }
    }
    let rules = linux.as_ref().and_then(|l| l.path(&["resources", "devices"])).map(|d| d.items()).unwrap_or_default();
    for rule in rules {
        if rule.get("allow").and_then(|a| a.bool()) != Some(true) {
            continue;
        }
        let access = rule.get("access").and_then(|a| a.str().map(str::to_string)).unwrap_or_else(|| "rwm".into());
        if !access.contains(['r', 'w']) {
            continue;
        }
        let kind = rule.get("type").and_then(|t| t.str().map(str::to_string)).unwrap_or_else(|| "a".into());
        let major = rule.get("major").and_then(|m| m.i64()).filter(|m| *m >= 0);
        let minor = rule.get("minor").and_then(|m| m.i64()).filter(|m| *m >= 0);
        let what = match (kind.as_str(), major) {
            ("a", _) => Some("every device".to_string()),
            ("b", _) => Some("block devices".to_string()),
            ("c", None) => Some("every character device".to_string()),
            ("c", Some(_)) => dangerous_char(major, minor).map(|name| format!("the device {name}")),
            _ => None,
        };
        if let Some(what) = what {
            out.push(
                Diagnostic::new(&DANGEROUS_DEVICE, format!("a device cgroup rule gives the container `{access}` access to {what}"))
                    .at(rule.ptr(), rule.span())
                    .with_label("allowed")
                    .with_help("allow only the devices the workload needs, by type, major and minor"),
            );
        }
    }
}

/// The name of a dangerous character device matched by major/minor (None = any minor).
fn dangerous_char(major: Option<i64>, minor: Option<i64>) -> Option<&'static str> {
    let major = major?;
    DANGEROUS_CHAR_DEVICES
        .iter()
        .find(|(ma, mi, _)| *ma == major && (mi.is_none() || minor.is_none() || *mi == minor))
        .map(|(_, _, name)| *name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `explain` promises the exact list of paths; it must follow the lists the check uses.
    #[test]
    fn sensitive_mount_explanation_names_every_path_it_checks() {
        let what = SENSITIVE_HOST_MOUNT.explanation.split("\n\n").next().unwrap_or_default();
        let (exact, rest) = what.split_once("; ").unwrap_or_default();
        let (trees, sockets) = rest.split_once("; ").unwrap_or_default();
        let named = |text: &str| -> Vec<String> {
            text.split('`').skip(1).step_by(2).map(str::to_string).collect()
        };
        assert_eq!(named(exact.split_once("exactly").map(|(_, l)| l).unwrap_or_default()), SENSITIVE_EXACT);
        assert_eq!(named(trees), SENSITIVE_TREES);
        assert_eq!(named(sockets), ENGINE_SOCKETS);
    }
}
