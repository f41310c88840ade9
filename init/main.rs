//! `proxmox-lxcri-init`: the first process of a Proxmox container an engine created
//! (docs/runtime.md, "Engines on the pct back end").
//!
//! Proxmox starts the container under systemd (pve-container `src/pve-container@.service` @
//! 94f55852: `ExecStart=/usr/bin/lxc-start -F -n %i`, `StandardOutput=null`), so its init
//! inherits nothing of the engine. This program is the container's `lxc.init.cmd` (followed by
//! the OCI process's argv): it connects to the unix socket next to itself (the directory
//! `lxc.mount.entry` binds read-only into the container), receives the engine's stdin, stdout
//! and stderr over `SCM_RIGHTS`, waits for `start` (runc's create/start split: runc's init
//! blocks on the exec FIFO, runc @ 76d9cf5d `libcontainer/standard_init_linux.go`
//! `(*linuxStandardInit).Init`), then runs the
//! process as its child, forwards every signal it gets to it, reaps orphans as a pid 1 must,
//! and reports the child's wait status over the socket before exiting with it.
//!
//! It is built by build.rs as a static executable with nothing but std and glibc (it runs in
//! any image, with no libc of its own). The wire protocol is one byte per message:
//!
//! | from | byte | payload |
//! | --- | --- | --- |
//! | init | `H` | none: "I am the container's init" (the host reads the pid with `SO_PEERCRED`) |
//! | host | `F` | three descriptors (`SCM_RIGHTS`): the new 0, 1 and 2 |
//! | host | `S` | none: run the process |
//! | init | `X` | the child's wait status, 4 bytes little-endian |
//!
//! End of file from the host before `S` (the create failed, or `delete` ran) makes the init
//! exit 1 without running anything.

#![cfg_attr(not(all(target_os = "linux", target_env = "gnu")), allow(unused))]

use std::ffi::{CString, OsStr};
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;

#[allow(non_camel_case_types)]
type c_int = i32;

/// glibc's `sigset_t`: 1024 bits.
#[repr(C)]
struct SigSet([u64; 16]);

#[repr(C)]
struct IoVec {
    base: *mut u8,
    len: usize,
}

/// `struct msghdr` of 64-bit glibc.
#[repr(C)]
struct MsgHdr {
    name: *mut u8,
    namelen: u32,
    iov: *mut IoVec,
    iovlen: usize,
    control: *mut u8,
    controllen: usize,
    flags: c_int,
}

/// `struct cmsghdr` of 64-bit glibc.
#[repr(C)]
struct CmsgHdr {
    len: usize,
    level: c_int,
    kind: c_int,
}

#[repr(C)]
struct PollFd {
    fd: c_int,
    events: i16,
    revents: i16,
}

/// `struct signalfd_siginfo`: 128 bytes, the signal number first.
#[repr(C)]
struct SignalfdInfo {
    signo: u32,
    rest: [u8; 124],
}

extern "C" {
    fn sigfillset(set: *mut SigSet) -> c_int;
    fn sigemptyset(set: *mut SigSet) -> c_int;
    fn sigprocmask(how: c_int, set: *const SigSet, old: *mut SigSet) -> c_int;
    fn signalfd(fd: c_int, mask: *const SigSet, flags: c_int) -> c_int;
    fn recvmsg(fd: c_int, msg: *mut MsgHdr, flags: c_int) -> isize;
    fn poll(fds: *mut PollFd, n: u64, timeout: c_int) -> c_int;
    fn fork() -> c_int;
    fn waitpid(pid: c_int, status: *mut c_int, options: c_int) -> c_int;
    fn kill(pid: c_int, sig: c_int) -> c_int;
    fn dup2(old: c_int, new: c_int) -> c_int;
    fn close(fd: c_int) -> c_int;
    fn setsid() -> c_int;
    fn ioctl(fd: c_int, req: u64, ...) -> c_int;
    fn isatty(fd: c_int) -> c_int;
    fn execvp(file: *const i8, argv: *const *const i8) -> c_int;
    fn _exit(code: c_int) -> !;
}

const SIG_SETMASK: c_int = 2;
const SFD_CLOEXEC: c_int = 0o2000000;
const SOL_SOCKET: c_int = 1;
const SCM_RIGHTS: c_int = 1;
const MSG_CMSG_CLOEXEC: c_int = 0x4000_0000;
const POLLIN: i16 = 1;
const WNOHANG: c_int = 1;
const SIGCHLD: u32 = 17;
const TIOCSCTTY: u64 = 0x540E;

fn die(what: &str) -> ! {
    let e = std::io::Error::last_os_error();
    let _ = writeln!(std::io::stderr(), "proxmox-lxcri-init: {what}: {e}");
    // SAFETY: _exit has no preconditions.
    unsafe { _exit(1) }
}

/// The socket next to this program: `lxc.init.cmd` names it by its absolute path.
fn socket_path() -> PathBuf {
    let me = std::env::args_os().next().unwrap_or_default();
    let me = PathBuf::from(me);
    me.parent().unwrap_or(std::path::Path::new("/")).join("sock")
}

/// Reads one message byte, and the descriptors that come with it.
fn recv(sock: &UnixStream, fds: &mut Vec<RawFd>) -> Option<u8> {
    let mut byte = 0u8;
    let mut iov = IoVec {
        base: &mut byte,
        len: 1,
    };
    // Room for a cmsghdr and 3 ints, 8-byte aligned.
    let mut control = [0u64; 6];
    let mut msg = MsgHdr {
        name: std::ptr::null_mut(),
        namelen: 0,
        iov: &mut iov,
        iovlen: 1,
        control: control.as_mut_ptr().cast(),
        controllen: std::mem::size_of_val(&control),
        flags: 0,
    };
    loop {
        // SAFETY: msg points at live buffers of the given sizes.
        let n = unsafe { recvmsg(sock.as_raw_fd(), &mut msg, MSG_CMSG_CLOEXEC) };
        if n < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        if n <= 0 {
            return None;
        }
        break;
    }
    let hdr = std::mem::size_of::<CmsgHdr>();
    if msg.controllen >= hdr {
        // SAFETY: the kernel wrote a cmsghdr at the start of `control`.
        let c = unsafe { &*(control.as_ptr() as *const CmsgHdr) };
        if c.level == SOL_SOCKET && c.kind == SCM_RIGHTS && c.len >= hdr {
            let n = (c.len - hdr) / 4;
            // SAFETY: the descriptors follow the header, within `control`.
            let data = unsafe { (control.as_ptr() as *const u8).add(hdr) as *const c_int };
            for i in 0..n.min(3) {
                // SAFETY: i < n, inside what the kernel wrote.
                fds.push(unsafe { *data.add(i) });
            }
        }
    }
    Some(byte)
}

fn main() {
    let argv: Vec<CString> = std::env::args_os()
        .skip(1)
        .map(|a| CString::new(OsStr::as_bytes(&a)).unwrap_or_default())
        .collect();
    if argv.is_empty() {
        let _ = writeln!(std::io::stderr(), "proxmox-lxcri-init: no process to run");
        std::process::exit(2);
    }
    // Every signal is taken synchronously from a signalfd, in both phases.
    let mut all = SigSet([0; 16]);
    // SAFETY: valid sigset buffers.
    let sfd = unsafe {
        sigfillset(&mut all);
        sigprocmask(SIG_SETMASK, &all, std::ptr::null_mut());
        signalfd(-1, &all, SFD_CLOEXEC)
    };
    if sfd < 0 {
        die("signalfd");
    }
    let mut sock = match UnixStream::connect(socket_path()) {
        Ok(s) => s,
        Err(e) => {
            let _ = writeln!(
                std::io::stderr(),
                "proxmox-lxcri-init: connect {}: {e}",
                socket_path().display()
            );
            std::process::exit(1);
        }
    };
    if sock.write_all(b"H").is_err() {
        die("hello");
    }
    let mut fds = Vec::new();
    if recv(&sock, &mut fds) != Some(b'F') || fds.len() != 3 {
        std::process::exit(1);
    }
    // Wait for `S`, or a signal: `kill` before `start` ends the container (runc's init, blocked
    // on its FIFO, dies of the signal the same way).
    loop {
        let mut p = [
            PollFd {
                fd: sock.as_raw_fd(),
                events: POLLIN,
                revents: 0,
            },
            PollFd {
                fd: sfd,
                events: POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: two valid pollfds.
        if unsafe { poll(p.as_mut_ptr(), 2, -1) } < 0 {
            continue;
        }
        if p[1].revents != 0 {
            let sig = read_signal(sfd);
            if sig != SIGCHLD {
                report(&mut sock, sig as i32 & 0x7f);
                std::process::exit(128 + sig as i32);
            }
        }
        if p[0].revents != 0 {
            match recv(&sock, &mut Vec::new()) {
                Some(b'S') => break,
                _ => std::process::exit(1),
            }
        }
    }
    // SAFETY: fork in a single-threaded program.
    let child = unsafe { fork() };
    if child < 0 {
        die("fork");
    }
    if child == 0 {
        let tty = fds.iter().all(|&fd| unsafe { isatty(fd) } == 1);
        // SAFETY: plain descriptor and signal-mask calls in the child, then exec.
        unsafe {
            for (i, fd) in fds.iter().enumerate() {
                dup2(*fd, i as c_int);
            }
            for fd in &fds {
                if *fd > 2 {
                    close(*fd);
                }
            }
            close(sfd);
            if tty {
                // A terminal (`--console-socket`): the process leads its own session with it.
                setsid();
                ioctl(0, TIOCSCTTY, 0);
            }
            // No signal blocked, whatever mask LXC restored for this init (its caller's,
            // lxc `src/lxc/start.c` `do_start`): as a process systemd or runc starts.
            sigemptyset(&mut all);
            sigprocmask(SIG_SETMASK, &all, std::ptr::null_mut());
            let mut ptrs: Vec<*const i8> = argv.iter().map(|a| a.as_ptr()).collect();
            ptrs.push(std::ptr::null());
            execvp(ptrs[0], ptrs.as_ptr());
        }
        let e = std::io::Error::last_os_error();
        let _ = writeln!(
            std::io::stderr(),
            "proxmox-lxcri-init: exec {}: {e}",
            argv[0].to_string_lossy()
        );
        // SAFETY: _exit has no preconditions. 127: a shell's "command not found".
        unsafe { _exit(127) }
    }
    for fd in &fds {
        // SAFETY: our copies; the child has its own.
        unsafe { close(*fd) };
    }
    // The process runs: forward signals, reap every child, report the process's status.
    loop {
        let sig = read_signal(sfd);
        if sig != SIGCHLD {
            // SAFETY: kill has no memory preconditions.
            unsafe { kill(child, sig as c_int) };
            continue;
        }
        loop {
            let mut status = 0;
            // SAFETY: a valid status pointer.
            let pid = unsafe { waitpid(-1, &mut status, WNOHANG) };
            if pid <= 0 {
                break;
            }
            if pid == child {
                report(&mut sock, status);
                let code = if status & 0x7f == 0 {
                    (status >> 8) & 0xff
                } else {
                    128 + (status & 0x7f)
                };
                std::process::exit(code);
            }
        }
    }
}

fn read_signal(sfd: c_int) -> u32 {
    let mut info = SignalfdInfo {
        signo: 0,
        rest: [0; 124],
    };
    // SAFETY: a File over the signalfd would close it on drop; read through a borrowed one.
    let mut f = std::mem::ManuallyDrop::new(unsafe {
        <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(sfd)
    });
    // SAFETY: SignalfdInfo is plain bytes of the size the kernel writes.
    let buf = unsafe {
        std::slice::from_raw_parts_mut(
            (&mut info as *mut SignalfdInfo).cast::<u8>(),
            std::mem::size_of::<SignalfdInfo>(),
        )
    };
    match f.read(buf) {
        Ok(128) => info.signo,
        _ => 0,
    }
}

/// `X` and the wait status; a host that went away cannot be told.
fn report(sock: &mut UnixStream, status: i32) {
    let mut m = [b'X', 0, 0, 0, 0];
    m[1..].copy_from_slice(&status.to_le_bytes());
    let _ = sock.write_all(&m);
}
