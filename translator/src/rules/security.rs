//! `security/…`: configurations that weaken the container's isolation.
//! The lint stage (`lint::security`), the lowering and the host-effect
//! classifiers (`host`) report them; the node policy refuses some by default.

use super::Rule;
use crate::diag::Severity::Warning;

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
    &PROXMOX_STATE_MOUNT,
    &HOST_SOCKET,
    &HOST_SYSTEM_MOUNT,
    &HOST_BLOCK_MOUNT,
    &KERNEL_FILESYSTEM,
    &HOST_ROOTFS,
    &ROOTFS_OUTSIDE_BUNDLE,
    &OCI_HOOKS,
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
    explanation: "## What it does\nReports bind mounts whose source is the host's root directory or a path that holds the host's credentials, devices or kernel interfaces: exactly `/`, `/etc`, `/dev`, `/var` or `/home`; `/etc/ssh`, `/etc/shadow`, `/etc/gshadow`, `/etc/sudoers`, `/etc/sudoers.d`, `/root`, `/boot`, `/proc`, `/sys`, `/var/lib/docker` or `/var/lib/containerd`, anything below them, and a directory that holds one of them. Read-only mounts are reported too. Other host paths have rules of their own: Proxmox's state and storage `security/proxmox-state-mount`, control sockets and runtime directories `security/host-socket`, what the host executes or loads `security/host-system-mount`, devices `security/dangerous-device`.\n\n## Why is this bad?\n`/`, `/etc` and `/root` expose credentials even read-only (password hashes, SSH host keys, root's keys); the host's `/proc` and `/sys` reach into its kernel and every process; `/var/lib/docker` holds other containers' file systems.\n\n## Example\n```json\n{\"mounts\": [{\"destination\": \"/host-etc\", \"source\": \"/etc\", \"options\": [\"bind\", \"ro\"]}]}\n```\nUse instead: mount only the directory the workload needs, read-only where possible:\n```json\n{\"mounts\": [{\"destination\": \"/data\", \"source\": \"/srv/app/data\", \"options\": [\"bind\", \"ro\"]}]}\n```",
};

pub static DANGEROUS_DEVICE: Rule = Rule {
    code: "security/dangerous-device",
    severity: Warning,
    summary: "The container gets a device that exposes the host's hardware or memory",
    explanation: "## What it does\nReports device nodes (`linux.devices`), device cgroup rules that allow reading or writing (`linux.resources.devices` with `\"allow\": true`) and bind mounts that give the container `/dev/kvm`, `/dev/mem`, `/dev/kmem`, `/dev/port`, `/dev/cpu/*/msr` (the CPU's model-specific registers), `/dev/snapshot`, `/dev/mapper/control`, `/dev/loop-control`, `/dev/btrfs-control`, `/dev/watchdog`, `/dev/sg*` (SCSI generic), `/dev/zfs`, `/dev/vfio/vfio`, any block device (disks, partitions, device-mapper, LVM, ZFS volumes, loop and network block devices), or every device of a kind (a rule with no type, type `a`, or no major number). A device node is judged by its type and numbers, a bind mount by its path.\n\n## Why is this bad?\nWith a block device the container reads and writes the host's disks, bypassing every file permission; the storage control nodes create such devices or change the host's pools; `/dev/mem`, `/dev/port`, `/dev/snapshot` and MSRs reach the host's memory and kernel; `/dev/watchdog` reboots the node; `/dev/kvm` exposes the hypervisor interface of the Proxmox node.\n\n## Example\n```json\n{\"linux\": {\"devices\": [{\"path\": \"/dev/sda\", \"type\": \"b\", \"major\": 8, \"minor\": 0}], \"resources\": {\"devices\": [{\"allow\": true, \"type\": \"b\", \"major\": 8, \"minor\": 0, \"access\": \"rw\"}]}}}\n```\nUse instead: give the container a storage volume (a Proxmox mount point) instead of the raw disk, or only the character device it needs:\n```json\n{\"linux\": {\"devices\": [{\"path\": \"/dev/fuse\", \"type\": \"c\", \"major\": 10, \"minor\": 229}]}}\n```",
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

pub static PROXMOX_STATE_MOUNT: Rule = Rule {
    code: "security/proxmox-state-mount",
    severity: Warning,
    summary: "Proxmox VE's own state or storage is bind-mounted into the container",
    explanation: "## What it does\nReports bind mounts of `/etc/pve`, `/var/lib/pve-cluster`, `/run/pve`, `/var/run/pve`, `/run/pve-cluster`, `/var/lib/pve-manager`, `/var/lib/pve-firewall`, `/var/lib/vz`, `/mnt/pve`, `/etc/corosync`, `/var/lib/lxc`, `/etc/proxmox-lxcri`, `/var/lib/proxmox-lxcri` or `/run/proxmox-lxcri`, anything below them, and a directory that holds one of them (`/var/lib`, `/mnt`). Read-only mounts are reported too.\n\n## Why is this bad?\n`/etc/pve` is the cluster file system: every guest's config, the cluster's users, tokens and keys; a container that writes there configures any guest of the cluster (a hookscript, a host bind mount) and one that reads it has the keys. `/var/lib/vz` and `/mnt/pve` hold every guest's disks and backups; `/etc/corosync` the cluster's authentication key; proxmox-lxcri's own directories hold its policy and the records it trusts.\n\n## Example\n```json\n{\"mounts\": [{\"destination\": \"/pve\", \"source\": \"/etc/pve\", \"options\": [\"rbind\", \"ro\"]}]}\n```\nUse instead: give the container the data it needs, not the node's configuration:\n```json\n{\"mounts\": [{\"destination\": \"/data\", \"source\": \"/srv/app/data\", \"options\": [\"bind\", \"ro\"]}]}\n```",
};

pub static HOST_SOCKET: Rule = Rule {
    code: "security/host-socket",
    severity: Warning,
    summary: "A host daemon's control socket or runtime directory is bind-mounted into the container",
    explanation: "## What it does\nReports bind mounts of anything in `/run` or `/var/run` (systemd's `/run/systemd/private`, D-Bus's `/run/dbus/system_bus_socket`, containerd, LXC, Docker), of `/run` and `/var/run` themselves and the directories that hold them, and of any file whose name ends in `.sock`, `.socket` or `_socket`, wherever it is.\n\n## Why is this bad?\nA daemon's control socket takes commands from whoever can connect: systemd's starts units as root, D-Bus's reaches every system service, a container engine's starts a privileged container. A container that can write to one is root on the node, whatever its own privileges.\n\n## Example\n```json\n{\"mounts\": [{\"destination\": \"/run/dbus/system_bus_socket\", \"source\": \"/run/dbus/system_bus_socket\", \"options\": [\"bind\"]}]}\n```\nUse instead: talk to a service over the network, or mount a directory that holds only the application's own socket:\n```json\n{\"mounts\": [{\"destination\": \"/srv/ipc\", \"source\": \"/srv/app/ipc\", \"options\": [\"bind\"]}]}\n```",
};

pub static HOST_SYSTEM_MOUNT: Rule = Rule {
    code: "security/host-system-mount",
    severity: Warning,
    summary: "A host directory of programs, libraries or start-up configuration is bind-mounted into the container",
    explanation: "## What it does\nReports bind mounts of the host's programs and libraries (`/usr`, `/bin`, `/sbin`, `/lib`, `/lib32`, `/lib64`, `/libx32`, `/opt`, which include `/usr/local` and `/lib/modules`), of what it runs on a schedule (`/etc/cron.d`, `/etc/cron.daily`, `/etc/cron.hourly`, `/etc/cron.weekly`, `/etc/cron.monthly`, `/etc/crontab`, `/etc/anacrontab`, `/var/spool/cron`), at boot (`/etc/systemd`, `/etc/init.d`, `/etc/init`, `/etc/rc.local`, `/etc/rcS.d`, `/etc/rc0.d`, `/etc/rc1.d`, `/etc/rc2.d`, `/etc/rc3.d`, `/etc/rc4.d`, `/etc/rc5.d`, `/etc/rc6.d`, `/etc/udev`, `/etc/modprobe.d`, `/etc/modules`, `/etc/modules-load.d`), when it links or logs someone in (`/etc/ld.so.preload`, `/etc/ld.so.conf`, `/etc/ld.so.conf.d`, `/etc/profile`, `/etc/profile.d`, `/etc/environment`, `/etc/pam.d`, `/etc/security`, `/etc/passwd`, `/etc/group`) or when it installs packages (`/etc/apt`, `/etc/sysctl.conf`, `/etc/sysctl.d`, `/var/lib/dpkg`); anything below them, and a directory that holds one of them.\n\n## Why is this bad?\nThe host executes or loads what is there as root: a container that writes a cron entry, a systemd unit, a library or a kernel module has code run on the node. Read-only, they still show exactly which vulnerable versions the node runs.\n\n## Example\n```json\n{\"mounts\": [{\"destination\": \"/lib/modules\", \"source\": \"/lib/modules\", \"options\": [\"bind\", \"ro\"]}]}\n```\nUse instead: put what the workload needs into its image, or mount a directory of its own:\n```json\n{\"mounts\": [{\"destination\": \"/opt/tools\", \"source\": \"/srv/app/tools\", \"options\": [\"bind\", \"ro\"]}]}\n```",
};

pub static HOST_BLOCK_MOUNT: Rule = Rule {
    code: "security/host-block-mount",
    severity: Warning,
    summary: "A host disk or disk image is mounted into the container",
    explanation: "## What it does\nReports mounts that are not binds and whose source is a block device path (`/dev/sda1`, `/dev/mapper/…`, `/dev/pve/…`, `/dev/zd…`, any other device path `security/dangerous-device` lists), a disk named by `UUID=`, `LABEL=`, `PARTUUID=` or `PARTLABEL=`, or whose type is a disk file system (`ext2`, `ext3`, `ext4`, `xfs`, `btrfs`, `zfs`, `vfat`, `msdos`, `exfat`, `ntfs`, `ntfs3`, `f2fs`, `jfs`, `reiserfs`, `iso9660`, `udf`, `squashfs`, `erofs`, `hfsplus`, `nilfs2`, `ocfs2`, `gfs2`) whatever the source (a ZFS dataset, an image file).\n\n## Why is this bad?\nThe host kernel mounts the node's disk for the container: the host's root file system, another guest's volume (`rpool/data/subvol-101-disk-0`) or a backup, with every file in it. A crafted image also feeds the host kernel's file system code with untrusted metadata.\n\n## Example\n```json\n{\"mounts\": [{\"destination\": \"/mnt/disk\", \"type\": \"ext4\", \"source\": \"/dev/sda1\"}]}\n```\nUse instead: a Proxmox mount point on a storage (`--mp0 local-lvm:8,mp=/mnt/disk`), or a bind of the directory the workload needs:\n```json\n{\"mounts\": [{\"destination\": \"/mnt/disk\", \"source\": \"/srv/app/disk\", \"options\": [\"bind\"]}]}\n```",
};

pub static KERNEL_FILESYSTEM: Rule = Rule {
    code: "security/kernel-filesystem",
    severity: Warning,
    summary: "A kernel interface file system, or a second procfs, is mounted in the container",
    explanation: "## What it does\nReports mounts of type `debugfs`, `tracefs`, `securityfs`, `efivarfs`, `bpf`, `configfs`, `pstore`, `binfmt_misc` or `fusectl`, and a `proc` mount anywhere but the container's `/proc` or a second one there.\n\n## Why is this bad?\nNone of these is namespaced: each is the host kernel's interface. debugfs and tracefs expose kernel memory and every process's events; securityfs the AppArmor policy that confines the container; efivarfs the firmware's variables; bpf the host's pinned BPF programs; binfmt_misc decides which interpreter the kernel runs programs with. A second procfs is not covered by the masks and read-only overmounts of /proc (`/proc/sys`, `/proc/sysrq-trigger`, `/proc/kcore`), and on Proxmox LXC mounts /proc itself.\n\n## Example\n```json\n{\"mounts\": [{\"destination\": \"/sys/kernel/debug\", \"type\": \"debugfs\", \"source\": \"debugfs\"}]}\n```\nUse instead: only the container's own procfs:\n```json\n{\"mounts\": [{\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"}]}\n```",
};

pub static HOST_ROOTFS: Rule = Rule {
    code: "security/host-rootfs",
    severity: crate::diag::Severity::Error,
    summary: "The root file system is the host's root or a system directory",
    explanation: "## What it does\nReports a `root.path` (or, with a host-path rootfs target, the bundle directory joined with it) that is the host's `/`, a top-level directory (`/etc`, `/srv`, `/root`), or any path a bind mount of which `security/sensitive-host-mount`, `security/proxmox-state-mount`, `security/host-socket`, `security/host-system-mount` or `security/dangerous-device` reports.\n\n## Why is this bad?\nThe container's root file system is packed from that directory (every file, root-only ones included, owned by the container's root) or used in place (`rootfs: /`): the container reads and writes the node's own files. A rootfs is a directory made for the container, never one the node needs.\n\n## Example\n```json\n{\"root\": {\"path\": \"/\"}}\n```\nUse instead: the bundle's own rootfs directory:\n```json\n{\"root\": {\"path\": \"rootfs\"}}\n```",
};

pub static ROOTFS_OUTSIDE_BUNDLE: Rule = Rule {
    code: "security/rootfs-outside-bundle",
    severity: Warning,
    summary: "The root file system is a host directory outside the bundle",
    explanation: "## What it does\nReports an absolute `root.path` that is not a system directory (those are `security/host-rootfs`).\n\n## Why is this bad?\nThe container's files then come from wherever that path points on the node, not from the bundle that was reviewed, and are read as root to be packed. `create` refuses it unless the operator names the same directory with `--rootfs-outside-bundle`.\n\n## Example\n```json\n{\"root\": {\"path\": \"/srv/images/web/rootfs\"}}\n```\nUse instead: the rootfs inside the bundle directory:\n```json\n{\"root\": {\"path\": \"rootfs\"}}\n```",
};

pub static OCI_HOOKS: Rule = Rule {
    code: "security/oci-hooks",
    severity: Warning,
    summary: "The bundle has OCI hooks: programs the runtime runs on the node as root",
    explanation: "## What it does\nReports every entry of `hooks` (`prestart`, `createRuntime`, `createContainer`, `startContainer`, `poststart`, `poststop`).\n\n## Why is this bad?\nAn OCI runtime such as crun runs a hook's `path` with its `args` and `env` as the runtime's user, root, and the prestart, createRuntime, poststart and poststop hooks in the node's namespaces: whoever writes the bundle runs any command on the host. On Proxmox the hooks are dropped (`pve/unsupported`); with `--runtime crun` the node policy refuses them by default.\n\n## Example\n```json\n{\"hooks\": {\"prestart\": [{\"path\": \"/usr/bin/setup-net\", \"args\": [\"setup-net\", \"eth0\"]}]}}\n```\nUse instead: do the work in the image's entrypoint, or have the node's operator do it outside the bundle:\n```json\n{\"process\": {\"args\": [\"/usr/bin/entrypoint\"]}}\n```",
};
