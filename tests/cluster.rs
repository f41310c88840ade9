//! proxmox-lxcri in a simulated cluster: two nodes (`pve`, `pve2`) share one `/etc/pve` (the
//! simulator's state root), each with its own `/run/proxmox-lxcri` cache. Proxmox's configs
//! and the ledger in `/etc/pve/priv` are the truth: a reboot (cache wiped), a second node, a
//! `pct migrate` and a lost cache all find the container again, and a CT carrying a forged
//! identity line is never adopted.

mod runtime_support;

use std::path::PathBuf;
use std::process::{Command, Output};

use runtime_support::*;

struct Cluster {
    node: Node,
    bundle: tempfile::TempDir,
}

impl Cluster {
    fn new() -> Cluster {
        require(SIM_TOOLS);
        ensure_subids();
        let c = Cluster {
            node: Node::new(),
            bundle: bundle(CONFIG),
        };
        // Both nodes are members: pmxcfs has a `nodes/<node>` directory for each.
        for n in ["pve", "pve2"] {
            ok(&c.sim_on(n, "pvesh", &["get", "/cluster/nextid"]));
        }
        c
    }

    fn bundle(&self) -> &str {
        self.bundle.path().to_str().unwrap()
    }

    fn state_dir(&self, node: &str) -> PathBuf {
        self.node.dir.path().join(format!("state-{node}"))
    }

    /// proxmox-lxcri run "on" `node`, with that node's own cache.
    fn on(&self, node: &str, args: &[&str]) -> Output {
        let mut cmd = self.node.lxcri();
        // `lxcri()` names the default state dir; each node here has its own, given last.
        let mut c = Command::new(cmd.get_program());
        for (k, v) in cmd.get_envs() {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        cmd = c;
        cmd.env("PVE_SIM_NODE", node)
            .env("PROXMOX_LXCRI_LOCAL_NODE", node)
            .arg("--root")
            .arg(self.state_dir(node))
            .args(args)
            .output()
            .expect("run proxmox-lxcri")
    }

    fn sim_on(&self, node: &str, bin: &str, args: &[&str]) -> Output {
        Command::new(bin_dir().join(bin))
            .args(args)
            .env("PVE_SIM_ROOT", self.node.sim())
            .env("PVE_SIM_NODE", node)
            .output()
            .expect("run simulator")
    }

    fn config(&self, node: &str, vmid: u32) -> PathBuf {
        self.node
            .host(&format!("/etc/pve/nodes/{node}/lxc/{vmid}.conf"))
    }

    fn ledger(&self, id: &str) -> PathBuf {
        self.node
            .host(&format!("/etc/pve/priv/proxmox-lxcri/{id}.json"))
    }

    fn list(&self, node: &str, extra: &[&str]) -> Vec<serde_json::Value> {
        let mut args = vec!["list", "--format", "json"];
        args.extend_from_slice(extra);
        serde_json::from_str(&ok(&self.on(node, &args))).expect("list JSON")
    }
}

#[test]
fn a_reboot_loses_the_cache_not_the_container() {
    let c = Cluster::new();
    ok(&c.on("pve", &["create", "web", "--bundle", c.bundle()]));
    assert!(
        c.ledger("web").is_file(),
        "the ledger entry is written by create"
    );
    std::fs::remove_dir_all(c.state_dir("pve")).unwrap();

    let rows = c.list("pve", &[]);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["id"], "web");
    assert_eq!(rows[0]["status"], "created");
    assert_eq!(rows[0]["bundle"], c.bundle());
    assert_eq!(rows[0]["vmid"], 100);

    ok(&c.on("pve", &["start", "web"]));
    let s = state_json(&c.on("pve", &["state", "web"]));
    assert_eq!(s["status"], "running");
    assert!(s["pid"].as_i64().is_some(), "{s}");
    ok(&c.on("pve", &["stop", "web", "--timeout", "10"]));

    // Once started, a rebuilt record says stopped, not created.
    std::fs::remove_dir_all(c.state_dir("pve")).unwrap();
    let s = state_json(&c.on("pve", &["state", "web"]));
    assert_eq!(s["status"], "stopped");
    ok(&c.on("pve", &["delete", "web"]));
    assert!(!c.config("pve", 100).exists());
    assert!(!c.ledger("web").exists(), "delete removes the ledger entry");
    assert_eq!(c.list("pve", &[]).len(), 0);
}

#[test]
fn a_second_node_sees_and_drives_the_container_through_pvesh() {
    let c = Cluster::new();
    ok(&c.on("pve", &["create", "web", "--bundle", c.bundle()]));

    let rows = c.list("pve2", &[]);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["node"], "pve");
    assert_eq!(rows[0]["status"], "created");

    ok(&c.on("pve2", &["start", "web"]));
    let s = state_json(&c.on("pve2", &["state", "web"]));
    assert_eq!(s["status"], "running");
    assert_eq!(s["annotations"]["org.proxmox-lxcri.node"], "pve");
    assert!(
        s.get("pid").is_none(),
        "another node's pid is not a pid here: {s}"
    );
    // The owning node sees the same container, with its init's pid.
    let s = state_json(&c.on("pve", &["state", "web"]));
    assert_eq!(s["status"], "running");
    assert!(s["pid"].as_i64().is_some(), "{s}");

    let err = fails(&c.on("pve2", &["kill", "web", "KILL"]), 1);
    assert!(
        err.contains("runs on node pve, and only that node can kill it"),
        "{err}"
    );
    ok(&c.on("pve2", &["stop", "web", "--timeout", "10"]));
    let s = state_json(&c.on("pve", &["state", "web"]));
    assert_eq!(s["status"], "stopped");

    ok(&c.on("pve2", &["delete", "web"]));
    assert!(!c.config("pve", 100).exists(), "destroyed through pvesh");
    assert!(!c.ledger("web").exists());
    // The first node's cache still had it: Proxmox and the ledger say it is gone.
    assert_eq!(c.list("pve", &[]).len(), 0);
    let err = fails(&c.on("pve", &["state", "web"]), 1);
    assert!(err.contains("container web does not exist"), "{err}");
}

#[test]
fn the_record_follows_a_pct_migrate() {
    let c = Cluster::new();
    ok(&c.on("pve", &["create", "web", "--bundle", c.bundle()]));
    let out = c.sim_on("pve", "pct", &["migrate", "100", "pve2"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(c.config("pve2", 100).is_file() && !c.config("pve", 100).exists());

    let s = state_json(&c.on("pve", &["state", "web"]));
    assert_eq!(s["annotations"]["org.proxmox-lxcri.node"], "pve2");
    assert_eq!(s["status"], "created");
    // From the old node, start goes through pvesh to the new one.
    ok(&c.on("pve", &["start", "web"]));
    let s = state_json(&c.on("pve2", &["state", "web"]));
    assert_eq!(s["status"], "running");
    let entry: serde_json::Value =
        serde_json::from_slice(&std::fs::read(c.ledger("web")).unwrap()).unwrap();
    assert_eq!(entry["node"], "pve2", "the ledger's hint follows: {entry}");
    assert_eq!(entry["started"], true);

    // A running CT is not migrated without --restart, as Proxmox refuses it.
    let out = c.sim_on("pve2", "pct", &["migrate", "100", "pve"]);
    assert_eq!(out.status.code(), Some(255));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("can't migrate running container without --online or --restart"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    ok(&c.on("pve", &["delete", "--force", "web"]));
    assert!(!c.config("pve2", 100).exists());
}

#[test]
fn create_node_places_the_container_on_that_node() {
    let c = Cluster::new();
    let err = fails(
        &c.on(
            "pve",
            &["create", "web", "--bundle", c.bundle(), "--node", "nope"],
        ),
        2,
    );
    assert!(
        err.contains("node \"nope\" is not a member of this cluster"),
        "{err}"
    );
    assert!(!c.ledger("web").exists());

    ok(&c.on(
        "pve",
        &["create", "web", "--bundle", c.bundle(), "--node", "pve2"],
    ));
    assert!(c.config("pve2", 100).is_file() && !c.config("pve", 100).exists());
    let s = state_json(&c.on("pve2", &["state", "web"]));
    assert_eq!(s["annotations"]["org.proxmox-lxcri.node"], "pve2");
    assert_eq!(s["status"], "created");
    // The id is cluster-wide: the other node cannot create it again.
    let err = fails(&c.on("pve2", &["create", "web", "--bundle", c.bundle()]), 1);
    assert!(err.contains("container web already exists"), "{err}");
    ok(&c.on("pve2", &["delete", "web"]));
}

#[test]
fn list_refresh_rebuilds_a_lost_cache_and_adopts_no_forged_identity() {
    let c = Cluster::new();
    ok(&c.on("pve", &["create", "web", "--bundle", c.bundle()]));
    let ledger = std::fs::read_to_string(c.ledger("web")).unwrap();
    // A cache gone wrong: the record claims another VMID's node.
    let mapping = c.state_dir("pve").join("web/mapping.json");
    let text = std::fs::read_to_string(&mapping).unwrap();
    std::fs::write(
        &mapping,
        text.replace("\"node\": \"pve\"", "\"node\": \"pve2\""),
    )
    .unwrap();

    // A foreign CT with a forged identity line for another id, and a copy of web's line with
    // a wrong token on another VMID.
    let forged = "#org.proxmox-lxcri.identity=intruder;0123456789abcdef0123456789abcdef\narch: amd64\nhostname: intruder\nmemory: 512\nostype: unmanaged\nrootfs: local-lvm:vm-300-disk-0,size=1G\nswap: 512\n";
    std::fs::write(c.config("pve2", 300), forged).unwrap();

    let out = c.on("pve", &["list", "--refresh", "--format", "json"]);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&ok(&out)).unwrap();
    let ids: Vec<&str> = rows.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["web"], "{rows:?}");
    assert_eq!(rows[0]["node"], "pve");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("CT 300 on node pve2 carries a proxmox-lxcri identity line for [\"intruder\"] that no ledger entry vouches for"),
        "{stderr}"
    );
    let text = std::fs::read_to_string(&mapping).unwrap();
    assert!(
        text.contains("\"node\": \"pve\""),
        "the cache is rebuilt: {text}"
    );
    assert_eq!(std::fs::read_to_string(c.ledger("web")).unwrap(), ledger);

    // Nobody can adopt it by its id either.
    let err = fails(&c.on("pve2", &["state", "intruder"]), 1);
    assert!(err.contains("container intruder does not exist"), "{err}");
    ok(&c.on("pve", &["delete", "web"]));
    assert!(
        c.config("pve2", 300).is_file(),
        "the foreign CT is left alone"
    );
}

#[test]
fn create_node_refuses_what_pct_migrate_cannot_move_before_anything_is_made() {
    let c = Cluster::new();
    std::fs::create_dir_all(c.node.host("/srv/data")).unwrap();
    let with_bind = CONFIG.replace(
        "\"hostname\": \"app\",",
        "\"hostname\": \"app\",\n  \"mounts\": [{\"destination\": \"/data\", \"type\": \"bind\", \"source\": \"/srv/data\", \"options\": [\"bind\", \"rw\"]}],",
    );
    let b = bundle(&with_bind);
    let bundle = b.path().to_str().unwrap();
    let err = fails(
        &c.on(
            "pve",
            &["create", "web", "--bundle", bundle, "--node", "pve2"],
        ),
        1,
    );
    assert!(
        err.contains("cannot be placed on node pve2")
            && err.contains("mp0 is a local bind mount point"),
        "{err}"
    );
    assert!(!c.config("pve", 100).exists() && !c.config("pve2", 100).exists());
    assert!(!c.ledger("web").exists());
    // An engine's create runs on the engine's node.
    let err = fails(
        &c.on(
            "pve",
            &[
                "create",
                "web",
                "--bundle",
                c.bundle(),
                "--node",
                "pve2",
                "--pid-file",
                "/tmp/x.pid",
            ],
        ),
        2,
    );
    assert!(
        err.contains("--node cannot be combined with --pid-file"),
        "{err}"
    );

    // Proxmox's own refusal, which the simulator models (Migrate.pm `prepare`): a bind mount
    // point moves only when `shared`.
    ok(&c.on("pve", &["create", "web", "--bundle", c.bundle()]));
    ok(&c.sim_on("pve", "pct", &["set", "100", "--mp0", "/srv/data,mp=/data"]));
    let out = c.sim_on("pve", "pct", &["migrate", "100", "pve2"]);
    assert!(
        !out.status.success()
            && text(&out.stderr).contains("cannot migrate local bind mount point 'mp0'"),
        "{out:?}"
    );
    ok(&c.sim_on(
        "pve",
        "pct",
        &["set", "100", "--mp0", "/srv/data,mp=/data,shared=1"],
    ));
    ok(&c.sim_on("pve", "pct", &["migrate", "100", "pve2"]));
    assert!(c.config("pve2", 100).is_file());
    ok(&c.on("pve", &["delete", "web"]));
}

#[test]
fn a_cache_of_an_earlier_creation_of_the_id_gives_way_to_the_ledger() {
    let c = Cluster::new();
    ok(&c.on("pve", &["create", "web", "--bundle", c.bundle()]));
    // Node pve's cache is kept while pve2 deletes `web` and creates it again (VMID 100 reused).
    let cached = std::fs::read_to_string(c.state_dir("pve").join("web/mapping.json")).unwrap();
    ok(&c.on("pve2", &["delete", "web"]));
    std::fs::remove_dir_all(c.state_dir("pve").join("web")).unwrap();
    ok(&c.on(
        "pve",
        &["create", "web", "--bundle", c.bundle(), "--node", "pve2"],
    ));
    // pve's cache has the new creation now; the old one's mapping is put back, as a cache
    // that missed the delete and the new create would have it.
    std::fs::write(c.state_dir("pve").join("web/mapping.json"), cached).unwrap();
    // pve reaches the live container, the one the ledger names, not the dead creation.
    let s = state_json(&c.on("pve", &["state", "web"]));
    assert_eq!(s["status"], "created", "{s}");
    assert_eq!(s["annotations"]["org.proxmox-lxcri.node"], "pve2", "{s}");
    ok(&c.on("pve", &["delete", "web"]));
    assert!(!c.ledger("web").exists());
}
