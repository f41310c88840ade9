//! Engines on the pct back end: a Proxmox container whose process has the engine's stdio, pid
//! and exit status (docs/runtime.md, "Engines on the pct back end").
//!
//! Proxmox runs a container under systemd, not under its caller: `pct start` runs `systemctl
//! start pve-container@<vmid>` (pve-container `src/PVE/LXC.pm` `vm_start` @ 94f55852), whose
//! unit runs `lxc-start -F -n %i` with `StandardOutput=null` (`src/pve-container@.service`). So
//! the container's init can inherit nothing of the engine, and is not the engine's descendant.
//! What bridges the two:
//!
//! - `create` makes a directory in the container's store directory, with a static init
//!   (`proxmox-lxcri-init`, `init/main.rs`) and a listening unix socket, and binds it read-only
//!   into the container at `/dev/.proxmox-lxcri` (`lxc.mount.entry`, on Proxmox's allow-list:
//!   `src/PVE/LXC/Config.pm` `%valid_lxc_conf_keys`; under `dev/`, the tmpfs LXC mounts for
//!   the container, as Proxmox's own `dev/shm` entry in `update_lxc_config` is). The init is
//!   the container's entrypoint, followed by the process's argv.
//! - a *stand-in*, `create`'s child (and so, once `create` exits, the engine's: conmon and the
//!   containerd shim are child subreapers), holds the engine's stdio (or the terminal of
//!   `--console-socket`), accepts the init's connection and passes the three descriptors over
//!   `SCM_RIGHTS`. Its pid is the one in `--pid-file`: it relays signals to the container's
//!   init and exits with the process's status, which the init reports over the socket.
//! - `start` releases the process through a FIFO the stand-in blocks on (runc's exec FIFO,
//!   runc @ 76d9cf5d: `libcontainer/standard_init_linux.go` `(*linuxStandardInit).Init`
//!   reopens `exec.fifo` `O_WRONLY` and blocks there; `libcontainer/container_linux.go`
//!   `(*Container).exec` opens and reads it for `runc start`).

use std::ffi::CString;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use translator::emit::plan::{Action, Arg, ConfigLine, Plan};

/// Where the directory is bound in the container, relative to its rootfs.
pub const MOUNT_TARGET: &str = "dev/.proxmox-lxcri";
/// The init, as the container sees it.
pub const INIT_IN_CT: &str = "/dev/.proxmox-lxcri/init";
/// The hidden first argument that makes the main binary the stand-in.
pub const STANDIN_ARG: &str = "__pct-stand-in";
/// The descriptors the stand-in is handed: the listening socket and the ready pipe.
const LISTEN_FD: RawFd = 3;
const READY_FD: RawFd = 4;

/// What `create` got from the engine for a pct container.
#[derive(Debug, Clone)]
pub struct EngineIo {
    pub pid_file: Option<PathBuf>,
    pub console_socket: Option<PathBuf>,
    /// The static init's bytes (the main binary carries them).
    pub init: &'static [u8],
    /// How long `create` waits for the container's init to connect.
    pub timeout: Duration,
    /// The bundle's `process` members named in [`INHERITED`], recorded in
    /// [`EngineRecord::inherited`].
    pub inherited: Option<serde_json::Map<String, serde_json::Value>>,
}

/// The `process` members a process `lxc-attach` starts gets from the CT's LXC config, as the
/// CT's own process did: `src/lxc/attach.c` `drop_capabilities` applies `lxc.cap.drop`/
/// `lxc.cap.keep`, and `lxc_attach` calls `setup_resource_limits` (`lxc.prlimit`) on the
/// attached pid (lxc @ HEAD).
pub const INHERITED: &[&str] = &["capabilities", "rlimits"];

/// `engine.json`: who stands in for the container's process.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct EngineRecord {
    /// The stand-in's pid: the engine's child, in `--pid-file`.
    pub standin: i32,
    /// The container's init, as the host sees it (`SO_PEERCRED` of its connection).
    pub init: i32,
    /// The bundle's `process` members in [`INHERITED`] at create. The CT's process got what
    /// LXC's config (translated from them) gives it, and so does a process `lxc-attach`
    /// starts, so an `exec` asking for exactly these gets them; other values cannot be given
    /// (pct_verbs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inherited: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: io::Error,
    },
    #[error("{0}")]
    Refused(String),
}

fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> EngineError {
    let what = what.into();
    move |source| EngineError::Io { what, source }
}

/// The directory's socket, init and the FIFO, made before the container exists.
pub struct Channel {
    pub dir: PathBuf,
    pub fifo: PathBuf,
    listener: UnixListener,
}

/// Makes `dir` (mode 0755: LXC binds it as root), the init in it (0555) and its socket, and
/// the exec FIFO `fifo` (0600, outside the directory: nothing in the container can reach it).
pub fn prepare(dir: &Path, fifo: &Path, init: &[u8]) -> Result<Channel, EngineError> {
    let text = dir.to_str().unwrap_or("");
    // An fstab field: LXC splits `lxc.mount.entry` on blanks (`src/lxc/conf.c`
    // `mount_entry_on_generic` via `getmntent_r`); the store root is the operator's choice.
    if text.is_empty() || text.chars().any(|c| c.is_whitespace() || c == '\\') {
        return Err(EngineError::Refused(format!(
            "the state directory {} has a blank or backslash in its path, which an lxc.mount.entry cannot carry",
            dir.display()
        )));
    }
    std::fs::DirBuilder::new()
        .mode(0o755)
        .create(dir)
        .map_err(io_err(format!("create {}", dir.display())))?;
    let init_path = dir.join("init");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o555)
        .open(&init_path)
        .map_err(io_err(format!("create {}", init_path.display())))?;
    f.write_all(init)
        .map_err(io_err(format!("write {}", init_path.display())))?;
    drop(f);
    let sock = dir.join("sock");
    let listener = UnixListener::bind(&sock).map_err(io_err(format!("bind {}", sock.display())))?;
    // The container's init may run as any uid (lxc.init.uid); connecting needs write access.
    std::fs::set_permissions(&sock, std::fs::Permissions::from_mode(0o666))
        .map_err(io_err(format!("chmod {}", sock.display())))?;
    let c = CString::new(fifo.as_os_str().as_encoded_bytes())
        .map_err(|_| EngineError::Refused(format!("{} has a NUL", fifo.display())))?;
    // SAFETY: a valid C string.
    if unsafe { libc::mkfifo(c.as_ptr(), 0o600) } != 0 {
        return Err(io_err(format!("mkfifo {}", fifo.display()))(
            io::Error::last_os_error(),
        ));
    }
    Ok(Channel {
        dir: dir.to_owned(),
        fifo: fifo.to_owned(),
        listener,
    })
}

/// The line that binds the directory into the container.
pub fn mount_line(dir: &Path) -> ConfigLine {
    ConfigLine {
        key: "lxc.mount.entry".into(),
        value: format!(
            "{} {MOUNT_TARGET} none bind,ro,create=dir 0 0",
            dir.display()
        ),
    }
}

/// Puts the init in front of the container's process: the `--entrypoint` of `pct create`, or
/// a raw `lxc.init.cmd` (which wins in LXC, being later in the config). LXC 6 splits the value
/// with `lxc_string_split_quoted`, so a prefix without blanks or quotes keeps the rest as it is.
pub fn wrap_init(plan: &mut Plan) -> Result<(), EngineError> {
    let mut wrapped = false;
    for step in &mut plan.steps {
        match &mut step.action {
            Action::PctCreate { argv } => {
                let mut it = argv.iter_mut();
                while let Some(a) = it.next() {
                    if matches!(a, Arg::Lit(s) if s == "--entrypoint") {
                        if let Some(Arg::Lit(v)) = it.next() {
                            *v = format!("{INIT_IN_CT} {v}");
                            wrapped = true;
                        }
                    }
                }
            }
            Action::WriteConfigLines { lines } => {
                for l in lines.iter_mut().filter(|l| l.key == "lxc.init.cmd") {
                    l.value = format!("{INIT_IN_CT} {}", l.value);
                    wrapped = true;
                }
            }
            _ => {}
        }
    }
    if wrapped {
        Ok(())
    } else {
        Err(EngineError::Refused(
            "the plan starts the image's own init (no entrypoint): an engine needs the process of the bundle"
                .into(),
        ))
    }
}

/// The stand-in as `create` sees it.
pub struct StandIn {
    pub child: std::process::Child,
    ready: File,
}

/// Starts the stand-in (this program again, [`STANDIN_ARG`]) with `stdio` as its standard
/// descriptors (`None`: this process's, the engine's), the listening socket as fd 3 and the
/// ready pipe's write end as fd 4.
pub fn spawn_standin(
    exe: &Path,
    channel: Channel,
    stdio: Option<[OwnedFd; 3]>,
) -> Result<StandIn, EngineError> {
    let (r, w) = pipe()?;
    // Above the standard and target numbers, so that the dup2 in the child cannot clobber them.
    let listen = dup_above(channel.listener.as_raw_fd(), 10)?;
    let w = dup_above(w.as_raw_fd(), 10)?;
    let mut cmd = std::process::Command::new(exe);
    cmd.arg(STANDIN_ARG).arg(&channel.fifo).arg(&channel.dir);
    if let Some([i, o, e]) = stdio {
        cmd.stdin(File::from(i))
            .stdout(File::from(o))
            .stderr(File::from(e));
    }
    let (l, wf) = (listen.as_raw_fd(), w.as_raw_fd());
    // SAFETY: only async-signal-safe dup2 between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            if libc::dup2(l, LISTEN_FD) < 0 || libc::dup2(wf, READY_FD) < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = cmd
        .spawn()
        .map_err(io_err(format!("run {}", exe.display())))?;
    drop((listen, w, channel.listener));
    Ok(StandIn {
        child,
        ready: File::from(r),
    })
}

impl StandIn {
    /// Waits until the stand-in has handed the descriptors to the container's init; its pid.
    pub fn wait_ready(&mut self, timeout: Duration) -> Result<i32, EngineError> {
        let deadline = Instant::now() + timeout;
        let mut got = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(EngineError::Refused(format!(
                    "the container's init did not connect within {}s",
                    timeout.as_secs()
                )));
            }
            if !poll_in(self.ready.as_raw_fd(), left)? {
                continue;
            }
            let mut buf = [0u8; 64];
            let n = self
                .ready
                .read(&mut buf)
                .map_err(io_err("read the stand-in's report"))?;
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        let text = String::from_utf8_lossy(&got);
        text.strip_prefix("ready ")
            .and_then(|p| p.trim().parse().ok())
            .ok_or_else(|| {
                EngineError::Refused(
                    "the stand-in exited before the container's init connected".into(),
                )
            })
    }
}

fn pipe() -> Result<(OwnedFd, OwnedFd), EngineError> {
    let mut fds = [0; 2];
    // SAFETY: a valid two-int buffer.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io_err("pipe")(io::Error::last_os_error()));
    }
    // SAFETY: both are fresh descriptors we own.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

fn dup_above(fd: RawFd, min: RawFd) -> Result<OwnedFd, EngineError> {
    // SAFETY: fcntl on a descriptor we hold.
    let n = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, min) };
    if n < 0 {
        return Err(io_err("dup")(io::Error::last_os_error()));
    }
    // SAFETY: a fresh descriptor.
    Ok(unsafe { OwnedFd::from_raw_fd(n) })
}

/// Whether `fd` became readable (or hung up) within `timeout`.
fn poll_in(fd: RawFd, timeout: Duration) -> Result<bool, EngineError> {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
    // SAFETY: one valid pollfd.
    let n = unsafe { libc::poll(&mut p, 1, ms) };
    if n < 0 {
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::Interrupted {
            return Ok(false);
        }
        return Err(io_err("poll")(e));
    }
    Ok(n > 0)
}

/// `start`: opens the exec FIFO for reading and takes the stand-in's byte, which it writes
/// once it has told the init to run the process.
pub fn release(fifo: &Path, timeout: Duration) -> Result<(), EngineError> {
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(fifo)
        .map_err(io_err(format!("open {}", fifo.display())))?;
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(EngineError::Refused(
                "the container's stand-in did not take the start".into(),
            ));
        }
        // Before the stand-in opens its end, a non-blocking FIFO reads as end of file.
        let mut b = [0u8; 1];
        match f.read(&mut b) {
            Ok(1) => return Ok(()),
            Ok(_) => std::thread::sleep(Duration::from_millis(5).min(left)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                poll_in(f.as_raw_fd(), left)?;
            }
            Err(e) => return Err(io_err(format!("read {}", fifo.display()))(e)),
        }
    }
}

/// Sends the terminal's master over the engine's `--console-socket` (runc's protocol, runc @
/// 76d9cf5d `libcontainer/utils/cmsg_deprecated.go` `SendFile`/`SendRawFd`: one `SCM_RIGHTS`
/// message whose payload is the terminal's name). Returns the slave, which becomes the process's stdio.
pub fn console(socket: &Path) -> Result<OwnedFd, EngineError> {
    // SAFETY: posix_openpt and friends on a fresh descriptor.
    let master = unsafe { libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC) };
    if master < 0 {
        return Err(io_err("open /dev/ptmx")(io::Error::last_os_error()));
    }
    // SAFETY: a fresh descriptor we own.
    let master = unsafe { OwnedFd::from_raw_fd(master) };
    let mut name = [0 as libc::c_char; 128];
    // SAFETY: valid buffers.
    let ok = unsafe {
        libc::grantpt(master.as_raw_fd()) == 0
            && libc::unlockpt(master.as_raw_fd()) == 0
            && libc::ptsname_r(master.as_raw_fd(), name.as_mut_ptr(), name.len()) == 0
    };
    if !ok {
        return Err(io_err("set up the terminal")(io::Error::last_os_error()));
    }
    // SAFETY: ptsname_r wrote a NUL-terminated string.
    let slave_name = unsafe { std::ffi::CStr::from_ptr(name.as_ptr()) }.to_owned();
    // SAFETY: a valid C string.
    let slave = unsafe {
        libc::open(
            slave_name.as_ptr(),
            libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
        )
    };
    if slave < 0 {
        return Err(io_err("open the terminal")(io::Error::last_os_error()));
    }
    // SAFETY: a fresh descriptor we own.
    let slave = unsafe { OwnedFd::from_raw_fd(slave) };
    let sock =
        UnixStream::connect(socket).map_err(io_err(format!("connect {}", socket.display())))?;
    send_fds(&sock, slave_name.as_bytes(), &[master.as_raw_fd()])
        .map_err(io_err(format!("send the terminal to {}", socket.display())))?;
    Ok(slave)
}

/// One message with `payload` and the descriptors `fds` (`SCM_RIGHTS`).
pub fn send_fds(sock: &UnixStream, payload: &[u8], fds: &[RawFd]) -> io::Result<()> {
    let mut iov = libc::iovec {
        iov_base: payload.as_ptr() as *mut libc::c_void,
        iov_len: payload.len(),
    };
    let bytes = std::mem::size_of_val(fds) as u32;
    // SAFETY: CMSG_SPACE is a pure computation.
    let space = unsafe { libc::CMSG_SPACE(bytes) } as usize;
    let mut control = vec![0u64; space.div_ceil(8)];
    // SAFETY: zeroed msghdr is a valid empty message.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = space as _;
    // SAFETY: the control buffer has room for one header and the descriptors.
    unsafe {
        let c = libc::CMSG_FIRSTHDR(&msg);
        (*c).cmsg_level = libc::SOL_SOCKET;
        (*c).cmsg_type = libc::SCM_RIGHTS;
        (*c).cmsg_len = libc::CMSG_LEN(bytes) as _;
        std::ptr::copy_nonoverlapping(fds.as_ptr(), libc::CMSG_DATA(c).cast(), fds.len());
    }
    loop {
        // SAFETY: msg points at live buffers.
        let n = unsafe { libc::sendmsg(sock.as_raw_fd(), &msg, libc::MSG_NOSIGNAL) };
        if n >= 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// The pid of the process at the other end (`SO_PEERCRED`: in this process's pid namespace,
/// so the host pid of the container's init).
fn peer_pid(sock: &UnixStream) -> io::Result<i32> {
    let mut cred = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: a valid ucred buffer and its size.
    let r = unsafe {
        libc::getsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&mut cred as *mut libc::ucred).cast(),
            &mut len,
        )
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(cred.pid)
}

/// `pidfd_open(2)` (Linux 5.3; Proxmox VE 8 runs 6.x).
fn pidfd_open(pid: i32) -> io::Result<OwnedFd> {
    let pid = rustix::process::Pid::from_raw(pid)
        .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
    Ok(rustix::process::pidfd_open(
        pid,
        rustix::process::PidfdFlags::empty(),
    )?)
}

/// `pidfd_send_signal(2)`: the signal reaches the process the pidfd was opened on, or none.
fn pidfd_send_signal(pidfd: &OwnedFd, sig: i32) -> io::Result<()> {
    // SAFETY: a raw syscall on a descriptor we hold, with no siginfo and no flags.
    let r = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            sig,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Whether the other end of `sock` has closed it (what it wrote before may still be queued).
fn peer_gone(sock: &UnixStream) -> io::Result<bool> {
    let mut p = libc::pollfd {
        fd: sock.as_raw_fd(),
        events: libc::POLLRDHUP,
        revents: 0,
    };
    // SAFETY: one valid pollfd, no wait.
    if unsafe { libc::poll(&mut p, 1, 0) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(p.revents & (libc::POLLRDHUP | libc::POLLHUP) != 0)
}

fn block_signals() -> io::Result<OwnedFd> {
    // SAFETY: valid sigset buffers; the mask is inherited by the thread spawned later.
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, std::ptr::null_mut());
        let fd = libc::signalfd(-1, &all, libc::SFD_CLOEXEC);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(OwnedFd::from_raw_fd(fd))
    }
}

fn read_signal(sfd: &File) -> Option<i32> {
    // SAFETY: signalfd_siginfo is plain data.
    let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
    // SAFETY: the buffer is the size the kernel writes.
    let buf = unsafe {
        std::slice::from_raw_parts_mut(
            (&mut info as *mut libc::signalfd_siginfo).cast::<u8>(),
            std::mem::size_of::<libc::signalfd_siginfo>(),
        )
    };
    match (&*sfd).read(buf) {
        Ok(n) if n == buf.len() => Some(info.ssi_signo as i32),
        _ => None,
    }
}

/// Ends this process the way the container's process ended: its exit code, or its signal.
fn mirror(status: i32) -> ! {
    let sig = status & 0x7f;
    if sig == 0 {
        std::process::exit((status >> 8) & 0xff);
    }
    // SAFETY: the default action of the signal, unblocked, kills this process.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, sig);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        libc::raise(sig);
    }
    std::process::exit(128 + sig)
}

/// The stand-in's main: `args` are the FIFO and the directory. Never returns.
pub fn standin_main(args: &[std::ffi::OsString]) -> ! {
    let code = match standin(args) {
        Ok(status) => mirror(status),
        Err(e) => {
            let _ = writeln!(io::stderr(), "proxmox-lxcri stand-in: {e}");
            125
        }
    };
    std::process::exit(code)
}

fn standin(args: &[std::ffi::OsString]) -> Result<i32, EngineError> {
    let [fifo, dir] = args else {
        return Err(EngineError::Refused("usage: FIFO DIR".into()));
    };
    let (fifo, dir) = (PathBuf::from(fifo), PathBuf::from(dir));
    // SAFETY: the descriptors `create` put there for us ([`spawn_standin`]).
    let listener = unsafe { UnixListener::from_raw_fd(LISTEN_FD) };
    // SAFETY: as above.
    let mut ready = unsafe { File::from_raw_fd(READY_FD) };
    for fd in [LISTEN_FD, READY_FD] {
        // SAFETY: fcntl on our own descriptors.
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    }
    let sfd = File::from(block_signals().map_err(io_err("signalfd"))?);
    let (mut sock, _) = listener.accept().map_err(io_err("accept"))?;
    // Only the first process of the container gets this far: the socket goes away now.
    drop(listener);
    let _ = std::fs::remove_file(dir.join("sock"));
    let init = peer_pid(&sock).map_err(io_err("SO_PEERCRED"))?;
    // Signals are relayed through a pidfd, never by pid: once the init is gone its pid can be
    // another process's, and a signal arriving then must reach nothing. The pidfd is the
    // init's if the init still holds its end of the connection after pidfd_open (it holds it
    // for as long as it lives; its child gets none, std's sockets being close-on-exec).
    let init_fd = pidfd_open(init).map_err(io_err("pidfd_open"))?;
    if peer_gone(&sock).map_err(io_err("poll"))? {
        return Err(EngineError::Refused(
            "the container's init went away as it connected".into(),
        ));
    }
    let mut hello = [0u8; 1];
    sock.read_exact(&mut hello)
        .map_err(io_err("read the init's hello"))?;
    if hello != *b"H" {
        return Err(EngineError::Refused("the init did not say hello".into()));
    }
    send_fds(&sock, b"F", &[0, 1, 2]).map_err(io_err("send stdio"))?;
    // The engine's descriptors now live in the container; this process keeps none, so the
    // engine sees end of file when the process closes them.
    let null = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
        .map_err(io_err("open /dev/null"))?;
    for fd in 0..3 {
        // SAFETY: dup2 onto our standard descriptors.
        unsafe { libc::dup2(null.as_raw_fd(), fd) };
    }
    let _ = writeln!(ready, "ready {init}");
    drop(ready);
    // The release: blocked in open(2) until `start` opens the FIFO for reading.
    let mut to_init = sock.try_clone().map_err(io_err("dup the socket"))?;
    std::thread::spawn(move || {
        // `start` is answered first: a process that ends at once makes this program exit
        // (with its status) before a later write could happen.
        if let Ok(mut f) = std::fs::OpenOptions::new().write(true).open(&fifo) {
            if f.write_all(b"0").is_ok() {
                drop(f);
                let _ = to_init.write_all(b"S");
            }
        }
    });
    let mut status = Vec::new();
    loop {
        let mut p = [
            libc::pollfd {
                fd: sock.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: sfd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: two valid pollfds.
        if unsafe { libc::poll(p.as_mut_ptr(), 2, -1) } < 0 {
            continue;
        }
        if p[1].revents != 0 {
            if let Some(sig) = read_signal(&sfd).filter(|&s| s != libc::SIGCHLD) {
                // The init forwards it. A gone init (ESRCH) takes nothing: its status or end of
                // file follows on the socket.
                let _ = pidfd_send_signal(&init_fd, sig);
            }
        }
        if p[0].revents != 0 {
            let mut buf = [0u8; 16];
            let n = sock.read(&mut buf).unwrap_or(0);
            if n == 0 {
                // The init died without a word: only SIGKILL does that (from `kill`, or the
                // container being stopped).
                return Ok(libc::SIGKILL);
            }
            status.extend_from_slice(&buf[..n]);
            if status.len() >= 5 && status[0] == b'X' {
                return Ok(i32::from_le_bytes([
                    status[1], status[2], status[3], status[4],
                ]));
            }
        }
    }
}

/// Whether `pid` exists. A pid from `engine.json` (untrusted store data) is only ever read for
/// liveness, never signalled without the container's identity check first.
pub fn alive(pid: i32) -> bool {
    pid > 0 && Path::new(&format!("/proc/{pid}")).exists()
}

#[cfg(test)]
mod tests;
