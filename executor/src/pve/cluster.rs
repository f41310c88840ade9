//! The cluster as Proxmox shows it to every node: `/etc/pve/nodes/<node>/lxc/<vmid>.conf`
//! (pmxcfs, replicated), and the API for a container on another node.
//!
//! Where a container is: VMIDs are cluster-wide (`PVE::Cluster::get_vmlist` is built from every
//! node's `lxc/` and `qemu-server/`), and `pct migrate` moves the config to the target node's
//! directory under the same VMID. So the container of a ledger entry is the config of its VMID
//! on whichever node has it, and it is ours only when that config's identity line carries the
//! entry's token ([`super::identity`]). A CT restored or cloned under a new VMID carries a copy
//! of the line but is another container, and is never adopted.
//!
//! A container on another node is driven through `pvesh` run locally, which proxies the call to
//! the owning node (pve-manager `PVE/CLI/pvesh.pm`, `check_proxyto` and `proxy_handler`: the
//! call runs there as `pvesh --noproxy … --output-format json`, at 14a22df3), with the API's
//! own paths and parameter names (pve-container `src/PVE/API2/LXC/Status.pm` `vm_status`
//! (`GET …/status/current`), `vm_start`, `vm_shutdown` (`timeout`, `forceStop`), and
//! `src/PVE/API2/LXC.pm` `destroy_vm` (`DELETE /nodes/{node}/lxc/{vmid}`, `purge`), at 94f55852).

use std::io;
use std::time::Duration;

use super::identity::{self, Found, IdentityError, Ours, Token};
use super::paths::valid_node;
use super::status::{is_missing_ct, CtStatus};
use super::{PctError, PvePaths};
use crate::host::{Command, Host, HostError};
use crate::id::{ContainerId, Vmid};

fn not_found(e: &HostError) -> bool {
    matches!(e, HostError::Io { source, .. } if source.kind() == io::ErrorKind::NotFound)
}

/// Every node of the cluster: the directories under `/etc/pve/nodes` with a valid node name
/// (pmxcfs makes one per member), sorted.
pub fn nodes(host: &dyn Host, paths: &PvePaths) -> Result<Vec<String>, HostError> {
    let names = match host.list_dir(&paths.nodes_dir()) {
        Ok(n) => n,
        // No cluster file system here: no node holds any CT.
        Err(e) if not_found(&e) => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    Ok(names
        .into_iter()
        .filter_map(|n| n.into_string().ok())
        .filter(|n| valid_node(n))
        .collect())
}

/// The config of `vmid` on `node`, if there is one.
fn config_text(
    host: &dyn Host,
    paths: &PvePaths,
    node: &str,
    vmid: Vmid,
) -> Result<Option<String>, HostError> {
    match host.read_file(&paths.config(node, vmid)) {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(e) if not_found(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The node that has `vmid`'s config now, with our identity on it: the `hint` node first (where
/// it was last seen), then every other node. `Ok(None)`: no node has the VMID (the container is
/// gone). A config that holds the VMID but not our identity is refused ([`IdentityError`]).
pub fn find(
    host: &dyn Host,
    paths: &PvePaths,
    hint: &str,
    vmid: Vmid,
    id: &ContainerId,
    token: Option<&Token>,
) -> Result<Option<String>, IdentityError> {
    let ours = |node: &str| Ours {
        id: id.clone(),
        vmid,
        node: node.to_owned(),
    };
    let Some(token) = token else {
        return Err(IdentityError::Unverifiable { ours: ours(hint) });
    };
    let unreadable = |node: &str, source: HostError| IdentityError::Unreadable {
        ours: ours(node),
        path: paths.config(node, vmid),
        source: Box::new(source),
    };
    let mut candidates = Vec::new();
    if valid_node(hint) {
        candidates.push(hint.to_owned());
    }
    let all = nodes(host, paths).map_err(|e| IdentityError::Unreadable {
        ours: ours(hint),
        path: paths.nodes_dir(),
        source: Box::new(e),
    })?;
    candidates.extend(all.into_iter().filter(|n| n != hint));
    for node in candidates {
        let Some(text) = config_text(host, paths, &node, vmid).map_err(|e| unreadable(&node, e))?
        else {
            continue;
        };
        let found = identity::parse(&text);
        let want = identity::Identity {
            id: id.clone(),
            token: token.clone(),
        }
        .line();
        return match found.stamps.as_slice() {
            [one] if format!("{}={one}", identity::IDENTITY_KEY) == want => Ok(Some(node)),
            _ => Err(IdentityError::NotOurs {
                ours: ours(&node),
                found,
            }),
        };
    }
    Ok(None)
}

/// A container config that carries an identity line, wherever it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamped {
    pub node: String,
    pub vmid: Vmid,
    pub found: Found,
}

impl Stamped {
    /// The id and token of its single well-formed identity line, if it has one.
    pub fn identity(&self) -> Option<(ContainerId, Token)> {
        match self.found.stamps.as_slice() {
            [one] => {
                let (id, token) = one.split_once(';')?;
                Some((ContainerId::new(id).ok()?, Token::parse(token)?))
            }
            _ => None,
        }
    }
}

/// Every CT config in the cluster that carries an identity line (`list --refresh` reports the
/// ones no ledger entry vouches for). File names that are not `<vmid>.conf` are skipped, as
/// pmxcfs's vmlist skips them.
pub fn stamped(host: &dyn Host, paths: &PvePaths) -> Result<Vec<Stamped>, HostError> {
    let mut out = Vec::new();
    for node in nodes(host, paths)? {
        let dir = paths.nodes_dir().join(&node).join("lxc");
        let names = match host.list_dir(&dir) {
            Ok(n) => n,
            Err(e) if not_found(&e) => continue,
            Err(e) => return Err(e),
        };
        for name in names {
            let Some(vmid) = name
                .to_str()
                .and_then(|n| n.strip_suffix(".conf"))
                .filter(|n| !n.starts_with('0'))
                .and_then(|n| n.parse::<u64>().ok())
                .and_then(|n| Vmid::new(n).ok())
            else {
                continue;
            };
            let Some(text) = config_text(host, paths, &node, vmid)? else {
                continue;
            };
            let found = identity::parse(&text);
            if !found.stamps.is_empty() {
                out.push(Stamped {
                    node: node.clone(),
                    vmid,
                    found,
                });
            }
        }
    }
    Ok(out)
}

fn api_path(node: &str, vmid: Vmid, rest: &str) -> String {
    format!("/nodes/{node}/lxc/{vmid}{rest}")
}

/// `pvesh get /nodes/<node>/lxc/<vmid>/status/current --output-format json`; `None` when the
/// container does not exist there.
pub fn status(host: &dyn Host, node: &str, vmid: Vmid) -> Result<Option<CtStatus>, PctError> {
    let cmd = Command::new("pvesh")
        .arg("get")
        .arg(api_path(node, vmid, "/status/current"))
        .arg("--output-format")
        .arg("json")
        .read_only();
    let out = host.run(&cmd)?;
    if !out.success() && is_missing_ct(&out.stderr_lossy()) {
        return Ok(None);
    }
    let out = out.check(&cmd)?;
    Ok(Some(super::status::parse_status_json(&out.stdout)?))
}

/// `pvesh create /nodes/<node>/lxc/<vmid>/status/start`.
pub fn start(host: &dyn Host, node: &str, vmid: Vmid) -> Result<(), PctError> {
    let cmd = Command::new("pvesh")
        .arg("create")
        .arg(api_path(node, vmid, "/status/start"));
    host.run(&cmd)?.check(&cmd)?;
    // Not read back as shutdown and delete are: a container whose process exits at once is
    // stopped again by then, after a start that worked. A failed start task is not told from
    // that here (the task's status by its UPID would; the simulator does not model tasks).
    Ok(())
}

/// What a task left, as [`PctError::Task`].
fn task_failed(
    call: &'static str,
    node: &str,
    vmid: Vmid,
    now: Option<super::status::CtStatus>,
) -> PctError {
    PctError::Task {
        call,
        node: node.to_owned(),
        vmid,
        found: match now {
            None => "does not exist".into(),
            Some(s) if s.running => "is still running".into(),
            Some(_) => "is not running".into(),
        },
    }
}

/// `pvesh create /nodes/<node>/lxc/<vmid>/status/shutdown --timeout N --forceStop 1`.
pub fn shutdown(
    host: &dyn Host,
    node: &str,
    vmid: Vmid,
    timeout: Duration,
) -> Result<(), PctError> {
    let cmd = Command::new("pvesh")
        .arg("create")
        .arg(api_path(node, vmid, "/status/shutdown"))
        .arg("--timeout")
        .arg(timeout.as_secs().to_string())
        .arg("--forceStop")
        .arg("1");
    host.run(&cmd)?.check(&cmd)?;
    match status(host, node, vmid)? {
        Some(s) if s.running => Err(task_failed("status/shutdown", node, vmid, Some(s))),
        _ => Ok(()),
    }
}

/// `pvesh delete /nodes/<node>/lxc/<vmid> --purge 1`; a container already gone counts as
/// destroyed.
pub fn destroy(host: &dyn Host, node: &str, vmid: Vmid) -> Result<(), PctError> {
    let cmd = Command::new("pvesh")
        .arg("delete")
        .arg(api_path(node, vmid, ""))
        .arg("--purge")
        .arg("1");
    let out = host.run(&cmd)?;
    if !out.success() && is_missing_ct(&out.stderr_lossy()) {
        return Ok(());
    }
    out.check(&cmd)?;
    match status(host, node, vmid)? {
        None => Ok(()),
        left => Err(task_failed("delete", node, vmid, left)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::{Output, RecordingHost};

    const TOKEN: &str = "0123456789abcdef0123456789abcdef";

    fn setup() -> (RecordingHost, PvePaths, ContainerId, Token) {
        let host = RecordingHost::new();
        let paths = PvePaths::under("/sim");
        host.with_file("/sim/etc/pve/nodes/a/lxc/.keep", "");
        host.with_file("/sim/etc/pve/nodes/b/lxc/.keep", "");
        (
            host,
            paths,
            ContainerId::new("web").unwrap(),
            Token::parse(TOKEN).unwrap(),
        )
    }

    fn vmid(n: u64) -> Vmid {
        Vmid::new(n).unwrap()
    }

    #[test]
    fn the_vmid_is_found_on_the_node_that_has_it_now() {
        let (host, paths, id, token) = setup();
        host.with_file(
            "/sim/etc/pve/nodes/b/lxc/105.conf",
            format!("#org.proxmox-lxcri.identity=web;{TOKEN}\nhostname: web\n"),
        );
        let node = find(&host, &paths, "a", vmid(105), &id, Some(&token)).unwrap();
        assert_eq!(node.as_deref(), Some("b"));
        assert_eq!(
            find(&host, &paths, "a", vmid(106), &id, Some(&token)).unwrap(),
            None
        );
    }

    #[test]
    fn a_forged_or_copied_line_is_not_ours() {
        let (host, paths, id, token) = setup();
        host.with_file(
            "/sim/etc/pve/nodes/a/lxc/105.conf",
            "#org.proxmox-lxcri.identity=web;ffffffffffffffffffffffffffffffff\n",
        );
        let err = find(&host, &paths, "a", vmid(105), &id, Some(&token)).unwrap_err();
        assert!(
            err.to_string()
                .contains("another creation of container web"),
            "{err}"
        );
        let stamped = stamped(&host, &paths).unwrap();
        assert_eq!(stamped.len(), 1);
        assert_eq!(stamped[0].identity().unwrap().0, id);
    }

    /// A node as `pvesh` shows it: what each task did, read back by `status/current`.
    fn node(works: bool) -> RecordingHost {
        let host = RecordingHost::new();
        let state = std::sync::Arc::new(std::sync::Mutex::new("stopped"));
        host.respond(move |cmd| {
            let words = cmd.to_string();
            let mut now = state.lock().unwrap();
            if words.contains("status/current") {
                return Some(match *now {
                    "gone" => Output::failed(
                        2,
                        "Configuration file 'nodes/b/lxc/100.conf' does not exist\n",
                    ),
                    s => Output::ok(format!(r#"{{"status":"{s}","pid":77,"vmid":100}}"#)),
                });
            }
            // pvesh exits 0 whatever its task did; only a task that works changes the CT.
            if works {
                *now = if words.contains("status/start") {
                    "running"
                } else if words.contains("status/shutdown") {
                    "stopped"
                } else {
                    "gone"
                };
            }
            Some(Output::ok(
                "UPID:b:00001234:00005678:65000000:vzstart:100:root@pam:\n",
            ))
        });
        host
    }

    #[test]
    fn remote_calls_are_the_api_paths() {
        let host = node(true);
        start(&host, "b", vmid(100)).unwrap();
        let s = status(&host, "b", vmid(100)).unwrap().unwrap();
        assert!(s.running);
        assert_eq!(s.pid, Some(77));
        shutdown(&host, "b", vmid(100), Duration::from_secs(7)).unwrap();
        destroy(&host, "b", vmid(100)).unwrap();
        let words: Vec<String> = host.commands().iter().map(|c| c.to_string()).collect();
        let current = "pvesh get /nodes/b/lxc/100/status/current --output-format json";
        assert_eq!(
            words,
            [
                "pvesh create /nodes/b/lxc/100/status/start",
                current,
                "pvesh create /nodes/b/lxc/100/status/shutdown --timeout 7 --forceStop 1",
                current,
                "pvesh delete /nodes/b/lxc/100 --purge 1",
                current,
            ]
        );
    }

    #[test]
    fn a_shutdown_or_delete_task_that_failed_behind_pvesh_is_an_error() {
        let host = node(false);
        start(&host, "b", vmid(100)).unwrap();
        let err = destroy(&host, "b", vmid(100)).unwrap_err().to_string();
        assert!(
            err.contains("delete") && err.contains("is not running"),
            "{err}"
        );
        // A running CT whose shutdown and destroy tasks failed.
        let stuck = RecordingHost::new();
        stuck.respond(|cmd| {
            Some(if cmd.to_string().contains("status/current") {
                Output::ok(r#"{"status":"running","pid":77,"vmid":100}"#)
            } else {
                Output::ok("UPID:b:00001234:00005678:65000000:vzshutdown:100:root@pam:\n")
            })
        });
        let err = shutdown(&stuck, "b", vmid(100), Duration::from_secs(1))
            .unwrap_err()
            .to_string();
        assert!(err.contains("is still running"), "{err}");
        let err = destroy(&stuck, "b", vmid(100)).unwrap_err().to_string();
        assert!(
            err.contains("delete") && err.contains("is still running"),
            "{err}"
        );
    }
}
