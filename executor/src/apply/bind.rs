//! Binding a plan's symbolic values (`$vmid`, `$template`, `$bundle`) while it runs.
//!
//! Values only ever replace whole arguments (`{"var": "vmid"}`), never parts of a string, so no
//! text from a config can turn into a variable.

use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

use translator::emit::plan::{Arg, RootfsDir, Var};

use crate::host::Command;
use crate::id::Vmid;

/// A packed template: its volume id and where `pvesm path` put it on this node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub volid: String,
    pub path: PathBuf,
}

/// The values bound so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bindings {
    pub vmid: Option<Vmid>,
    pub template: Option<Template>,
    pub bundle: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BindError {
    #[error("${} is used before a step binds it", .0.name())]
    Unbound(Var),
    #[error("an empty argument vector has no program to run")]
    NoProgram,
    #[error("the plan may run only {allowed}; it asks for {program:?}")]
    Program {
        program: String,
        allowed: &'static str,
    },
    #[error("rootfs {0:?} must be relative to the bundle and stay inside it")]
    BundleRelative(String),
    #[error("rootfs {0:?} must be an absolute path without `..`")]
    NotAbsolute(String),
    #[error("rootfs {0:?} is an image, not a directory")]
    NotADirectory(String),
}

/// Programs a plan may name in an argument vector: the Proxmox tools, nothing else.
pub const PROGRAMS: &[&str] = &["pct", "pvesm", "pvesh"];

impl Bindings {
    pub fn vmid(&self) -> Result<Vmid, BindError> {
        self.vmid.ok_or(BindError::Unbound(Var::Vmid))
    }

    pub fn template(&self) -> Result<&Template, BindError> {
        self.template
            .as_ref()
            .ok_or(BindError::Unbound(Var::Template))
    }

    pub fn bundle(&self) -> Result<&Path, BindError> {
        self.bundle
            .as_deref()
            .ok_or(BindError::Unbound(Var::Bundle))
    }

    pub fn arg(&self, arg: &Arg) -> Result<OsString, BindError> {
        Ok(match arg {
            Arg::Lit(s) => s.into(),
            Arg::Var { var: Var::Vmid } => self.vmid()?.to_string().into(),
            Arg::Var { var: Var::Template } => self.template()?.volid.clone().into(),
            Arg::Var { var: Var::Bundle } => self.bundle()?.as_os_str().to_owned(),
        })
    }

    /// The command an argument vector stands for; its program must be one of [`PROGRAMS`].
    pub fn command(&self, argv: &[Arg]) -> Result<Command, BindError> {
        let (first, rest) = argv.split_first().ok_or(BindError::NoProgram)?;
        let program = match first {
            Arg::Lit(p) if PROGRAMS.contains(&p.as_str()) => p.clone(),
            other => {
                return Err(BindError::Program {
                    program: self
                        .arg(other)
                        .map(|p| p.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                    allowed: "pct, pvesm and pvesh",
                })
            }
        };
        let mut cmd = Command::new(program);
        for a in rest {
            cmd = cmd.arg(self.arg(a)?);
        }
        Ok(cmd)
    }

    /// The directory to pack.
    pub fn rootfs(&self, dir: &RootfsDir) -> Result<PathBuf, BindError> {
        match dir {
            RootfsDir::Bundle(rel) => {
                let p = Path::new(rel);
                let inside = p
                    .components()
                    .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
                if !inside {
                    return Err(BindError::BundleRelative(rel.clone()));
                }
                Ok(self.bundle()?.join(p))
            }
            RootfsDir::Path(abs) => {
                let p = Path::new(abs);
                if !p.is_absolute() || p.components().any(|c| c == Component::ParentDir) {
                    return Err(BindError::NotAbsolute(abs.clone()));
                }
                Ok(p.to_owned())
            }
            RootfsDir::Image(i) => Err(BindError::NotADirectory(i.reference.clone())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bound() -> Bindings {
        Bindings {
            vmid: Some(Vmid::new(105).unwrap()),
            template: Some(Template {
                volid: "local:vztmpl/t.tar.zst".into(),
                path: "/var/lib/vz/template/cache/t.tar.zst".into(),
            }),
            bundle: Some("/b/web".into()),
        }
    }

    #[test]
    fn variables_replace_whole_arguments() {
        let argv = [
            Arg::lit("pct"),
            Arg::lit("create"),
            Arg::var(Var::Vmid),
            Arg::var(Var::Template),
            Arg::lit("$vmid"),
        ];
        let cmd = bound().command(&argv).unwrap();
        assert_eq!(
            cmd.to_string(),
            "pct create 105 local:vztmpl/t.tar.zst '$vmid'"
        );
    }

    #[test]
    fn unbound_and_foreign_programs_are_refused() {
        let b = Bindings::default();
        assert_eq!(
            b.command(&[Arg::lit("pct"), Arg::var(Var::Vmid)]),
            Err(BindError::Unbound(Var::Vmid))
        );
        assert_eq!(b.command(&[]), Err(BindError::NoProgram));
        assert!(matches!(
            bound().command(&[Arg::lit("sh"), Arg::lit("-c")]),
            Err(BindError::Program { .. })
        ));
        assert!(matches!(
            bound().command(&[Arg::var(Var::Bundle)]),
            Err(BindError::Program { .. })
        ));
        assert_eq!(
            b.arg(&Arg::var(Var::Template)).unwrap_err().to_string(),
            "$template is used before a step binds it"
        );
    }

    #[test]
    fn rootfs_directories() {
        let b = bound();
        assert_eq!(
            b.rootfs(&RootfsDir::Bundle("rootfs".into())).unwrap(),
            Path::new("/b/web/rootfs")
        );
        assert_eq!(
            b.rootfs(&RootfsDir::Bundle(".".into())).unwrap(),
            Path::new("/b/web")
        );
        assert_eq!(
            b.rootfs(&RootfsDir::Path("/srv/r".into())).unwrap(),
            Path::new("/srv/r")
        );
        for bad in ["../x", "/abs", "a/../../x"] {
            assert!(b.rootfs(&RootfsDir::Bundle(bad.into())).is_err(), "{bad}");
        }
        for bad in ["rel", "/a/../b"] {
            assert!(b.rootfs(&RootfsDir::Path(bad.into())).is_err(), "{bad}");
        }
        assert_eq!(
            Bindings::default().rootfs(&RootfsDir::Bundle("r".into())),
            Err(BindError::Unbound(Var::Bundle))
        );
    }
}
