//! Structure-aware config.json documents, generated from the field table
//! (`translator::spec::fields::CONFIG`) and driven by a byte source.
//!
//! The fuzz target `structured` and the proptest properties both use this:
//! libFuzzer mutates the bytes, proptest generates and shrinks them. Most
//! choices follow the table (a field of the right type, a value a real bundle
//! would carry), so lowering code is reached; a few are hostile on purpose
//! (wrong types, values at and past every range, strings with quotes, `$()`,
//! control and bidi characters, unknown and duplicate keys).

use arbitrary::{Result, Unstructured};
use translator::spec::fields::{Field, Int, Ty, CONFIG};
use translator::target::{PveContainerVersion, RootfsTarget, Target};

/// A JSON value whose text we write ourselves, so numbers can be anything
/// JSON allows (2^64, 1e308, -0) and objects can repeat keys.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    /// The number's text, written as is.
    Num(String),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Num(n) => out.push_str(n),
            Json::Str(s) => write_str(s, out),
            Json::Arr(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Json::Obj(members) => {
                out.push('{');
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_str(k, out);
                    out.push(':');
                    v.write(out);
                }
                out.push('}');
            }
        }
    }
}

fn write_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Strings that have broken config writers, shells and terminals before.
pub const HOSTILE_STRINGS: &[&str] = &[
    "",
    " ",
    "'",
    "\"",
    "'\"",
    "a b",
    "$(touch /tmp/pwned)",
    "`id`",
    "${IFS}",
    "a;b",
    "a&&b",
    "a|b",
    "a>b",
    "*",
    "~root",
    "#comment",
    "\\",
    "line1\nline2",
    "cr\rhere",
    "nul\u{0}byte",
    "tab\there",
    "trailing ",
    " leading",
    "esc\u{1b}[31m",
    "del\u{7f}",
    "c1\u{85}next",
    "bidi\u{202e}txt.exe",
    "iso\u{2066}late\u{2069}",
    "zero\u{200b}width",
    "\u{feff}bom",
    "%41%3A",
    "a:b",
    "a,b=c",
    "a=b",
    "lxc.hook.pre-start: /bin/sh",
    "/",
    "..",
    "../../etc",
    "/etc/../root",
    "/./x",
    "//double//slash/",
    "é",
    "😀",
    "\u{10ffff}",
    "-rf",
    "--help",
];

const PATHS: &[&str] = &[
    "/",
    "/srv/data",
    "/data",
    "/etc/hosts",
    "/proc",
    "/sys",
    "/dev",
    "/dev/shm",
    "/dev/pts",
    "/dev/mqueue",
    "/sys/fs/cgroup",
    "/run",
    "/tmp",
    "/var/lib/x",
    "/dev/fuse",
    "/dev/net/tun",
    "/dev/null",
    "/mnt/a,b",
    "rootfs",
    "./rootfs",
    "/abs/rootfs",
];
const CAPS: &[&str] = &[
    "CAP_CHOWN",
    "CAP_NET_ADMIN",
    "CAP_SYS_ADMIN",
    "CAP_NET_BIND_SERVICE",
    "CAP_KILL",
    "CAP_SETUID",
    "CAP_SYS_MODULE",
    "CAP_BPF",
    "CAP_PERFMON",
    "CAP_CHECKPOINT_RESTORE",
    "CAP_MAC_ADMIN",
    "CAP_AUDIT_WRITE",
    "CAP_SYS_TIME",
    "CAP_BOGUS",
    "cap_chown",
    "NET_ADMIN",
];
const MOUNT_TYPES: &[&str] = &[
    "bind", "tmpfs", "proc", "sysfs", "devpts", "mqueue", "cgroup", "cgroup2", "shm", "overlay",
    "nfs", "none",
];
const MOUNT_OPTIONS: &[&str] = &[
    "rbind",
    "bind",
    "ro",
    "rw",
    "nosuid",
    "nodev",
    "noexec",
    "noatime",
    "relatime",
    "strictatime",
    "mode=755",
    "size=65536k",
    "private",
    "rprivate",
    "rslave",
    "sync",
    "discard",
    "lazytime",
    "idmap",
    "gid=5",
    "a b",
    "x,y",
];
const ENVS: &[&str] = &[
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "TERM=xterm",
    "A=1",
    "EMPTY=",
    "NOEQ",
    "=value",
    "BAD-NAME=1",
    "SPACE=a b",
    "Q='\"",
    "CMD=$(id)",
    "NL=a\nb",
    "TAB=a\tb",
    "TRAIL=x ",
];
const ARGS: &[&str] = &[
    "/sbin/init",
    "/bin/sh",
    "sh",
    "-c",
    "echo hello world",
    "nginx",
    "-g",
    "daemon off;",
    "it's",
    "\"quoted\"",
    "'single'",
    "x\"y'z w",
];
const VERSIONS: &[&str] = &[
    "1.0.0",
    "1.0.2",
    "1.0.2-dev",
    "1.1.0",
    "1.2.0",
    "1.2.1",
    "1.3.0",
    "1.4.0",
    "2.0.0",
    "1.0",
    "v1.0.0",
];
const SYSCTLS: &[&str] = &[
    "net.ipv4.ip_forward",
    "kernel.shmmax",
    "kernel.msgmax",
    "fs.mqueue.msg_max",
    "vm.swappiness",
    "kernel.domainname",
    "net.core.somaxconn",
    "kernel.sem",
];
const ANNOTATIONS: &[&str] = &[
    "org.proxmox-lxcri.tags",
    "org.opencontainers.image.stopSignal",
    "org.proxmox-lxcri.stop-signal",
    "io.containerd.image.config.stop-signal",
    "org.opencontainers.image.title",
    "a",
];
const SIGNALS: &[&str] = &[
    "SIGTERM",
    "term",
    "SIGQUIT",
    "15",
    "99",
    "SIGRTMIN+3",
    "SIGFOO",
];
const CGROUP_FILES: &[&str] = &[
    "memory.high",
    "memory.max",
    "pids.max",
    "cpu.weight",
    "io.max",
    "cgroup.procs",
    "Memory.High",
    "hugetlb.2MB.max",
];
const CPUSETS: &[&str] = &[
    "0", "0-3", "0-3,6", "1,1,2", "3-1", "", "a", "0-65535", "0-70000",
];
const HOSTNAMES: &[&str] = &[
    "web",
    "web-1.example.org",
    "web_1",
    "-x",
    "a..b",
    "localhost",
];
const RLIMIT_TYPES: &[&str] = &[
    "RLIMIT_NOFILE",
    "RLIMIT_CORE",
    "RLIMIT_NPROC",
    "RLIMIT_BOGUS",
    "nofile",
];
const APPARMOR: &[&str] = &[
    "unconfined",
    "lxc-container-default-cgns",
    "docker-default",
    "runtime/default",
];
const SYSCALLS: &[&str] = &[
    "read",
    "write",
    "mount",
    "ptrace",
    "clone",
    "keyctl",
    "bogus_call",
];
const DEVICE_ACCESS: &[&str] = &["rwm", "r", "w", "m", "rw", "x", ""];

/// Integer texts around every range the table uses, plus non-integers.
const NUMBERS: &[&str] = &[
    "0",
    "1",
    "-1",
    "2",
    "16",
    "100",
    "1000",
    "65535",
    "65536",
    "100000",
    "2147483647",
    "2147483648",
    "-2147483648",
    "-2147483649",
    "4294967295",
    "4294967296",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "18446744073709551615",
    "18446744073709551616",
    "1e308",
    "1e309",
    "-0",
    "0.5",
    "1.0",
    "1E3",
    "16777216",
    "16777215",
    "1073741824",
    "1048575",
    "536870912",
    "100000000000000000000000000000000000000",
];

/// Where a value sits, so strings can be plausible for their field.
fn hints(path: &[&str]) -> &'static [&'static str] {
    let last = path.last().copied().unwrap_or_default();
    let parent = path.iter().rev().nth(1).copied().unwrap_or_default();
    match (parent, last) {
        (_, "ociVersion") => VERSIONS,
        ("root", "path") => PATHS,
        (_, "destination" | "source" | "cwd") => PATHS,
        ("mounts" | "*", "type") if path.contains(&"mounts") => MOUNT_TYPES,
        (_, "options") | ("options", _) => MOUNT_OPTIONS,
        ("capabilities", _)
        | (_, "bounding" | "effective" | "inheritable" | "permitted" | "ambient") => CAPS,
        ("env", _) | (_, "env") => ENVS,
        ("args", _) | (_, "args") => ARGS,
        ("sysctl", _) => SYSCTLS,
        ("annotations", _) => SIGNALS,
        ("unified", _) => CGROUP_FILES,
        (_, "cpus" | "mems") => CPUSETS,
        (_, "hostname" | "domainname") => HOSTNAMES,
        ("rlimits" | "*", "type") if path.contains(&"rlimits") => RLIMIT_TYPES,
        (_, "apparmorProfile") => APPARMOR,
        ("names", _) | (_, "names") => SYSCALLS,
        (_, "access") => DEVICE_ACCESS,
        (_, "path") => PATHS,
        _ => &[],
    }
}

fn map_keys(path: &[&str]) -> &'static [&'static str] {
    match path.last().copied().unwrap_or_default() {
        "annotations" => ANNOTATIONS,
        "sysctl" => SYSCTLS,
        "unified" => CGROUP_FILES,
        "rdma" => &["mlx5_0", "bad device", ""],
        "netDevices" => &["eth0", "eth1", "ens3"],
        "timeOffsets" => &["boottime", "monotonic"],
        _ => &["x"],
    }
}

/// Generator state: the byte source and a budget that keeps documents small.
pub struct Gen<'a, 'b> {
    pub u: &'a mut Unstructured<'b>,
    /// Values still allowed; each generated value costs one.
    budget: usize,
    /// How often a value is hostile: 1 in `hostility` (mostly plausible
    /// documents reach deep into lowering; hostile ones test the guards).
    hostility: u32,
}

impl<'a, 'b> Gen<'a, 'b> {
    pub fn new(u: &'a mut Unstructured<'b>) -> Result<Self> {
        let hostility = *u.choose(&[400, 400, 60, 12])?;
        Ok(Gen {
            u,
            budget: 400,
            hostility,
        })
    }

    /// A hostile choice, at the document's rate.
    fn hostile(&mut self) -> Result<bool> {
        self.u.ratio(1, self.hostility)
    }

    /// True with probability `num/den` (false once the bytes run out).
    fn chance(&mut self, num: u32, den: u32) -> Result<bool> {
        self.u.ratio(num, den)
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> Result<T> {
        Ok(*self.u.choose(items)?)
    }

    fn string(&mut self, path: &[&str]) -> Result<String> {
        let hints = hints(path);
        if !self.hostile()? {
            if !hints.is_empty() {
                return Ok(self.pick(hints)?.to_string());
            }
            if self.u.ratio(1, 2)? {
                return Ok(self.pick(PATHS)?.to_string());
            }
        }
        Ok(match self.u.int_in_range(0..=9u8)? {
            0..=5 if !hints.is_empty() => self.pick(hints)?.to_string(),
            0..=2 => self.pick(PATHS)?.to_string(),
            6 | 3 => self.pick(HOSTILE_STRINGS)?.to_string(),
            7 if !hints.is_empty() => {
                // A plausible value with something hostile glued on.
                let a = self.pick(hints)?;
                let b = self.pick(HOSTILE_STRINGS)?;
                if self.u.arbitrary()? {
                    format!("{a}{b}")
                } else {
                    format!("{b}{a}")
                }
            }
            8 => {
                let n = self.u.int_in_range(0..=24usize)?;
                let mut s = String::new();
                for _ in 0..n {
                    s.push(self.u.arbitrary::<char>()?);
                }
                s
            }
            _ => self.u.arbitrary::<String>()?,
        })
    }

    fn number(&mut self, int: Option<Int>) -> Result<String> {
        if let (Some(int), false) = (int, self.hostile()?) {
            let (min, max) = int.range();
            let small = self.u.int_in_range(0..=4096i128)?;
            return Ok(match self.u.int_in_range(0..=3u8)? {
                0 => small.clamp(min, max).to_string(),
                1 => (self.u.int_in_range(16..=4096i128)? * 1_048_576)
                    .clamp(min, max)
                    .to_string(),
                2 => (small * 1000).clamp(min, max).to_string(),
                _ => max.min(small).max(min).to_string(),
            });
        }
        if let (Some(int), true) = (int, self.chance(1, 2)?) {
            let (min, max) = int.range();
            return Ok(match self.u.int_in_range(0..=5u8)? {
                0 => min.to_string(),
                1 => max.to_string(),
                2 => (max + 1).to_string(),
                3 => (min - 1).to_string(),
                4 => {
                    // A size in whole or partial MiB, as memory limits are.
                    let mib = self.u.int_in_range(0..=1u64 << 20)?;
                    let extra = if self.u.arbitrary()? {
                        0
                    } else {
                        self.u.int_in_range(0..=1_048_575u64)?
                    };
                    (mib * 1_048_576 + extra).to_string()
                }
                _ => {
                    let v = self.u.int_in_range(0..=i64::MAX)?;
                    v.clamp(
                        0,
                        i64::try_from(max.min(i128::from(i64::MAX))).unwrap_or(i64::MAX),
                    )
                    .to_string()
                }
            });
        }
        Ok(self.pick(NUMBERS)?.to_string())
    }

    /// Any JSON value, for `Ty::Any` and for wrong-type mutations.
    fn any(&mut self, depth: usize) -> Result<Json> {
        let kind = if depth == 0 {
            self.u.int_in_range(0..=3u8)?
        } else {
            self.u.int_in_range(0..=5u8)?
        };
        Ok(match kind {
            0 => Json::Null,
            1 => Json::Bool(self.u.arbitrary()?),
            2 => Json::Num(self.number(None)?),
            3 => Json::Str(self.string(&[])?),
            4 => {
                let n = self.u.int_in_range(0..=3usize)?;
                let mut items = Vec::new();
                for _ in 0..n {
                    items.push(self.any(depth - 1)?);
                }
                Json::Arr(items)
            }
            _ => {
                let n = self.u.int_in_range(0..=3usize)?;
                let mut members = Vec::new();
                for _ in 0..n {
                    let k = self.string(&[])?;
                    members.push((k, self.any(depth - 1)?));
                }
                Json::Obj(members)
            }
        })
    }

    pub fn value(&mut self, ty: &'static Ty, path: &mut Vec<&'static str>) -> Result<Json> {
        self.budget = self.budget.saturating_sub(1);
        if self.hostile()? && self.chance(1, 3)? {
            return self.any(2);
        }
        Ok(match ty {
            Ty::Any => self.any(3)?,
            Ty::Bool => Json::Bool(self.u.arbitrary()?),
            Ty::Str => Json::Str(self.string(path)?),
            Ty::Int(int) => Json::Num(self.number(Some(*int))?),
            Ty::Enum(values) => {
                if self.hostile()? {
                    Json::Str(self.string(path)?)
                } else {
                    Json::Str(self.pick(values)?.to_string())
                }
            }
            Ty::Array(inner) => {
                let n = self.length()?;
                let mut items = Vec::with_capacity(n);
                path.push("*");
                for _ in 0..n {
                    items.push(self.value(inner, path)?);
                }
                path.pop();
                Json::Arr(items)
            }
            Ty::Map(inner) => {
                let n = self.length()?;
                let keys = map_keys(path);
                let mut members = Vec::with_capacity(n);
                for _ in 0..n {
                    let key = if self.chance(3, 4)? {
                        self.pick(keys)?.to_string()
                    } else {
                        self.string(&[])?
                    };
                    path.push("*");
                    let value = if path.len() >= 2 && path[path.len() - 2] == "annotations" {
                        Json::Str(self.string(&["annotations", "*"])?)
                    } else {
                        self.value(inner, path)?
                    };
                    path.pop();
                    if members.iter().any(|(k, _)| *k == key) && !self.hostile()? {
                        continue;
                    }
                    members.push((key, value));
                }
                Json::Obj(members)
            }
            Ty::Obj(fields) => self.object(fields, path)?,
        })
    }

    fn length(&mut self) -> Result<usize> {
        if self.budget == 0 {
            return Ok(0);
        }
        Ok(match self.u.int_in_range(0..=15u8)? {
            0..=3 => 0,
            4..=12 => self.u.int_in_range(1..=4usize)?,
            13 | 14 => self.u.int_in_range(5..=12usize)?,
            // Many entries: 300 mounts, thousands of capabilities.
            _ if self.hostility <= 60 => self.u.int_in_range(13..=300usize)?,
            _ => self.u.int_in_range(5..=12usize)?,
        })
    }

    pub fn object(
        &mut self,
        fields: &'static [Field],
        path: &mut Vec<&'static str>,
    ) -> Result<Json> {
        let mut members = Vec::new();
        for field in fields {
            let present = if field.required {
                !self.hostile()?
            } else if field.name == "root" || field.name == "args" {
                !self.hostile()? || self.chance(1, 2)?
            } else {
                self.budget > 0 && self.chance(1, 3)?
            };
            if !present {
                continue;
            }
            path.push(field.name);
            let value = self.value(&field.ty, path)?;
            path.pop();
            members.push((field.name.to_string(), value));
        }
        if self.hostile()? {
            // An unknown field, or a near miss of a known one.
            let name = match fields.first() {
                Some(f) if self.u.arbitrary()? => format!("{}s", f.name),
                _ => self.string(&[])?,
            };
            members.push((name, self.any(1)?));
        }
        if !members.is_empty() && self.hostile()? && self.chance(1, 4)? {
            // A duplicate key: the reader must report it and keep the last.
            let i = self.u.choose_index(members.len())?;
            let dup = members[i].clone();
            members.push(dup);
        }
        if members.len() > 1 && self.chance(1, 8)? {
            let i = self.u.choose_index(members.len())?;
            let j = self.u.choose_index(members.len())?;
            members.swap(i, j);
        }
        Ok(Json::Obj(members))
    }
}

/// A whole config.json document.
pub fn document(u: &mut Unstructured<'_>) -> Result<Json> {
    let mut g = Gen::new(u)?;
    let mut path = Vec::new();
    let mut doc = g.object(CONFIG, &mut path)?;
    // Most real bundles are 1.0.2 – 1.2.x; keep the version valid most of the time
    // so lowering (not the version check) is what runs.
    if let Json::Obj(members) = &mut doc {
        if g.chance(4, 5)? {
            members.retain(|(k, _)| k != "ociVersion");
            let v = g.pick(&VERSIONS[..7])?;
            members.insert(0, ("ociVersion".into(), Json::Str(v.into())));
        }
    }
    Ok(doc)
}

/// A target node: every release the translator distinguishes, both rootfs modes.
pub fn target(u: &mut Unstructured<'_>) -> Result<Target> {
    let release = *u.choose(&["8.4", "9.0", "9.1", "9.2"])?;
    let mut t = Target::default();
    if let Some(v) = PveContainerVersion::for_pve_release(release) {
        t.pve_container = v;
    }
    if u.ratio(1, 4)? {
        t.rootfs = RootfsTarget::HostPath;
        if u.ratio(3, 4)? {
            t.bundle_dir = Some(
                (*u.choose(&["/srv/bundles/web", "/srv/b,x", "/srv/with space", "/"])?).to_string(),
            );
        }
    }
    t.unprivileged_default = u.ratio(3, 4)?;
    Ok(t)
}

/// The document's bytes and the target, from one byte source.
pub fn case(u: &mut Unstructured<'_>) -> Result<(String, Target)> {
    let target = target(u)?;
    let doc = document(u)?;
    Ok((doc.to_text(), target))
}

/// Structure-aware: the bytes drive the table-based generator.
pub fn structured(schema: &super::pct_grammar::Schema, data: &[u8]) {
    let mut u = arbitrary::Unstructured::new(data);
    let Ok((doc, target)) = case(&mut u) else {
        return;
    };
    let first = super::entry::translate_and_check(schema, doc.as_bytes(), &target);
    let again = super::entry::translate_and_check(schema, doc.as_bytes(), &target);
    assert_eq!(first, again, "two translations of the same input differ");
}
