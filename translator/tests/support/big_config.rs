//! Realistic large configs for the memory measurements (translator/benches/memory.rs,
//! translator/tests/memory.rs): what a generated or accumulated config.json
//! of tens or hundreds of megabytes looks like, built like podman's.
//!
//! The bytes are split roughly as: 30% a podman-like seccomp profile (rules
//! with `names` lists and `args` filters), 25% environment variables, 25%
//! mounts (podman's defaults, 200 bind volumes, then tmpfs mounts), 10% long
//! strings (megabyte-sized `process.args` items), 5% annotations and 5% a
//! deep but legal nesting (chains 100 objects deep, in the `windows` section
//! that Proxmox ignores). Numbers are written as podman writes them.
//!
//! The generator is deterministic: the same size gives the same bytes.

/// The syscall names podman's default profile allows (a selection); rules
/// cycle through them.
const SYSCALLS: &[&str] = &[
    "accept",
    "accept4",
    "access",
    "adjtimex",
    "alarm",
    "bind",
    "brk",
    "capget",
    "capset",
    "chdir",
    "chmod",
    "chown",
    "clock_getres",
    "clock_gettime",
    "clock_nanosleep",
    "clone",
    "clone3",
    "close",
    "close_range",
    "connect",
    "copy_file_range",
    "creat",
    "dup",
    "dup2",
    "dup3",
    "epoll_create",
    "epoll_create1",
    "epoll_ctl",
    "epoll_pwait",
    "epoll_wait",
    "eventfd",
    "eventfd2",
    "execve",
    "execveat",
    "exit",
    "exit_group",
    "faccessat",
    "faccessat2",
    "fadvise64",
    "fallocate",
    "fanotify_mark",
    "fchdir",
    "fchmod",
    "fchmodat",
    "fchown",
    "fchownat",
    "fcntl",
    "fdatasync",
    "fgetxattr",
    "flistxattr",
    "flock",
    "fork",
    "fremovexattr",
    "fsetxattr",
    "fstat",
    "fstatfs",
    "fsync",
    "ftruncate",
    "futex",
    "getcwd",
    "getdents",
    "getdents64",
    "getegid",
    "geteuid",
    "getgid",
    "getgroups",
    "getitimer",
    "getpeername",
    "getpgid",
    "getpgrp",
    "getpid",
    "getppid",
    "getpriority",
    "getrandom",
    "getresgid",
    "getresuid",
    "getrlimit",
    "getrusage",
    "getsid",
    "getsockname",
    "getsockopt",
    "gettid",
    "gettimeofday",
    "getuid",
    "getxattr",
    "inotify_add_watch",
    "inotify_init",
    "inotify_init1",
    "inotify_rm_watch",
    "io_cancel",
    "io_destroy",
    "io_getevents",
    "io_setup",
    "io_submit",
    "ioctl",
    "ioprio_get",
    "ioprio_set",
    "kill",
    "lchown",
    "lgetxattr",
    "link",
    "linkat",
    "listen",
    "listxattr",
    "llistxattr",
    "lremovexattr",
    "lseek",
    "lsetxattr",
    "lstat",
    "madvise",
    "membarrier",
    "memfd_create",
    "mincore",
    "mkdir",
    "mkdirat",
    "mknod",
    "mknodat",
    "mlock",
    "mlock2",
    "mlockall",
    "mmap",
    "mprotect",
    "mq_getsetattr",
    "mq_notify",
    "mq_open",
    "mq_timedreceive",
    "mq_timedsend",
    "mq_unlink",
    "mremap",
    "msgctl",
    "msgget",
    "msgrcv",
    "msgsnd",
    "msync",
    "munlock",
    "munlockall",
    "munmap",
    "nanosleep",
    "newfstatat",
    "open",
    "openat",
    "openat2",
    "pause",
    "pidfd_open",
    "pidfd_send_signal",
    "pipe",
    "pipe2",
    "poll",
    "ppoll",
    "prctl",
    "pread64",
    "preadv",
    "preadv2",
    "prlimit64",
    "pselect6",
    "pwrite64",
    "pwritev",
    "pwritev2",
    "read",
    "readahead",
    "readlink",
    "readlinkat",
    "readv",
    "recvfrom",
    "recvmmsg",
    "recvmsg",
    "remap_file_pages",
    "removexattr",
    "rename",
    "renameat",
    "renameat2",
    "restart_syscall",
    "rmdir",
    "rseq",
    "rt_sigaction",
    "rt_sigpending",
    "rt_sigprocmask",
    "rt_sigqueueinfo",
    "rt_sigreturn",
    "rt_sigsuspend",
    "rt_sigtimedwait",
    "sched_get_priority_max",
    "sched_getaffinity",
    "sched_getattr",
    "sched_getparam",
    "sched_getscheduler",
    "sched_setaffinity",
    "sched_setattr",
    "sched_yield",
    "seccomp",
    "select",
    "semctl",
    "semget",
    "semop",
    "sendfile",
    "sendmmsg",
    "sendmsg",
    "sendto",
    "set_robust_list",
    "set_tid_address",
    "setfsgid",
    "setfsuid",
    "setgid",
    "setgroups",
    "setitimer",
    "setpgid",
    "setpriority",
    "setregid",
    "setresgid",
    "setresuid",
    "setreuid",
    "setsid",
    "setsockopt",
    "setuid",
    "setxattr",
    "shmat",
    "shmctl",
    "shmdt",
    "shmget",
    "shutdown",
    "sigaltstack",
    "signalfd",
    "signalfd4",
    "socket",
    "socketpair",
    "splice",
    "stat",
    "statfs",
    "statx",
    "symlink",
    "symlinkat",
    "sync",
    "sync_file_range",
    "syncfs",
    "sysinfo",
    "tee",
    "tgkill",
    "time",
    "timer_create",
    "timer_delete",
    "timer_getoverrun",
    "timer_gettime",
    "timer_settime",
    "timerfd_create",
    "timerfd_gettime",
    "timerfd_settime",
    "times",
    "tkill",
    "truncate",
    "umask",
    "uname",
    "unlink",
    "unlinkat",
    "utime",
    "utimensat",
    "utimes",
    "vfork",
    "wait4",
    "waitid",
    "write",
    "writev",
];

const CAPS: &str = r#"["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FOWNER","CAP_FSETID","CAP_KILL","CAP_NET_BIND_SERVICE","CAP_SETFCAP","CAP_SETGID","CAP_SETPCAP","CAP_SETUID","CAP_SYS_CHROOT"]"#;

const PODMAN_MOUNTS: &str = r#"{"destination":"/proc","type":"proc","source":"proc","options":["nosuid","noexec","nodev"]},{"destination":"/dev","type":"tmpfs","source":"tmpfs","options":["nosuid","noexec","strictatime","mode=755","size=65536k"]},{"destination":"/sys","type":"sysfs","source":"sysfs","options":["nosuid","noexec","nodev","ro"]},{"destination":"/dev/pts","type":"devpts","source":"devpts","options":["nosuid","noexec","newinstance","ptmxmode=0666","mode=0620","gid=5"]},{"destination":"/dev/mqueue","type":"mqueue","source":"mqueue","options":["nosuid","noexec","nodev"]},{"destination":"/sys/fs/cgroup","type":"cgroup","source":"cgroup","options":["rprivate","nosuid","noexec","nodev","relatime","ro"]}"#;

const LINUX_HEAD: &str = r#""uidMappings":[{"containerID":0,"hostID":100000,"size":65536}],"gidMappings":[{"containerID":0,"hostID":100000,"size":65536}],"sysctl":{"net.ipv4.ping_group_range":"0 0"},"resources":{"memory":{"limit":2147483648},"cpu":{"shares":1024,"quota":200000,"period":100000},"pids":{"limit":2048}},"cgroupsPath":"machine.slice:libpod:1111","namespaces":[{"type":"pid"},{"type":"network"},{"type":"ipc"},{"type":"uts"},{"type":"mount"},{"type":"cgroup"},{"type":"user"}],"maskedPaths":["/proc/acpi","/proc/kcore","/proc/keys","/proc/latency_stats","/proc/timer_list","/proc/timer_stats","/proc/sched_debug","/proc/scsi","/sys/firmware","/sys/fs/selinux","/sys/dev/block"],"readonlyPaths":["/proc/asound","/proc/bus","/proc/fs","/proc/irq","/proc/sys","/proc/sysrq-trigger"]"#;

/// How deep each nested chain goes: legal (the reader allows 128 levels,
/// and the chain starts at level 3), and deep enough to cost.
pub const CHAIN_DEPTH: usize = 100;

/// A config of about `size` bytes (within a few kilobytes).
pub fn generate(size: usize) -> String {
    let mut s = String::with_capacity(size + 64 * 1024);
    let share = |percent: usize| size / 100 * percent;

    s.push_str(r#"{"ociVersion":"1.0.2-dev","process":{"user":{"uid":0,"gid":0,"umask":18},"args":["/bin/sh","-c","exec /app/run.sh""#);
    // Long strings: megabyte arguments (an inlined script, say).
    let long_total = share(10);
    let mut written = 0;
    let mut n = 0;
    while written + 16 < long_total {
        let len = (long_total - written).min(1 << 20);
        s.push_str(",\"");
        // Printable text with spaces and an escaped quote now and then, like a script.
        let chunk = "echo \\\"step\\\" && run --flag=value ";
        let mut k = 0;
        while k + chunk.len() <= len {
            s.push_str(chunk);
            k += chunk.len();
        }
        s.push_str(&format!("{n:x}"));
        s.push('"');
        written += len + 3;
        n += 1;
    }
    s.push_str(r#"],"env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","TERM=xterm","container=podman","HOME=/root""#);
    let env_end = s.len() + share(25);
    let mut i = 0u64;
    while s.len() < env_end {
        s.push_str(&format!(
            ",\"APP_SETTING_{i:07}=value-{i:07}-{}\"",
            "abcdefghijklmnopqrstuvwxyz0123456789abcdefghij"
        ));
        i += 1;
    }
    s.push_str(&format!(r#"],"cwd":"/","capabilities":{{"bounding":{CAPS},"effective":{CAPS},"permitted":{CAPS}}},"rlimits":[{{"type":"RLIMIT_NOFILE","hard":1048576,"soft":1048576}},{{"type":"RLIMIT_NPROC","hard":32768,"soft":32768}}],"noNewPrivileges":true}},"#));
    s.push_str(r#""root":{"path":"rootfs"},"hostname":"app-large","mounts":["#);
    s.push_str(PODMAN_MOUNTS);
    let mounts_end = s.len() + share(25);
    for v in 0..200 {
        s.push_str(&format!(
            r#",{{"destination":"/data/volume-{v:03}","type":"bind","source":"/srv/volumes/project-{v:03}/_data","options":["rbind","rw","nosuid","nodev","rprivate"]}}"#
        ));
    }
    let mut m = 0u64;
    while s.len() < mounts_end {
        s.push_str(&format!(
            r#",{{"destination":"/run/cache/shard-{m:07}","type":"tmpfs","source":"tmpfs","options":["rw","nosuid","nodev","noexec","mode=1777","size=65536k"]}}"#
        ));
        m += 1;
    }
    s.push_str(r#"],"annotations":{"io.container.manager":"libpod","org.opencontainers.image.stopSignal":"15""#);
    let annotations_end = s.len() + share(5).min(6 * 1024);
    let mut a = 0;
    while s.len() < annotations_end {
        s.push_str(&format!(r#","io.podman.annotations.label-{a:04}":"v{a}""#));
        a += 1;
    }
    s.push_str(r#"},"linux":{"#);
    s.push_str(LINUX_HEAD);
    s.push_str(r#","seccomp":{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":38,"architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X32"],"syscalls":["#);
    let seccomp_end = s.len() + share(30);
    let mut r = 0usize;
    while s.len() < seccomp_end {
        if r > 0 {
            s.push(',');
        }
        s.push_str(r#"{"names":["#);
        for k in 0..12 {
            if k > 0 {
                s.push(',');
            }
            s.push('"');
            s.push_str(SYSCALLS[(r * 12 + k) % SYSCALLS.len()]);
            s.push('"');
        }
        // Distinct filters, so no rule repeats an earlier one.
        s.push_str(&format!(
            r#"],"action":"SCMP_ACT_ALLOW","args":[{{"index":0,"value":{},"valueTwo":0,"op":"SCMP_CMP_MASKED_EQ"}}]}}"#,
            2_114_060_288u64 + r as u64
        ));
        r += 1;
    }
    s.push_str("]}},");
    // Deep but legal nesting, in a section Proxmox ignores by design.
    s.push_str(r#""windows":{"layerFolders":["C:\\layers\\base"],"devices":["#);
    let deep_end = size.saturating_sub(8).max(s.len() + 1);
    let mut c = 0;
    while s.len() < deep_end {
        if c > 0 {
            s.push(',');
        }
        s.push_str(&"{\"id\":1,\"next\":".repeat(CHAIN_DEPTH));
        s.push_str("null");
        s.push_str(&"}".repeat(CHAIN_DEPTH));
        c += 1;
    }
    s.push_str("]}}");
    s
}
