//! A host that records every call as a typed [`HostCall`] and answers from a script.
//!
//! Public (not `cfg(test)`) so that integration tests, the CLI's own tests and later fault
//! injection can drive the executor through it. Files live in memory; locks are pretend.

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use super::{Command, FileMode, Host, HostCall, HostError, HostLock, Output};
use crate::bundle::Rootfs;
use crate::lock::Wait;
use crate::pack::{PackConfig, PackReport};

type Responder = Box<dyn FnMut(&Command) -> Option<Output> + Send>;
type CallMatcher = Box<dyn Fn(&HostCall) -> bool + Send>;
type RunEffect = Box<dyn FnMut(&Command, &mut BTreeMap<PathBuf, Vec<u8>>) + Send>;

/// Records calls; answers `run` from responders, then from a queue, then with exit 0 and no
/// output. Can fail any call by index or by a predicate.
#[derive(Default)]
pub struct RecordingHost {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    calls: Vec<HostCall>,
    fail_at: BTreeMap<usize, String>,
    fail_first: Vec<(CallMatcher, String)>,
    responders: Vec<Responder>,
    queued: VecDeque<Output>,
    files: BTreeMap<PathBuf, Vec<u8>>,
    effects: Vec<RunEffect>,
}

impl std::fmt::Debug for RecordingHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.inner();
        f.debug_struct("RecordingHost")
            .field("calls", &inner.calls)
            .field("fail_at", &inner.fail_at)
            .field("queued", &inner.queued.len())
            .field("files", &inner.files.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl RecordingHost {
    pub fn new() -> Self {
        Self::default()
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        // A test thread that panicked while holding the lock must not hide the calls log.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a responder for `run`: the first responder returning `Some` answers the call.
    pub fn respond(&self, f: impl FnMut(&Command) -> Option<Output> + Send + 'static) -> &Self {
        self.inner().responders.push(Box::new(f));
        self
    }

    /// Adds an effect of `run` on the in-memory files (what `pct create` writes, for example),
    /// applied to every run before it is answered.
    pub fn on_run(
        &self,
        f: impl FnMut(&Command, &mut BTreeMap<PathBuf, Vec<u8>>) + Send + 'static,
    ) -> &Self {
        self.inner().effects.push(Box::new(f));
        self
    }

    /// Answers every run of `program` whose arguments start with `args_prefix` with `output`.
    pub fn respond_to(&self, program: &str, args_prefix: &[&str], output: Output) -> &Self {
        let program = program.to_owned();
        let prefix: Vec<String> = args_prefix.iter().map(|s| (*s).to_owned()).collect();
        self.respond(move |cmd| {
            let p: Vec<&str> = prefix.iter().map(String::as_str).collect();
            (cmd.program == program.as_str() && cmd.args_start_with(&p)).then(|| output.clone())
        })
    }

    /// Queues an output for the next `run` no responder answers.
    pub fn push_output(&self, output: Output) -> &Self {
        self.inner().queued.push_back(output);
        self
    }

    /// Makes call number `index` (0-based, counting every kind of call) fail with
    /// [`HostError::Injected`]. The call is still recorded.
    pub fn fail_call(&self, index: usize, message: impl Into<String>) -> &Self {
        self.inner().fail_at.insert(index, message.into());
        self
    }

    /// Makes the first call matching `pred` fail with [`HostError::Injected`].
    pub fn fail_first(
        &self,
        pred: impl Fn(&HostCall) -> bool + Send + 'static,
        message: impl Into<String>,
    ) -> &Self {
        self.inner()
            .fail_first
            .push((Box::new(pred), message.into()));
        self
    }

    /// Seeds the in-memory file system.
    pub fn with_file(&self, path: impl Into<PathBuf>, contents: impl Into<Vec<u8>>) -> &Self {
        self.inner().files.insert(path.into(), contents.into());
        self
    }

    /// Every call made so far, in order.
    pub fn calls(&self) -> Vec<HostCall> {
        self.inner().calls.clone()
    }

    /// The commands run so far, in order.
    pub fn commands(&self) -> Vec<Command> {
        self.inner()
            .calls
            .iter()
            .filter_map(|c| match c {
                HostCall::Run(cmd) => Some(cmd.clone()),
                _ => None,
            })
            .collect()
    }

    /// The current in-memory content of `path`.
    pub fn file(&self, path: &Path) -> Option<Vec<u8>> {
        self.inner().files.get(path).cloned()
    }

    /// Logs the call and returns the injected failure for it, if any.
    fn record(&self, call: HostCall) -> Result<MutexGuard<'_, Inner>, HostError> {
        let mut inner = self.inner();
        let index = inner.calls.len();
        let by_pred = inner.fail_first.iter().position(|(pred, _)| pred(&call));
        inner.calls.push(call);
        if let Some(message) = inner.fail_at.remove(&index) {
            return Err(HostError::Injected {
                call: index,
                message,
            });
        }
        if let Some(pos) = by_pred {
            let (_, message) = inner.fail_first.remove(pos);
            return Err(HostError::Injected {
                call: index,
                message,
            });
        }
        Ok(inner)
    }
}

impl Host for RecordingHost {
    fn run(&self, cmd: &Command) -> Result<Output, HostError> {
        let mut inner = self.record(HostCall::Run(cmd.clone()))?;
        let Inner { effects, files, .. } = &mut *inner;
        for e in effects.iter_mut() {
            e(cmd, files);
        }
        for r in inner.responders.iter_mut() {
            if let Some(out) = r(cmd) {
                return Ok(out);
            }
        }
        Ok(inner.queued.pop_front().unwrap_or_else(|| Output::ok("")))
    }

    /// Recorded, never started: there is no pid (0).
    fn spawn(
        &self,
        cmd: &Command,
        terminal: Option<std::os::fd::BorrowedFd<'_>>,
    ) -> Result<u32, HostError> {
        drop(self.record(HostCall::Spawn {
            cmd: cmd.clone(),
            terminal: terminal.is_some(),
        })?);
        Ok(0)
    }

    fn read_file(&self, path: &Path) -> Result<Vec<u8>, HostError> {
        let inner = self.record(HostCall::ReadFile {
            path: path.to_owned(),
        })?;
        inner.files.get(path).cloned().ok_or_else(|| {
            HostError::io(
                "read",
                path,
                std::io::Error::from(std::io::ErrorKind::NotFound),
            )
        })
    }

    /// The names below `path` among the in-memory files (a directory exists while a file
    /// under it does).
    fn list_dir(&self, path: &Path) -> Result<Vec<std::ffi::OsString>, HostError> {
        let inner = self.record(HostCall::ListDir {
            path: path.to_owned(),
        })?;
        let names: std::collections::BTreeSet<std::ffi::OsString> = inner
            .files
            .keys()
            .filter_map(|f| f.strip_prefix(path).ok())
            .filter_map(|rest| rest.components().next())
            .map(|c| c.as_os_str().to_owned())
            .collect();
        if names.is_empty() {
            return Err(HostError::io(
                "list",
                path,
                std::io::Error::from(std::io::ErrorKind::NotFound),
            ));
        }
        Ok(names.into_iter().collect())
    }

    fn write_file(&self, path: &Path, contents: &[u8], mode: FileMode) -> Result<(), HostError> {
        let mut inner = self.record(HostCall::WriteFile {
            path: path.to_owned(),
            contents: contents.to_vec(),
            mode,
        })?;
        inner.files.insert(path.to_owned(), contents.to_vec());
        Ok(())
    }

    fn remove_file(&self, path: &Path) -> Result<(), HostError> {
        let mut inner = self.record(HostCall::RemoveFile {
            path: path.to_owned(),
        })?;
        inner.files.remove(path);
        Ok(())
    }

    fn lock(&self, path: &Path, wait: Wait) -> Result<HostLock, HostError> {
        drop(self.record(HostCall::Lock {
            path: path.to_owned(),
            wait,
        })?);
        Ok(HostLock::pretend(path))
    }

    fn pack_rootfs(
        &self,
        rootfs: &Rootfs,
        output: &Path,
        config: &PackConfig,
    ) -> Result<PackReport, HostError> {
        drop(self.record(HostCall::PackRootfs {
            rootfs: rootfs.path().to_owned(),
            output: output.to_owned(),
            config: config.clone(),
        })?);
        Ok(PackReport::default())
    }

    fn pack_image(
        &self,
        image: &crate::image::Opened,
        output: &Path,
        config: &PackConfig,
    ) -> Result<PackReport, HostError> {
        drop(self.record(HostCall::PackImage {
            image: image.source.reference.clone(),
            output: output.to_owned(),
            config: config.clone(),
        })?);
        Ok(PackReport::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_every_call_in_order() {
        let host = RecordingHost::new();
        host.run(&Command::new("pct").args(["start", "100"]))
            .unwrap();
        host.write_file(Path::new("/a"), b"x", FileMode::Exact(0o644))
            .unwrap();
        assert_eq!(host.read_file(Path::new("/a")).unwrap(), b"x");
        host.remove_file(Path::new("/a")).unwrap();
        let lock = host.lock(Path::new("/l"), Wait::Forever).unwrap();
        assert!(!lock.is_real());
        assert_eq!(
            host.calls(),
            vec![
                HostCall::Run(Command::new("pct").args(["start", "100"])),
                HostCall::WriteFile {
                    path: "/a".into(),
                    contents: b"x".to_vec(),
                    mode: FileMode::Exact(0o644)
                },
                HostCall::ReadFile { path: "/a".into() },
                HostCall::RemoveFile { path: "/a".into() },
                HostCall::Lock {
                    path: "/l".into(),
                    wait: Wait::Forever
                },
            ]
        );
        assert!(matches!(
            host.read_file(Path::new("/a")),
            Err(HostError::Io { op: "read", .. })
        ));
    }

    #[test]
    fn responders_then_queue_then_default() {
        let host = RecordingHost::new();
        host.respond_to(
            "pvesh",
            &["get", "/cluster/nextid"],
            Output::ok("\"105\"\n"),
        );
        host.push_output(Output::failed(1, "no"));
        let nextid =
            Command::new("pvesh").args(["get", "/cluster/nextid", "--output-format", "json"]);
        assert_eq!(host.run(&nextid).unwrap().stdout, b"\"105\"\n");
        let other = Command::new("pct").arg("list");
        assert_eq!(host.run(&other).unwrap(), Output::failed(1, "no"));
        assert_eq!(host.run(&other).unwrap(), Output::ok(""));
        assert_eq!(host.run(&nextid).unwrap().stdout, b"\"105\"\n");
    }

    #[test]
    fn fails_the_nth_call_once_and_records_it() {
        let host = RecordingHost::new();
        host.fail_call(1, "disk full");
        let cmd = Command::new("true");
        assert!(host.run(&cmd).is_ok());
        let err = host
            .write_file(Path::new("/x"), b"", FileMode::Exact(0o600))
            .unwrap_err();
        assert_eq!(err.to_string(), "injected failure at call #1: disk full");
        assert_eq!(
            host.file(Path::new("/x")),
            None,
            "failed write must not land"
        );
        assert!(host.run(&cmd).is_ok());
        assert_eq!(host.calls().len(), 3);
    }

    #[test]
    fn fails_first_matching_call() {
        let host = RecordingHost::new();
        host.fail_first(
            |c| matches!(c, HostCall::Run(cmd) if cmd.args_start_with(&["create"])),
            "pct create broke",
        );
        assert!(host.run(&Command::new("pct").arg("status")).is_ok());
        assert!(matches!(
            host.run(&Command::new("pct").arg("create")),
            Err(HostError::Injected { call: 1, .. })
        ));
        assert!(host.run(&Command::new("pct").arg("create")).is_ok());
    }
}
