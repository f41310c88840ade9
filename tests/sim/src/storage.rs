//! Storages from `/etc/pve/storage.cfg`: `dir` storages (like `local`) and `lvmthin` storages
//! (like `local-lvm`). Both are backed by plain directories under the state root; see the
//! README for what that changes.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use crate::error::{SimError, SimResult};
use crate::formats::parse_volume_id;
use crate::state::{mkdir_p, GuestKind, Sim};

/// Storage plugin types the simulator implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageType {
    Dir,
    LvmThin,
}

impl StorageType {
    pub fn name(self) -> &'static str {
        match self {
            StorageType::Dir => "dir",
            StorageType::LvmThin => "lvmthin",
        }
    }
}

/// One storage definition.
#[derive(Debug, Clone)]
pub struct StorageCfg {
    pub id: String,
    pub kind: StorageType,
    pub path: Option<String>,
    pub vgname: Option<String>,
    pub content: BTreeSet<String>,
    pub disable: bool,
    pub nodes: Option<BTreeSet<String>>,
}

/// `vtype` of a volume name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolName {
    pub vtype: String,
    pub name: String,
    pub owner: Option<u64>,
    pub format: String,
}

/// A listed volume (`pvesm list`).
#[derive(Debug, Clone)]
pub struct VolInfo {
    pub volid: String,
    pub format: String,
    pub content: String,
    pub size: Option<u64>,
    pub vmid: Option<u64>,
}

/// The parsed storage.cfg.
#[derive(Debug, Clone)]
pub struct Storages {
    pub ids: BTreeMap<String, StorageCfg>,
}

const VTYPE_SUBDIRS: [(&str, &str); 7] = [
    ("images", "images"),
    ("rootdir", "private"),
    ("iso", "template/iso"),
    ("vztmpl", "template/cache"),
    ("backup", "dump"),
    ("snippets", "snippets"),
    ("import", "import"),
];

/// `$VZTMPL_EXT_RE_1`: `.tar`, `.tar.gz`, `.tar.xz`, `.tar.zst`, `.tar.bz2` (any case).
/// Returns the `format` Proxmox lists (`tar`, `tgz`, `tzst`, ...).
pub fn vztmpl_format(file: &str) -> Option<String> {
    let lower = file.to_ascii_lowercase();
    if lower.ends_with(".tar") {
        return Some("tar".into());
    }
    for ext in ["gz", "xz", "zst", "bz2"] {
        if lower.ends_with(&format!(".tar.{ext}")) {
            let actual = file.get(file.len() - ext.len()..).unwrap_or(ext);
            return Some(format!("t{actual}"));
        }
    }
    None
}

impl Storages {
    /// Reads `/etc/pve/storage.cfg` (section-config format).
    pub fn load(sim: &Sim) -> SimResult<Self> {
        let path = sim.path("/etc/pve/storage.cfg");
        let text = fs::read_to_string(&path)
            .map_err(|e| SimError::io(format!("read {}", path.display()), e))?;
        let mut ids = BTreeMap::new();
        let mut current: Option<StorageCfg> = None;
        for (lineno, line) in text.lines().enumerate() {
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            if !line.starts_with([' ', '\t']) {
                if let Some(s) = current.take() {
                    ids.insert(s.id.clone(), s);
                }
                let (ty, id) = trimmed
                    .split_once(':')
                    .ok_or_else(|| bad_cfg(lineno, line))?;
                let kind = match ty.trim() {
                    "dir" => StorageType::Dir,
                    "lvmthin" => StorageType::LvmThin,
                    other => {
                        return Err(SimError::Setup(format!(
                            "storage.cfg line {}: storage type '{other}' is not simulated",
                            lineno + 1
                        )))
                    }
                };
                current = Some(StorageCfg {
                    id: id.trim().to_string(),
                    kind,
                    path: None,
                    vgname: None,
                    content: BTreeSet::new(),
                    disable: false,
                    nodes: None,
                });
                continue;
            }
            let s = current.as_mut().ok_or_else(|| bad_cfg(lineno, line))?;
            let (key, value) = trimmed
                .split_once(char::is_whitespace)
                .unwrap_or((trimmed, ""));
            let value = value.trim();
            match key {
                "path" => s.path = Some(value.to_string()),
                "vgname" => s.vgname = Some(value.to_string()),
                "content" => s.content = value.split(',').map(|c| c.trim().to_string()).collect(),
                "disable" => s.disable = value.is_empty() || value == "1",
                "nodes" => s.nodes = Some(value.split(',').map(|n| n.trim().to_string()).collect()),
                _ => {}
            }
        }
        if let Some(s) = current.take() {
            ids.insert(s.id.clone(), s);
        }
        Ok(Storages { ids })
    }

    /// `storage_config`.
    pub fn config(&self, id: &str) -> SimResult<&StorageCfg> {
        self.ids
            .get(id)
            .ok_or_else(|| SimError::die(format!("storage '{id}' does not exist\n")))
    }

    /// `storage_check_enabled` (with the node check).
    pub fn check_enabled(&self, id: &str, node: &str) -> SimResult<&StorageCfg> {
        let s = self.config(id)?;
        if s.disable {
            return Err(SimError::die(format!("storage '{id}' is disabled\n")));
        }
        if let Some(nodes) = &s.nodes {
            if !nodes.contains(node) {
                return Err(SimError::die(format!(
                    "storage '{id}' is not available on node '{node}'\n"
                )));
            }
        }
        Ok(s)
    }

    /// `parse_volname` for a volid.
    pub fn parse_volname(&self, volid: &str) -> SimResult<(String, VolName)> {
        let (sid, volname) = parse_volume_id(volid)
            .ok_or_else(|| SimError::die(format!("unable to parse volume ID '{volid}'\n")))?;
        let s = self.config(&sid)?;
        Ok((sid, parse_volname(s.kind, &volname)?))
    }

    /// `PVE::Storage::path`: the host path of a volume (re-rooted under the state root).
    pub fn path(&self, sim: &Sim, volid: &str) -> SimResult<PathBuf> {
        let (sid, vn) = self.parse_volname(volid)?;
        let s = self.config(&sid)?;
        match s.kind {
            StorageType::Dir => {
                let base = s
                    .path
                    .as_deref()
                    .ok_or_else(|| SimError::die("storage definition has no path\n"))?;
                let sub = subdir(&vn.vtype)?;
                let mut p = sim.path(base).join(sub);
                if vn.vtype == "images" || vn.vtype == "rootdir" {
                    if let Some(owner) = vn.owner {
                        p = p.join(owner.to_string());
                    }
                }
                Ok(p.join(&vn.name))
            }
            StorageType::LvmThin => {
                let vg = s.vgname.as_deref().unwrap_or("pve");
                Ok(sim.path(&format!("/dev/{vg}/{}", vn.name)))
            }
        }
    }

    /// The directory holding a storage's content of one type (`template/cache` for `vztmpl`).
    pub fn content_dir(&self, sim: &Sim, id: &str, vtype: &str) -> SimResult<Option<PathBuf>> {
        let s = self.config(id)?;
        match (s.kind, s.path.as_deref()) {
            (StorageType::Dir, Some(base)) => Ok(Some(sim.path(base).join(subdir(vtype)?))),
            _ => Ok(None),
        }
    }

    /// `vdisk_alloc`: allocates `vm-<vmid>-disk-N` (raw) or `subvol-<vmid>-disk-N` as a directory
    /// and records its size next to it. Returns the new volid.
    pub fn alloc(
        &self,
        sim: &Sim,
        id: &str,
        vmid: u64,
        subvol: bool,
        size_kb: u64,
    ) -> SimResult<String> {
        let s = self.config(id)?;
        let (prefix, suffix) = match (s.kind, subvol) {
            (StorageType::Dir, true) => ("subvol", ".subvol"),
            (StorageType::Dir, false) => ("vm", ".raw"),
            (StorageType::LvmThin, _) => ("vm", ""),
        };
        let existing: BTreeSet<String> = self
            .list_images(sim, s, None)?
            .into_iter()
            .map(|v| v.volid)
            .collect();
        for n in 0..1000u32 {
            let name = format!("{prefix}-{vmid}-disk-{n}{suffix}");
            let volid = match s.kind {
                StorageType::Dir => format!("{id}:{vmid}/{name}"),
                StorageType::LvmThin => format!("{id}:{name}"),
            };
            // Any disk number in use (in any format) is skipped, like find_free_diskname.
            let taken = existing
                .iter()
                .any(|v| v.contains(&format!("-{vmid}-disk-{n}")));
            if taken {
                continue;
            }
            let path = self.path(sim, &volid)?;
            mkdir_p(&path)?;
            let size_file = size_file(&path);
            fs::write(&size_file, format!("{}\n", size_kb * 1024))
                .map_err(|e| SimError::io(format!("write {}", size_file.display()), e))?;
            return Ok(volid);
        }
        Err(SimError::die(format!(
            "unable to allocate an image name for VM {vmid} in storage '{id}'\n"
        )))
    }

    /// `vdisk_free`.
    pub fn free(&self, sim: &Sim, volid: &str) -> SimResult<()> {
        let path = self.path(sim, volid)?;
        if path.exists() {
            fs::remove_dir_all(&path)
                .map_err(|e| SimError::io(format!("remove {}", path.display()), e))?;
        }
        let _ = fs::remove_file(size_file(&path));
        if let Some(parent) = path.parent() {
            // Dir storages keep images in images/<vmid>/; drop the empty directory.
            let _ = fs::remove_dir(parent);
        }
        Ok(())
    }

    /// `volume_list`: the content of one storage, optionally of one type, sorted by volid.
    pub fn list(
        &self,
        sim: &Sim,
        id: &str,
        vmid: Option<u64>,
        content: Option<&str>,
    ) -> SimResult<Vec<VolInfo>> {
        let s = self.check_enabled(id, &sim.node)?;
        let all = [
            "rootdir", "images", "vztmpl", "iso", "backup", "snippets", "import",
        ];
        let wanted: Vec<&str> = match content {
            Some(c) => vec![c],
            None => all.to_vec(),
        };
        let wanted: Vec<&str> = wanted
            .into_iter()
            .filter(|c| s.content.contains(*c))
            .collect();
        let vmlist = sim.vmlist()?;
        let mut res = Vec::new();
        for ct in &wanted {
            if *ct == "images" || *ct == "rootdir" {
                // Run once per type; each run keeps only volumes of its own type.
                for mut v in self.list_images(sim, s, vmid)? {
                    let is_ct = v
                        .vmid
                        .and_then(|id| vmlist.get(&id))
                        .is_some_and(|e| e.kind == GuestKind::Ct);
                    v.content = if is_ct {
                        "rootdir".into()
                    } else {
                        "images".into()
                    };
                    if v.content == *ct {
                        res.push(v);
                    }
                }
            } else if *ct == "vztmpl" && vmid.is_none() {
                if let Some(dir) = self.content_dir(sim, id, "vztmpl")? {
                    let Ok(entries) = fs::read_dir(&dir) else {
                        continue;
                    };
                    for e in entries.flatten() {
                        let Ok(meta) = e.metadata() else { continue };
                        if meta.is_dir() {
                            continue;
                        }
                        let name = e.file_name().to_string_lossy().into_owned();
                        let Some(format) = vztmpl_format(&name) else {
                            continue;
                        };
                        res.push(VolInfo {
                            volid: format!("{id}:vztmpl/{name}"),
                            format,
                            content: "vztmpl".into(),
                            size: Some(meta.size()),
                            vmid: None,
                        });
                    }
                }
            }
        }
        res.sort_by_key(|v| v.volid.to_lowercase());
        Ok(res)
    }

    fn list_images(&self, sim: &Sim, s: &StorageCfg, vmid: Option<u64>) -> SimResult<Vec<VolInfo>> {
        let mut out = Vec::new();
        match s.kind {
            StorageType::Dir => {
                let Some(base) = s.path.as_deref() else {
                    return Ok(out);
                };
                let images = sim.path(base).join("images");
                let Ok(owners) = fs::read_dir(&images) else {
                    return Ok(out);
                };
                for owner in owners.flatten() {
                    let owner_name = owner.file_name().to_string_lossy().into_owned();
                    let Ok(owner_id) = owner_name.parse::<u64>() else {
                        continue;
                    };
                    if vmid.is_some_and(|v| v != owner_id) {
                        continue;
                    }
                    let Ok(files) = fs::read_dir(owner.path()) else {
                        continue;
                    };
                    for f in files.flatten() {
                        let name = f.file_name().to_string_lossy().into_owned();
                        let Some((_, format)) = name.rsplit_once('.') else {
                            continue;
                        };
                        if !matches!(format, "raw" | "qcow2" | "vmdk" | "subvol") {
                            continue;
                        }
                        out.push(VolInfo {
                            volid: format!("{}:{owner_id}/{name}", s.id),
                            format: format.to_string(),
                            content: "images".into(),
                            size: read_size(&f.path()),
                            vmid: Some(owner_id),
                        });
                    }
                }
            }
            StorageType::LvmThin => {
                let vg = s.vgname.as_deref().unwrap_or("pve");
                let dir = sim.path(&format!("/dev/{vg}"));
                let Ok(entries) = fs::read_dir(&dir) else {
                    return Ok(out);
                };
                for e in entries.flatten() {
                    if !e.path().is_dir() {
                        continue;
                    }
                    let name = e.file_name().to_string_lossy().into_owned();
                    let Ok(vn) = parse_volname(StorageType::LvmThin, &name) else {
                        continue;
                    };
                    if vmid.is_some_and(|v| Some(v) != vn.owner) {
                        continue;
                    }
                    out.push(VolInfo {
                        volid: format!("{}:{name}", s.id),
                        format: "raw".into(),
                        content: "images".into(),
                        size: read_size(&e.path()),
                        vmid: vn.owner,
                    });
                }
            }
        }
        Ok(out)
    }

    /// `pvesm status` numbers for one storage: (total, used, avail) bytes of the backing file
    /// system.
    pub fn usage(&self, sim: &Sim, s: &StorageCfg) -> Option<(u64, u64, u64)> {
        let dir = match s.kind {
            StorageType::Dir => sim.path(s.path.as_deref()?),
            StorageType::LvmThin => {
                sim.path(&format!("/dev/{}", s.vgname.as_deref().unwrap_or("pve")))
            }
        };
        let probe = if dir.exists() { dir } else { sim.root.clone() };
        statvfs(&probe)
    }
}

fn bad_cfg(lineno: usize, line: &str) -> SimError {
    SimError::Setup(format!(
        "storage.cfg line {}: cannot parse '{line}'",
        lineno + 1
    ))
}

fn subdir(vtype: &str) -> SimResult<&'static str> {
    VTYPE_SUBDIRS
        .iter()
        .find(|(t, _)| *t == vtype)
        .map(|(_, d)| *d)
        .ok_or_else(|| SimError::die(format!("unknown vtype '{vtype}'\n")))
}

/// Plugin `parse_volname` for the two simulated storage types.
pub fn parse_volname(kind: StorageType, volname: &str) -> SimResult<VolName> {
    let vn = |vtype: &str, name: &str, owner: Option<u64>, format: &str| VolName {
        vtype: vtype.into(),
        name: name.into(),
        owner,
        format: format.into(),
    };
    match kind {
        StorageType::LvmThin => {
            let ok = |prefix: &str| {
                volname.strip_prefix(prefix).and_then(|rest| {
                    let (id, tail) = rest.split_once('-')?;
                    let id: u64 = id.parse().ok()?;
                    (!tail.is_empty() && !tail.chars().any(char::is_whitespace)).then_some(id)
                })
            };
            match ok("vm-").or_else(|| ok("base-")) {
                Some(owner) => Ok(vn("images", volname, Some(owner), "raw")),
                None => Err(SimError::die(format!(
                    "unable to parse lvm volume name '{volname}'\n"
                ))),
            }
        }
        StorageType::Dir => {
            let fail = || {
                SimError::die(format!(
                    "unable to parse directory volume name '{volname}'\n"
                ))
            };
            if let Some((owner, name)) = volname.split_once('/') {
                if let Ok(owner) = owner.parse::<u64>() {
                    if !name.contains('/')
                        && !name.is_empty()
                        && !name.chars().any(char::is_whitespace)
                    {
                        let format = name.rsplit_once('.').map(|(_, f)| f).unwrap_or("");
                        if !matches!(format, "raw" | "qcow2" | "vmdk" | "subvol") {
                            return Err(SimError::die(format!(
                                "unable to parse volume filename '{name}'\n"
                            )));
                        }
                        return Ok(vn("images", name, Some(owner), format));
                    }
                }
            }
            if let Some(file) = volname.strip_prefix("vztmpl/") {
                if !file.contains('/') && vztmpl_format(file).is_some() {
                    return Ok(vn("vztmpl", file, None, "raw"));
                }
                return Err(fail());
            }
            if let Some(file) = volname.strip_prefix("iso/") {
                let lower = file.to_ascii_lowercase();
                if !file.contains('/') && (lower.ends_with(".iso") || lower.ends_with(".img")) {
                    return Ok(vn("iso", file, None, "raw"));
                }
                return Err(fail());
            }
            if let Some(file) = volname.strip_prefix("snippets/") {
                if !file.contains('/') && !file.is_empty() {
                    return Ok(vn("snippets", file, None, "raw"));
                }
            }
            if let Some(file) = volname.strip_prefix("backup/") {
                if !file.contains('/') && !file.is_empty() {
                    return Ok(vn("backup", file, None, "raw"));
                }
            }
            Err(fail())
        }
    }
}

fn size_file(volume_path: &std::path::Path) -> PathBuf {
    let mut s = volume_path.as_os_str().to_owned();
    s.push(".size");
    PathBuf::from(s)
}

fn read_size(volume_path: &std::path::Path) -> Option<u64> {
    fs::read_to_string(size_file(volume_path))
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn statvfs(path: &std::path::Path) -> Option<(u64, u64, u64)> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut st = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `c` is a valid NUL-terminated path and `st` points to writable memory of the
    // right type; statvfs only writes into it.
    let rc = unsafe { libc::statvfs(c.as_ptr(), st.as_mut_ptr()) };
    if rc != 0 {
        return None;
    }
    // SAFETY: statvfs returned 0, so it initialised the structure.
    let st = unsafe { st.assume_init() };
    let frsize = st.f_frsize;
    let total = st.f_blocks.saturating_mul(frsize);
    let avail = st.f_bavail.saturating_mul(frsize);
    let free = st.f_bfree.saturating_mul(frsize);
    Some((total, total.saturating_sub(free), avail))
}
