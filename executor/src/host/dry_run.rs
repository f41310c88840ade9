//! `--dry-run`: print each call the executor would make, change nothing.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::{Command, Effect, FileMode, Host, HostCall, HostError, HostLock, Output};
use crate::bundle::Rootfs;
use crate::lock::Wait;
use crate::pack::{PackConfig, PackReport};

/// Prints every call, one block per call, to `out`. Changing calls succeed without effect
/// (commands "exit 0" with no output). With [`DryRunHost::with_queries`], read-only commands and
/// file reads are executed by that host, so a dry run can show the real VMID it would get.
/// Files "written" earlier in the same dry run read back with their new content.
pub struct DryRunHost<W: Write + Send> {
    state: Mutex<State<W>>,
    queries: Option<Box<dyn Host + Send + Sync>>,
}

struct State<W> {
    out: W,
    written: BTreeMap<PathBuf, Option<Vec<u8>>>,
}

impl<W: Write + Send> DryRunHost<W> {
    pub fn new(out: W) -> Self {
        Self {
            state: Mutex::new(State {
                out,
                written: BTreeMap::new(),
            }),
            queries: None,
        }
    }

    /// Executes read-only calls through `host` (normally a [`super::RealHost`]).
    pub fn with_queries(mut self, host: impl Host + Send + Sync + 'static) -> Self {
        self.queries = Some(Box::new(host));
        self
    }

    /// Gives back the output sink (e.g. the `Vec<u8>` a test printed into).
    pub fn into_output(self) -> W {
        self.state
            .into_inner()
            .unwrap_or_else(|p| p.into_inner())
            .out
    }

    fn print(&self, call: &HostCall, note: &str) -> Result<(), HostError> {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        writeln!(st.out, "{call}{note}")
            .and_then(|()| st.out.flush())
            .map_err(|e| HostError::io("print the dry run to", Path::new("<output>"), e))
    }

    fn executes(&self, call: &HostCall) -> bool {
        self.queries.is_some() && call.is_read_only() && !matches!(call, HostCall::Lock { .. })
    }

    fn announce(&self, call: &HostCall) -> Result<bool, HostError> {
        let executes = self.executes(call);
        self.print(
            call,
            if executes {
                "  [executed: read-only]"
            } else {
                ""
            },
        )?;
        Ok(executes)
    }

    fn remember(&self, path: &Path, contents: Option<Vec<u8>>) {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        st.written.insert(path.to_owned(), contents);
    }
}

impl<W: Write + Send> Host for DryRunHost<W> {
    fn run(&self, cmd: &Command) -> Result<Output, HostError> {
        let call = HostCall::Run(cmd.clone());
        match (self.announce(&call)?, &self.queries) {
            (true, Some(q)) if cmd.effect == Effect::ReadOnly => q.run(cmd),
            _ => Ok(Output::ok("")),
        }
    }

    /// Shown, never started: there is no pid (0).
    fn spawn(
        &self,
        cmd: &Command,
        terminal: Option<std::os::fd::BorrowedFd<'_>>,
    ) -> Result<u32, HostError> {
        self.announce(&HostCall::Spawn {
            cmd: cmd.clone(),
            terminal: terminal.is_some(),
        })?;
        Ok(0)
    }

    fn read_file(&self, path: &Path) -> Result<Vec<u8>, HostError> {
        let call = HostCall::ReadFile {
            path: path.to_owned(),
        };
        let executes = self.announce(&call)?;
        let seen = {
            let st = self.state.lock().unwrap_or_else(|p| p.into_inner());
            st.written.get(path).cloned()
        };
        let not_found = || HostError::io("read", path, io::Error::from(io::ErrorKind::NotFound));
        match (seen, &self.queries) {
            (Some(Some(bytes)), _) => Ok(bytes),
            (Some(None), _) => Err(not_found()),
            (None, Some(q)) if executes => q.read_file(path),
            (None, _) => Err(not_found()),
        }
    }

    /// Listed for real when read-only queries execute; files the dry run "wrote" are not
    /// added (no verb lists a directory it writes to).
    fn list_dir(&self, path: &Path) -> Result<Vec<std::ffi::OsString>, HostError> {
        let executes = self.announce(&HostCall::ListDir {
            path: path.to_owned(),
        })?;
        match &self.queries {
            Some(q) if executes => q.list_dir(path),
            _ => Err(HostError::io(
                "list",
                path,
                io::Error::from(io::ErrorKind::NotFound),
            )),
        }
    }

    fn write_file(&self, path: &Path, contents: &[u8], mode: FileMode) -> Result<(), HostError> {
        self.announce(&HostCall::WriteFile {
            path: path.to_owned(),
            contents: contents.to_vec(),
            mode,
        })?;
        self.remember(path, Some(contents.to_vec()));
        Ok(())
    }

    fn remove_file(&self, path: &Path) -> Result<(), HostError> {
        self.announce(&HostCall::RemoveFile {
            path: path.to_owned(),
        })?;
        self.remember(path, None);
        Ok(())
    }

    fn lock(&self, path: &Path, wait: Wait) -> Result<HostLock, HostError> {
        self.announce(&HostCall::Lock {
            path: path.to_owned(),
            wait,
        })?;
        Ok(HostLock::pretend(path))
    }

    fn pack_rootfs(
        &self,
        rootfs: &Rootfs,
        output: &Path,
        config: &PackConfig,
    ) -> Result<PackReport, HostError> {
        self.announce(&HostCall::PackRootfs {
            rootfs: rootfs.path().to_owned(),
            output: output.to_owned(),
            config: config.clone(),
        })?;
        Ok(PackReport::default())
    }

    fn pack_image(
        &self,
        image: &crate::image::Opened,
        output: &Path,
        config: &PackConfig,
    ) -> Result<PackReport, HostError> {
        self.announce(&HostCall::PackImage {
            image: image.source.reference.clone(),
            output: output.to_owned(),
            config: config.clone(),
        })?;
        Ok(PackReport::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::RecordingHost;

    #[test]
    fn prints_each_call_and_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("100.conf");
        let host = DryRunHost::new(Vec::new());
        let out = host
            .run(&Command::new("pct").args(["create", "100", "local:vztmpl/t.tar.zst"]))
            .unwrap();
        assert!(out.success());
        host.write_file(&target, b"memory: 512\n", FileMode::Exact(0o640))
            .unwrap();
        assert_eq!(host.read_file(&target).unwrap(), b"memory: 512\n");
        host.remove_file(&target).unwrap();
        assert!(host.read_file(&target).is_err());
        let lock = host.lock(
            Path::new("/run/lock/lxc/pve-config-100.lock"),
            Wait::Forever,
        );
        assert!(!lock.unwrap().is_real());
        assert!(!target.exists(), "a dry run must not write");
        let printed = String::from_utf8(host.into_output()).unwrap();
        let t = target.display();
        assert_eq!(
            printed,
            format!(
                "run: pct create 100 local:vztmpl/t.tar.zst\n\
                 write: {t} (12 bytes, mode 0640, atomic)\n  | memory: 512\n\
                 read: {t}\n\
                 remove: {t}\n\
                 read: {t}\n\
                 lock: /run/lock/lxc/pve-config-100.lock\n"
            )
        );
    }

    #[test]
    fn read_only_commands_go_to_the_query_host() {
        let real = RecordingHost::new();
        real.respond_to("pvesh", &["get", "/cluster/nextid"], Output::ok("107\n"));
        let host = DryRunHost::new(Vec::new()).with_queries(real);
        let q = Command::new("pvesh")
            .args(["get", "/cluster/nextid"])
            .read_only();
        assert_eq!(host.run(&q).unwrap().stdout, b"107\n");
        // The same command marked as changing is not executed.
        let c = Command::new("pvesh").args(["get", "/cluster/nextid"]);
        assert_eq!(host.run(&c).unwrap().stdout, b"");
        let printed = String::from_utf8(host.into_output()).unwrap();
        assert_eq!(
            printed,
            "run: pvesh get /cluster/nextid  [executed: read-only]\nrun: pvesh get /cluster/nextid\n"
        );
    }
}
