//! Every Proxmox container `create` makes carries an identity: the OCI id and a random creation
//! token, as one description line (`org.proxmox-lxcri.identity=<id>;<token>`). Every verb reads
//! the container's config and compares that line with its own record before it acts on the
//! VMID, so that a VMID destroyed out of band and reused by another container is never stopped,
//! signalled or destroyed in the old container's name.
//!
//! Why the description: Proxmox keeps it through every rewrite of the config. It is stored as
//! `#` comment lines at the top of the main section, each line `encode_text`-escaped
//! (pve-container `src/PVE/LXC/Config.pm` `write_pct_config`, "add description as comment to
//! top of file", and `parse_pct_config`, `m/^\#(.*)$/` → `decode_text`, both at 94f55852;
//! pve-common `encode_text` escapes everything outside `\x20-\x24\x26-\x39\x3b-\x7e`).
//! Tags would be kept too, but Proxmox lowercases them and allows no `;`/`=`, so an id would not
//! survive in one. The translator reserves the line's key ([`IDENTITY_KEY`]): no annotation can
//! write it, and the executor adds it itself ([`Identity::stamp_command`],
//! [`Identity::stamp_config_text`]).
//!
//! The token is 128 bits from the kernel's CSPRNG, so a later container with the same id (after
//! `delete`) has a different one. It is no secret (the description is readable through the API
//! with `VM.Audit`): a line is ours only when it matches the root-only ledger's id, token **and
//! VMID** together (docs/cluster.md), so a copy on another CT is not, and re-creating the
//! entry's VMID takes rights over that very container.
//!
//! A residual race: `pct destroy` takes Proxmox's config lock itself, so the check and the
//! destroy cannot happen under one lock. Between them, someone would have to destroy our
//! container *and* create another one under the same VMID, both as root.

use std::fmt;
use std::io::{self, Read};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::paths::PvePaths;
use crate::host::{Command, Host, HostError};
use crate::id::{ContainerId, Vmid};

pub use translator::lower::IDENTITY_KEY;

/// Hex digits of a token (128 bits).
pub const TOKEN_HEX: usize = 32;

/// A creation token: 32 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Token(String);

impl Token {
    /// 16 bytes from `/dev/urandom` (the kernel CSPRNG, the same source as `getrandom(2)`).
    pub fn random() -> io::Result<Token> {
        let mut bytes = [0u8; TOKEN_HEX / 2];
        std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
        Ok(Token(bytes.iter().map(|b| format!("{b:02x}")).collect()))
    }

    pub fn parse(text: &str) -> Option<Token> {
        (text.len() == TOKEN_HEX && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            .then(|| Token(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Token {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Token::parse(&s)
            .ok_or_else(|| serde::de::Error::custom("a token is 32 lowercase hex digits"))
    }
}

/// Who a container is: our OCI id and the token of the create that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub id: ContainerId,
    pub token: Token,
}

impl Identity {
    /// A fresh identity for a create of `id`.
    pub fn new(id: ContainerId) -> io::Result<Identity> {
        Ok(Identity {
            id,
            token: Token::random()?,
        })
    }

    /// The description line, decoded: `org.proxmox-lxcri.identity=<id>;<token>`. Ids hold only
    /// `[A-Za-z0-9_.-]`, which `encode_text` leaves alone, so the line is stored as it is.
    pub fn line(&self) -> String {
        format!("{IDENTITY_KEY}={};{}", self.id, self.token.as_str())
    }

    /// `pct create … --description`: the identity line first, then the translator's
    /// description (if the plan has one). Proxmox encodes it as `#` lines.
    pub fn stamp_command(&self, mut cmd: Command) -> Command {
        let line = self.line();
        let at = cmd.args.iter().position(|a| a == "--description");
        match at.and_then(|i| cmd.args.get_mut(i + 1)) {
            Some(value) => {
                let mut text = std::ffi::OsString::from(&line);
                text.push("\n");
                text.push(value.as_os_str());
                *value = text;
            }
            None => cmd = cmd.arg("--description").arg(line),
        }
        cmd
    }

    /// A `create-config` text with the identity line on top, where `write_pct_config` puts the
    /// description.
    pub fn stamp_config_text(&self, text: &str) -> String {
        format!("#{}\n{text}", self.line())
    }
}

/// What a container's config says about it (its main section).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Found {
    /// The value of every identity-like description line (`<id>;<token>` when well formed).
    pub stamps: Vec<String>,
    pub hostname: Option<String>,
}

impl Found {
    /// The ids the config's stamps name, for messages (never the token).
    fn claimed(&self) -> Vec<String> {
        self.stamps
            .iter()
            .map(|s| s.split(';').next().unwrap_or_default().to_owned())
            .collect()
    }
}

/// Reads the main section of a config as `parse_pct_config` does: `#` lines are description
/// (decoded), anywhere before the first `[section]`; `hostname: …` is the host name. A line
/// counts as a stamp when its decoded text starts with [`IDENTITY_KEY`] in any case, so a
/// look-alike makes the config ambiguous rather than ours.
pub fn parse(text: &str) -> Found {
    let mut found = Found::default();
    for line in text.lines() {
        if line.starts_with('[') {
            break;
        }
        if let Some(rest) = line.strip_prefix('#') {
            let decoded = translator::emit::pct_conf::decode_text(rest);
            let trimmed = decoded.trim();
            let is_stamp = trimmed
                .get(..IDENTITY_KEY.len())
                .is_some_and(|k| k.eq_ignore_ascii_case(IDENTITY_KEY));
            if is_stamp {
                let value = trimmed
                    .get(IDENTITY_KEY.len()..)
                    .and_then(|r| r.strip_prefix('='))
                    .unwrap_or(trimmed);
                found.stamps.push(value.to_owned());
            }
        } else if let Some(h) = line.strip_prefix("hostname:") {
            found.hostname = Some(h.trim().to_owned());
        }
    }
    found
}

/// A container the check found ours, or gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ct {
    /// The config carries exactly our identity line.
    Ours,
    /// There is no config for the VMID on the node: the container no longer exists here.
    Gone,
}

/// Ours, as messages name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ours {
    pub id: ContainerId,
    pub vmid: Vmid,
    pub node: String,
}

impl fmt::Display for Ours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "container {} (CT {} on node {})",
            self.id, self.vmid, self.node
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("refusing to act on Proxmox CT {vmid}: {ours} was created by proxmox-lxcri, but CT {vmid} now is {theirs}; it was not created as {id} and is left untouched", vmid = .ours.vmid, id = .ours.id, theirs = describe(.found, &.ours.id))]
    NotOurs { ours: Ours, found: Found },
    #[error("refusing to act on Proxmox CT {vmid} for {ours}: the record has no identity token (it was written before containers were stamped), so the CT cannot be verified as ours", vmid = .ours.vmid)]
    Unverifiable { ours: Ours },
    #[error("cannot read {path} to check that CT {vmid} is {id}: {source}", vmid = .ours.vmid, id = .ours.id)]
    Unreadable {
        ours: Ours,
        path: PathBuf,
        source: Box<HostError>,
    },
}

impl IdentityError {
    /// Our side of the refusal.
    pub fn ours(&self) -> &Ours {
        match self {
            IdentityError::NotOurs { ours, .. }
            | IdentityError::Unverifiable { ours }
            | IdentityError::Unreadable { ours, .. } => ours,
        }
    }
}

fn describe(found: &Found, id: &ContainerId) -> String {
    let host = match &found.hostname {
        Some(h) => format!("hostname {h:?}"),
        None => "no hostname".to_owned(),
    };
    match found.claimed().as_slice() {
        [] => format!("a container without a proxmox-lxcri identity ({host})"),
        [one] if one == id.as_str() => {
            format!("another creation of container {id} (a different creation token; {host})")
        }
        [one] => format!("proxmox-lxcri container {one:?} ({host})"),
        many => format!(
            "a container with {} identity lines {many:?} ({host})",
            many.len()
        ),
    }
}

/// Checks that CT `vmid` on `node` is the container `expected` names. `None` as the token (a
/// record from before stamps) cannot be verified and is refused.
pub fn check(
    host: &dyn Host,
    paths: &PvePaths,
    node: &str,
    vmid: Vmid,
    id: &ContainerId,
    token: Option<&Token>,
) -> Result<Ct, IdentityError> {
    check_in(host, paths, node, vmid, id, token, true)
}

/// [`check`]; `local` also looks at the local node's config when the recorded node has none.
fn check_in(
    host: &dyn Host,
    paths: &PvePaths,
    node: &str,
    vmid: Vmid,
    id: &ContainerId,
    token: Option<&Token>,
    local: bool,
) -> Result<Ct, IdentityError> {
    let ours = Ours {
        id: id.clone(),
        vmid,
        node: node.to_owned(),
    };
    let Some(token) = token else {
        return Err(IdentityError::Unverifiable { ours });
    };
    if !super::paths::valid_node(node) {
        return Err(IdentityError::Unverifiable { ours });
    }
    // The recorded node's config, else the local node's (`/etc/pve/lxc`), which is the one
    // `pct` acts on here: a plan made for a wrong node name still created the CT locally, and
    // its rollback must find (and verify) that one. Only with neither is the CT gone.
    let mut text = None;
    let candidates = [
        Some(paths.config(node, vmid)),
        local.then(|| paths.local_config(vmid)),
    ];
    for path in candidates.into_iter().flatten() {
        match host.read_file(&path) {
            Ok(bytes) => {
                text = Some(String::from_utf8_lossy(&bytes).into_owned());
                break;
            }
            Err(HostError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(IdentityError::Unreadable {
                    ours,
                    path,
                    source: Box::new(source),
                })
            }
        }
    }
    let Some(text) = text else {
        return Ok(Ct::Gone);
    };
    let found = parse(&text);
    let expected = Identity {
        id: id.clone(),
        token: token.clone(),
    };
    let want = expected.line();
    match found.stamps.as_slice() {
        [one] if format!("{IDENTITY_KEY}={one}") == want => Ok(Ct::Ours),
        _ => Err(IdentityError::NotOurs { ours, found }),
    }
}

/// Who the journal of a create says made the containers it lists: the undo of `pct create`
/// and of `create-config` destroy only a container that carries this identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub id: ContainerId,
    pub node: String,
    /// `None`: a record from before stamps, which nothing can be verified against.
    pub token: Option<Token>,
}

/// `pct destroy <vmid> --purge` of a container `owner` made; a gone container is already
/// destroyed, any other container is refused ([`IdentityError`]) and left alone.
pub fn destroy_if_ours(
    host: &dyn Host,
    paths: &PvePaths,
    owner: &Owner,
    vmid: Vmid,
) -> Result<Ct, super::PctError> {
    match check(
        host,
        paths,
        &owner.node,
        vmid,
        &owner.id,
        owner.token.as_ref(),
    )? {
        Ct::Gone => Ok(Ct::Gone),
        Ct::Ours => {
            super::destroy(host, vmid)?;
            Ok(Ct::Ours)
        }
    }
}

/// Removes the config a `create-config` step wrote, under Proxmox's config lock, after checking
/// under that same lock that it is still ours (so no `pct` can change it in between).
pub fn remove_config_if_ours(
    host: &dyn Host,
    paths: &PvePaths,
    owner: &Owner,
    vmid: Vmid,
) -> Result<Ct, super::PctError> {
    let _lock = super::config::lock_config(host, paths, vmid)?;
    // Exactly the file create-config wrote, nothing else.
    match check_in(
        host,
        paths,
        &owner.node,
        vmid,
        &owner.id,
        owner.token.as_ref(),
        false,
    )? {
        Ct::Gone => Ok(Ct::Gone),
        Ct::Ours => {
            host.remove_file(&paths.config(&owner.node, vmid))?;
            Ok(Ct::Ours)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::RecordingHost;

    fn ident(id: &str) -> Identity {
        Identity {
            id: ContainerId::new(id).unwrap(),
            token: Token::parse("0123456789abcdef0123456789abcdef").unwrap(),
        }
    }

    fn vmid(n: u64) -> Vmid {
        Vmid::new(n).unwrap()
    }

    #[test]
    fn tokens_are_random_hex() {
        let a = Token::random().unwrap();
        let b = Token::random().unwrap();
        assert_ne!(a, b);
        assert!(Token::parse(a.as_str()).is_some());
        for bad in [
            "",
            "0123",
            "0123456789ABCDEF0123456789ABCDEF",
            "0123456789abcdef0123456789abcdeg",
        ] {
            assert!(Token::parse(bad).is_none(), "{bad}");
        }
        assert!(serde_json::from_str::<Token>("\"xyz\"").is_err());
    }

    #[test]
    fn stamping_a_pct_create_and_a_config() {
        let i = ident("web");
        let cmd = Command::new("pct").args(["create", "100", "t", "--memory", "512"]);
        let stamped = i.stamp_command(cmd);
        assert_eq!(
            stamped.args[5..],
            [
                "--description",
                "org.proxmox-lxcri.identity=web;0123456789abcdef0123456789abcdef"
            ]
        );
        let cmd = Command::new("pct").args([
            "create",
            "100",
            "t",
            "--description",
            "a=b\nc=d",
            "--memory",
            "1",
        ]);
        let stamped = i.stamp_command(cmd);
        assert_eq!(
            stamped.args[4],
            *"org.proxmox-lxcri.identity=web;0123456789abcdef0123456789abcdef\na=b\nc=d"
        );
        assert_eq!(stamped.args.len(), 7);
        assert_eq!(
            i.stamp_config_text("#a=b\nmemory: 512\n"),
            "#org.proxmox-lxcri.identity=web;0123456789abcdef0123456789abcdef\n#a=b\nmemory: 512\n"
        );
    }

    #[test]
    fn parse_reads_the_main_section_like_proxmox() {
        let text = "#org.proxmox-lxcri.identity=web;0123456789abcdef0123456789abcdef\n#a=b%3A\nhostname: app\nmemory: 512\n\n[snap]\n#org.proxmox-lxcri.identity=x;00\nhostname: old\n";
        let f = parse(text);
        assert_eq!(f.stamps, vec!["web;0123456789abcdef0123456789abcdef"]);
        assert_eq!(f.hostname.as_deref(), Some("app"));
        // An encoded or differently cased look-alike counts as a stamp, so it cannot hide.
        let f = parse("#ORG.proxmox-lxcri%2Eidentity=web;1\nmemory: 5\n");
        assert_eq!(f.stamps, vec!["web;1"]);
    }

    #[test]
    fn check_tells_ours_gone_and_theirs_apart() {
        let host = RecordingHost::new();
        let paths = PvePaths::under("/sim");
        let i = ident("web");
        let web = ContainerId::new("web").unwrap();
        let conf = |v: u64| PathBuf::from(format!("/sim/etc/pve/nodes/pve/lxc/{v}.conf"));
        host.with_file(
            conf(100),
            format!("#{}\nhostname: app\nmemory: 512\n", i.line()),
        );
        host.with_file(
            conf(101),
            "#org.proxmox-lxcri.identity=db;0123456789abcdef0123456789abcdef\nhostname: db\n",
        );
        host.with_file(conf(102), "hostname: hand-made\nmemory: 512\n");
        host.with_file(
            conf(103),
            "#org.proxmox-lxcri.identity=web;ffffffffffffffffffffffffffffffff\nhostname: app\n",
        );
        host.with_file(
            conf(104),
            format!("#{}\n#{}\nhostname: app\n", i.line(), i.line()),
        );
        let check = |v: u64| check(&host, &paths, "pve", vmid(v), &web, Some(&i.token));
        assert_eq!(check(100).unwrap(), Ct::Ours);
        assert_eq!(check(105).unwrap(), Ct::Gone);
        let msg = check(101).unwrap_err().to_string();
        assert_eq!(msg, "refusing to act on Proxmox CT 101: container web (CT 101 on node pve) was created by proxmox-lxcri, but CT 101 now is proxmox-lxcri container \"db\" (hostname \"db\"); it was not created as web and is left untouched");
        let msg = check(102).unwrap_err().to_string();
        assert!(
            msg.contains(
                "now is a container without a proxmox-lxcri identity (hostname \"hand-made\")"
            ),
            "{msg}"
        );
        let msg = check(103).unwrap_err().to_string();
        assert!(msg.contains("another creation of container web"), "{msg}");
        assert!(
            !msg.contains("ffff"),
            "the message never shows a token: {msg}"
        );
        let msg = check(104).unwrap_err().to_string();
        assert!(msg.contains("2 identity lines"), "{msg}");
        // A CT made on the local node under a wrong node name is found through /etc/pve/lxc.
        host.with_file(
            "/sim/etc/pve/lxc/106.conf",
            format!("#{}\nhostname: app\n", i.line()),
        );
        assert_eq!(
            super::check(&host, &paths, "px1", vmid(106), &web, Some(&i.token)).unwrap(),
            Ct::Ours
        );
        let unverifiable = super::check(&host, &paths, "pve", vmid(100), &web, None).unwrap_err();
        assert!(matches!(unverifiable, IdentityError::Unverifiable { .. }));
    }

    #[test]
    fn undo_destroys_and_removes_only_our_own_container() {
        let host = RecordingHost::new();
        let paths = PvePaths::under("/sim");
        let i = ident("web");
        let owner = Owner {
            id: i.id.clone(),
            node: "pve".into(),
            token: Some(i.token.clone()),
        };
        let conf = |v: u64| PathBuf::from(format!("/sim/etc/pve/nodes/pve/lxc/{v}.conf"));
        host.with_file(
            conf(100),
            format!(
                "#{}
memory: 512
",
                i.line()
            ),
        );
        host.with_file(
            conf(101),
            "hostname: other
memory: 512
",
        );
        assert_eq!(
            destroy_if_ours(&host, &paths, &owner, vmid(100)).unwrap(),
            Ct::Ours
        );
        assert!(destroy_if_ours(&host, &paths, &owner, vmid(101)).is_err());
        assert_eq!(
            destroy_if_ours(&host, &paths, &owner, vmid(102)).unwrap(),
            Ct::Gone
        );
        assert!(remove_config_if_ours(&host, &paths, &owner, vmid(101)).is_err());
        let destroyed: Vec<String> = host
            .commands()
            .iter()
            .map(|c| c.to_string())
            .filter(|c| c.contains("destroy"))
            .collect();
        assert_eq!(destroyed, ["pct destroy 100 --purge"]);
        assert!(
            host.file(&conf(101)).is_some(),
            "someone else's config stays"
        );
        assert_eq!(
            remove_config_if_ours(&host, &paths, &owner, vmid(100)).unwrap(),
            Ct::Ours
        );
        assert!(host.file(&conf(100)).is_none());
    }
}
